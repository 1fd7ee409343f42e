#!/bin/bash
# guests/stage5/migrate-test.sh - stage 5's migration checks on this host's KVM (SeaBIOS and a
# boot sector run on any KVM), for tests/checks/stage5-migration.sh. The guest is
# guests/stage5/count-test.img: it counts on COM1, rewrites RAM and a disk sector as it goes
# ("BAD memory" when a page came across stale) and answers its console ('q': power off).
#
#   migrate-test.sh snapshot M       snapshot, the first process ends, a second one restores
#   migrate-test.sh pingpong M N     N live migrations back and forth between two processes
#   migrate-test.sh refuse           the destination has -m 32M: it refuses, the source runs on
#   migrate-test.sh killed           the destination is gone (refused, then dead mid-stream)
#   migrate-test.sh manager          the same through minivisor-manager and minivisor-ctl:
#                                    snapshot, migrate, restore (create -- -incoming file:)
#   migrate-test.sh unsaved          bad -incoming arguments: exit 2, one line
#   migrate-test.sh devices M N      pingpong M N with network cards and USB devices
#   migrate-test.sh nicdiff          the destination has another network card: it refuses
#   migrate-test.sh badstreams       a snapshot damaged each way, restored: truncated (in its
#                                    RAM image), flipped, version, size (a section of the wrong
#                                    size), ram (a page past RAM), ramflip (a byte of the RAM
#                                    image); lines "KIND: ..." 
# Each prints what it saw, as lines the check matches ("continues: yes", "vmm-exit: N", ...).
# Waiting is on what the guest prints (with a time limit), never on a fixed sleep.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MV=$ROOT/stage5-full-machine/minivisor
CTL=$ROOT/stage5-full-machine/manager/minivisor-ctl
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
PORT=$((20000 + $$ % 20000))

cp "$ROOT/guests/stage5/count-test.img" "$T/disk.img"
truncate -s 1M "$T/disk.img"   # SeaBIOS boots a disk of whole cylinders (AHCI)

# wait_for FILE REGEX [SECONDS]: until FILE has a line matching REGEX; 1 when it never does.
wait_for() {
	local i
	for ((i = 0; i < ${3:-60} * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "never saw /$2/ in $(basename "$1")"
	return 1
}

# The last count a log shows.
last_count() {   # whole lines only (CR LF): the one the pause cut goes on in the next log
	grep -ao "count-test: count [0-9]*"$'\r' "$1" | tail -1 | tr -d '\r' | awk '{print $3}'
}

# vmm NAME MACHINE [FLAGS...]: a minivisor in the background, its console a FIFO (kept open
# here, so it never sees the end of its input), its output in $T/NAME.log.
vmm() {
	local name=$1 m=$2
	shift 2
	mkfifo "$T/$name.in"
	"$MV" -M "$m" -m 64M -vga none -drive "file=$T/disk.img,format=raw" \
		-control "$T/$name.ctl" "$@" <"$T/$name.in" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "${name}_pid=$!"
	exec {fd}>"$T/$name.in"
	eval "${name}_in=$fd"
}

# The guest's console answers (an echo), then 'q' powers it off: the VMM ends with 0.
finish() {
	local name=$1 pid in
	eval "pid=\$${name}_pid in=\$${name}_in"
	printf 'x' >&"$in"
	wait_for "$T/$name.log" 'count-test: echo x' 30 && echo "console answers: yes"
	printf 'q' >&"$in"
	wait "$pid"
	echo "vmm-exit: $?"
	grep -c 'BAD memory' "$T/$name.log" | sed 's/^/bad-memory-lines: /'
	grep -h 'minivisor:' "$T"/*.log | sort -u | grep -v 'guest powered off' | tail -5
	echo "disk-sector: $(dd if="$T/disk.img" bs=512 skip=9 count=1 2>/dev/null | head -c 24)"
}

# The first whole count a log shows after a move is the next one (or, if the source had
# started printing it, the one after).
continues() {   # BEFORE LOG [EARLIER]: EARLIER 1 also accepts BEFORE itself (see snapshot)
	local before=$1 log=$2 first
	first=$(grep -Eo '^count-test: count [0-9]+' "$log" | head -1 | awk '{print $3}')
	if [ -n "$first" ] && [ "$first" -gt $((before - ${3:-0})) ] && [ "$first" -le $((before + 2)) ]; then
		echo "continues: yes ($before -> $first)"
	else
		echo "continues: NO (before $before, after ${first:-nothing})"
	fi
}

snapshot() {
	vmm a "$1"
	wait_for "$T/a.log" 'count-test: count 15' || return 1
	"$CTL" control "$T/a.ctl" snapshot "$T/snap.bin"
	local before   # the last count the source printed before it paused for the snapshot
	before=$(sed '/minivisor: snapshot/q' "$T/a.log" | grep -Eo 'count-test: count [0-9]+' |
		tail -1 | awk '{print $3}')
	kill "$a_pid"; wait "$a_pid" 2>/dev/null
	echo "snapshot-size: $(stat -c %s "$T/snap.bin") bytes in the file," \
		"$(du -k "$T/snap.bin" | cut -f1) KiB on disk (du), RAM $((64 << 20)) bytes"
	vmm b "$1" -incoming "file:$T/snap.bin"
	wait_for "$T/b.log" "count-test: count $((before + 10))" || return 1
	# The "snapshot ... written" line comes after the guest resumed: on a busy host the
	# source may print one more count before it, which the restored guest then prints again.
	continues "$before" "$T/b.log" 1
	finish b
}

pingpong() {   # MACHINE N [FLAGS...]: FLAGS on both ends (network cards, USB, ...)
	local m=$1 n=$2 from=a to=b before
	shift 2
	vmm a "$m" "$@"
	wait_for "$T/a.log" 'count-test: count 10' || return 1
	for ((i = 1; i <= n; i++)); do
		: >"$T/$to.log.keep"
		[ -e "$T/$to.log" ] && mv "$T/$to.log" "$T/$to.log.$i"
		rm -f "$T/$to.in"
		vmm "$to" "$m" "$@" -incoming "tcp:127.0.0.1:$((PORT + i))"
		wait_for "$T/$to.log" 'waiting for a migration' || return 1
		"$CTL" control "$T/$from.ctl" migrate "tcp:127.0.0.1:$((PORT + i))" >"$T/ctl.$i" ||
			{ cat "$T/ctl.$i"; return 1; }
		local pid
		eval "pid=\$${from}_pid"
		wait "$pid"
		local rc=$?
		before=$(last_count "$T/$from.log")
		wait_for "$T/$to.log" "count-test: count $((before + 3))" || return 1
		echo "migration $i: $from -> $to, source exit $rc, $(continues "$before" "$T/$to.log")," \
			"$(grep '^ok' "$T/ctl.$i" | grep -o 'downtime [0-9.]* ms')"
		local t=$from
		from=$to
		to=$t
	done
	finish "$from"
}

# Migrate a to a destination started with other options (the arguments) than the source's:
# what each side said ("migrate-exit", "destination-exit", the destination's lines).
to_refusing_destination() {
	"$MV" "$@" -incoming "tcp:127.0.0.1:$PORT" </dev/null >"$T/dst.log" 2>&1 &
	local dst=$!
	PIDS+=($dst)
	wait_for "$T/dst.log" 'waiting for a migration' || return 1
	"$CTL" control "$T/a.ctl" migrate "tcp:127.0.0.1:$PORT"
	echo "migrate-exit: $?"
	wait "$dst"
	echo "destination-exit: $?"
	sed 's/^/destination: /' "$T/dst.log"
}

refuse() {
	vmm a pc
	wait_for "$T/a.log" 'count-test: count 5' || return 1
	to_refusing_destination -M pc -m 32M -vga none -drive "file=$T/disk.img,format=raw" ||
		return 1
	local before
	before=$(last_count "$T/a.log")
	wait_for "$T/a.log" "count-test: count $((before + 5))" && echo "source counts on: yes"
	finish a
}

killed() {
	vmm a pc
	wait_for "$T/a.log" 'count-test: count 5' || return 1
	# Nobody listens: refused at once.
	"$CTL" control "$T/a.ctl" migrate "tcp:127.0.0.1:$PORT"
	# A destination that takes the configuration, then dies after 200 KB of RAM.
	python3 - "$((PORT + 1))" >"$T/fake.log" 2>&1 <<'PY' &
import socket, struct, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(1)
print("fake destination: listening", flush=True)
c, _ = l.accept()
n = len(c.recv(4096))
c.sendall(b"OK configuration\n")
while n < 200000:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print("fake destination: killed after", n, "bytes", flush=True)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # a reset, as a kill
c.close()
PY
	local fake=$!
	wait_for "$T/fake.log" 'listening' || return 1
	"$CTL" control "$T/a.ctl" migrate "tcp:127.0.0.1:$((PORT + 1))"
	wait "$fake"
	cat "$T/fake.log"
	local before
	before=$(last_count "$T/a.log")
	wait_for "$T/a.log" "count-test: count $((before + 5))" && echo "source counts on: yes"
	finish a
}

# Damage a snapshot with Python (a section rewritten with its checksum fixed, so that only
# the check under test can catch it).
damage() {
	python3 - "$1" "$2" <<'PY'
import os, struct, sys, zlib
kind, path = sys.argv[1], sys.argv[2]
# The metadata (header, sections, end marker) is read and rewritten; the RAM image that
# follows at its offset is left where it is (and sparse), or patched in place.
f = open(path, "r+b")
b = bytearray(f.read(1 << 20))
clen = struct.unpack_from("<I", b, 12)[0]
pos = 16 + clen + 4
sections = []
while True:                                       # up to the end marker
    name = bytes(b[pos:pos + 16]).rstrip(b"\0").decode()
    ver, length, crc = struct.unpack_from("<III", b, pos + 16)
    sections.append((name, pos, length))
    pos += 28 + length
    if name == "end":
        break
meta = b[:pos]
image = next(s for s in sections if s[0] == "ram-image")
offset = struct.unpack_from("<Q", b, image[1] + 28)[0]
def section(name, ver, payload):
    return name.encode().ljust(16, b"\0") + struct.pack("<III", ver, len(payload),
                                                       zlib.crc32(payload)) + payload
if kind == "truncated":                           # cut in the middle of the RAM image
    os.truncate(path, offset + (os.path.getsize(path) - offset) // 2)
elif kind == "ramflip":                           # a byte of the first page of data in the image
    at = os.lseek(f.fileno(), offset, os.SEEK_DATA) + 100
    c = os.pread(f.fileno(), 1, at)[0] ^ 0x40
    os.pwrite(f.fileno(), bytes([c]), at)
elif kind == "flipped":
    meta[sections[2][1] + 28 + 10] ^= 0x40       # a byte inside the third section
elif kind == "version":
    meta[8] = 7
elif kind == "size":                              # the legacy devices, 4 bytes short
    name, at, length = next(s for s in sections if s[0] == "legacy")
    payload = bytes(meta[at + 28:at + 28 + length - 4])
    meta = meta[:at] + section(name, 1, payload) + meta[at + 28 + length:] + bytes(4)
elif kind == "ram":                               # a page at 64 MiB in a 64 MiB machine
    at = image[1]                                 # before the RAM image is read
    meta = meta[:at] + section("ram", 2, struct.pack("<Q", (64 << 20) // 4096) + bytes(4096)) + meta[at:]
if kind in ("flipped", "version", "size", "ram"):
    assert len(meta) < offset
    os.pwrite(f.fileno(), bytes(meta), 0)
PY
}

# One snapshot, then each kind of damage to a copy of it, restored: lines "KIND: ...".
badstreams() {
	vmm a pc
	wait_for "$T/a.log" 'count-test: count 5' || return 1
	"$CTL" control "$T/a.ctl" snapshot "$T/snap.bin" >/dev/null
	for kind in truncated flipped version size ram ramflip; do
		cp "$T/snap.bin" "$T/bad.bin"
		damage "$kind" "$T/bad.bin"
		"$MV" -M pc -m 64M -vga none -drive "file=$T/disk.img,format=raw" \
			-incoming "file:$T/bad.bin" </dev/null >"$T/bad.log" 2>&1
		echo "$kind: destination-exit: $?"
		sed "s/^/$kind: destination: /" "$T/bad.log"
	done
	finish a
}

manager() {
	local C="$ROOT/stage5-full-machine/manager/minivisor-ctl -s $T/mgr/m.sock"
	mkdir -m 700 "$T/mgr"
	printf 'machine: pc\nmemory: 64M\ndisplay:\n  vga: none\n' >"$T/vm.yaml"
	"$ROOT/stage5-full-machine/manager/minivisor-manager" -s "$T/mgr/m.sock" --vmm "$MV" \
		2>"$T/manager.log" &
	PIDS+=($!)
	wait_for "$T/manager.log" 'listening|started|manager' 10 >/dev/null
	for ((i = 0; i < 50; i++)); do [ -S "$T/mgr/m.sock" ] && break; sleep 0.1; done
	local disk="file=$T/disk.img,format=raw"
	$C create src "$T/vm.yaml" -- -drive "$disk" || return 1
	$C wait -t 60 src output 'count-test: count 10' || return 1
	$C snapshot src "$T/snap.bin" || return 1
	$C create dst "$T/vm.yaml" -- -drive "$disk" -incoming "tcp:127.0.0.1:$PORT" || return 1
	$C wait -t 30 dst output 'waiting for a migration' || return 1
	$C migrate src "tcp:127.0.0.1:$PORT" downtime=50 || return 1
	$C wait -t 30 src stopped && echo "source stopped: yes"
	$C wait -t 60 dst output 'count-test: count 30' && echo "destination counts: yes"
	$C destroy dst >/dev/null
	$C destroy src >/dev/null
	$C create back "$T/vm.yaml" -- -drive "$disk" -incoming "file:$T/snap.bin" || return 1
	$C wait -t 60 back output 'count-test: count 30' && echo "restored counts: yes"
	$C list | awk 'NR > 1 {print "vm:", $1, $3}'
	$C shutdown
}

unsaved() {
	"$MV" -M pc -incoming "bogus:x" -vga none </dev/null
	echo "bogus-exit: $?"
	"$MV" -M pc -incoming "file:$T/none.bin" -vga none </dev/null
	echo "missing-exit: $?"
}

# The rest of the machine moved too: pc with an e1000 on slirp and an xHCI with a tablet, a
# keyboard and a USB stick (its image handed over as the disks'); q35 with a virtio-net card
# and a UHCI with a tablet and a stick.
devices() {
	local m=$1 n=$2
	truncate -s 1M "$T/stick.img"
	local stick=(-drive "if=none,id=stick,file=$T/stick.img,format=raw" -device usb-storage,drive=stick)
	if [ "$m" = pc ]; then
		pingpong pc "$n" -nic user,model=e1000 -device qemu-xhci -device usb-tablet \
			-device usb-kbd "${stick[@]}"
	else
		pingpong q35 "$n" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
			-device piix3-usb-uhci -device usb-tablet "${stick[@]}"
	fi
	grep -ho 'section .*\|unknown section.*' "$T"/*.log | head -3
}

# The source has an e1000, the destination a virtio-net card: refused before anything loads.
nicdiff() {
	vmm a pc -nic user,model=e1000
	wait_for "$T/a.log" 'count-test: count 3' || return 1
	to_refusing_destination -M pc -m 64M -vga none -drive "file=$T/disk.img,format=raw" \
		-nic user,model=virtio-net-pci || return 1
	finish a
}

"$@"
