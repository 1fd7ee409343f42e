#!/bin/sh
# guests/stage5/l1-migrate.sh - the nested part of the migration checks, inside L1 (busybox
# sh). For each machine type named (default: pc q35), a Linux guest (guests/linux, /test.sh =
# migrate-linux.sh) on a 4 MiB raw disk with a network card (e1000 on pc, virtio-net on q35)
# on a user-mode back end whose hostfwd reaches the guest's busybox httpd, is moved N times
# (default 10) between two minivisor processes over L1's loopback; a USB tablet on xHCI (pc) or
# UHCI (q35) is listed by the guest at the end (Linux polls it all along). After each move the
# guest's file is fetched through the destination's forwarded port (each process forwards
# its own host port: the two run side by side while they hand over). On machine SNAPM the
# guest is then snapshotted, the process killed, and a third process restores the file.
# (Only for the machine type SNAPM.)
# Then the console is asked to echo a line and quit, and every record the guest said it
# fsynced is read back from the image here and its sha256 compared (the last record written
# to a block counts: a restored guest writes again the blocks it wrote after the snapshot).
#
#   sh l1-migrate.sh N MEM SNAPM MACHINE...      e.g. sh l1-migrate.sh 10 128M q35 pc q35
#
# Files in /work: minivisor (the dynamic build: libslirp; run-nested brings its libraries),
# minivisor-ctl, vmlinuz, initrd.cpio.gz; the firmware at its usual paths.
cd /work || exit 1
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up   # L1's init leaves loopback down
N=${1:-10}
MEM=${2:-128M}
SNAPM=${3:-none}   # the machine type whose guest is also snapshotted and restored
shift 3
# init_on_free=1: Linux zeroes the memory it frees, the boot's leftovers too (the compressed
# kernel, the initramfs archive), and zero pages never cross: each move sends what the guest
# uses, not what it once touched. quiet: each byte of the boot log is a UART exit, dear in L1.
APPEND=${APPEND-init_on_free=1 quiet}
want=$(seq 1 5000 | sha256sum | cut -d' ' -f1)

wait_for() {   # FILE TEXT SECONDS: polled five times a second (twenty moves add it up)
	t=0
	while ! grep -qE "$2" "$1" 2>/dev/null; do
		t=$((t + 1))
		[ $t -gt $(($3 * 5)) ] && { echo "never saw '$2' in $1"; return 1; }
		sleep 0.2
	done
}
port_of() { echo $((PORTS + $(printf '%d' "'$1") - 96)); }   # a: base+1, b: +2, c: +3
start() {   # NAME [FLAGS]: a minivisor, its console a FIFO held open on fd 3 (a, c) or 4 (b)
	name=$1
	shift
	rm -f "$name.in" "$name.log"
	mkfifo "$name.in"
	./minivisor -M "$M" -m "$MEM" -vga none -kernel vmlinuz -initrd initrd.cpio.gz \
		-append "console=ttyS0 panic=-1 $APPEND" -drive file=disk.img,format=raw \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$(port_of "$name")-:80" \
		-device "$NIC,netdev=n0" $USB -control "$name.ctl" "$@" <"$name.in" >"$name.log" 2>&1 &
	eval "pid_$name=$!"
	if [ "$name" = b ]; then exec 4<>b.in; else exec 3<>"$name.in"; fi
}
say() { if [ "$1" = b ]; then echo "$2" >&4; else echo "$2" >&3; fi; }
last_count() { grep -o 'linux-count [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first_count() { grep -o '^linux-count [0-9]*' "$1" | head -1 | cut -d' ' -f2; }
# "B -> A (goes on: yes)" when the first count at the destination is the next (or the one after);
# with a third argument 1, B itself too: a snapshot's "written" line comes after the guest
# resumed, and the source may have printed one more count by then.
goes_on() {
	a=$(first_count "$2")
	if [ -n "$a" ] && [ "$a" -gt $(($1 - ${3:-0})) ] && [ "$a" -le $(($1 + 2)) ]; then
		c=yes
	else
		c=NO
	fi
	echo "$1 -> $a (goes on: $c)"
}
# The guest's file through NAME's forwarded port: "yes" when its sha256 is seq 1 5000's.
net() {
	# (busybox wget -T crashes: timeout bounds it instead)
	got=$(timeout 30 wget -q -O - "http://127.0.0.1:$(port_of "$1")/seq.txt" 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	if [ "$got" = "$want" ]; then echo yes; else echo NO; fi
}

# One machine type: boot on a, N moves, optionally a snapshot restored on c; the checks' lines.
run_machine() {
	rm -f all.log
	dd if=/dev/zero of=disk.img bs=1M count=4 2>/dev/null
	t_start=$(date +%s)
	start a
	wait_for a.log 'linux-count 3' 240 || { tail -5 a.log; return 1; }
	t_booted=$(date +%s)
	grep -o 'linux-net: .*' a.log | head -1
	echo "network before: $(net a)"
	from=a
	to=b
	i=1
	while [ $i -le "$N" ]; do
		p=$((PORTS + 10 + i))
		start $to -incoming tcp:127.0.0.1:$p
		wait_for $to.log 'waiting for a migration' 60 || return 1
		if ! ./minivisor-ctl control $from.ctl migrate tcp:127.0.0.1:$p >ctl.$i; then
			echo "migration $i: failed"
			cat ctl.$i
			eval "kill \$pid_$from \$pid_$to"
			return 1
		fi
		eval "wait \$pid_$from"
		rc=$?
		before=$(last_count $from.log)
		# the next count (or the one after, when the source had begun printing the next)
		wait_for $to.log "linux-count ($((before + 1))|$((before + 2)))([^0-9]|$)" 60
		echo "migration $i: $from -> $to, source exit $rc, count $(goes_on "$before" $to.log)," \
			"network answers: $(net $to)," \
			"$(grep '^ok' ctl.$i | grep -o 'downtime [0-9.]* ms.*total [0-9.]* ms')"
		grep '^error' ctl.$i
		cat $from.log >>all.log
		t=$from
		from=$to
		to=$t
		i=$((i + 1))
	done
	t_moved=$(date +%s)
	say $from usb   # after the last move: what Linux sees on USB, and what it logged
	# (printed, not checked: see docs/stage5-migration.md, What is not done)
	wait_for $from.log 'linux-usb-trouble:' 30 >/dev/null || echo "usb: no answer within 30 s"
	grep -o 'linux-usb.*' $from.log | tail -2
	if [ "$SNAP" = yes ]; then
		./minivisor-ctl control $from.ctl snapshot /work/snap.bin >ctl.snap
		grep -o '^ok snapshot.*\|^error.*' ctl.snap
		before=$(sed '/minivisor: snapshot/q' $from.log | grep -o 'linux-count [0-9]*' |
			tail -1 | cut -d' ' -f2)
		eval "kill \$pid_$from; wait \$pid_$from"
		cat $from.log >>all.log
		start c -incoming file:/work/snap.bin
		wait_for c.log "linux-count ($((before + 1))|$((before + 2)))([^0-9]|\$)" 60
		echo "restored: count $(goes_on "$before" c.log 1), network answers: $(net c)"
		grep '^minivisor: incoming' c.log
		from=c
	fi
	say $from hello
	wait_for $from.log 'linux-echo: hello' 30 && echo "console answers: yes"
	say $from quit
	eval "wait \$pid_$from"
	echo "vmm-exit: $?"
	cat $from.log >>all.log
	grep -h '^minivisor:' all.log | grep -v 'waiting for\|migrate: round' | sed 's/[0-9.]* ms/N ms/g' |
		sort | uniq -c | sort -rn | head -8
	ok=0
	bad=0
	# The last record of each block: what the disk must hold.
	# (a whole sha256 only: a line the pause cut in two is on two logs, and not checked)
	grep -o 'linux-record [0-9]* [0-9a-f]*' all.log | awk 'length($3) == 64 { s[$2] = $3 }
		END { for (n in s) print n, s[n] }' >records
	while read -r n sum; do
		got=$(dd if=disk.img bs=4096 skip="$n" count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
		if [ "$got" = "$sum" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "bad record $n"; fi
	done <records
	echo "records on the disk: $ok ok, $bad bad"
	echo "timing: boot $((t_booted - t_start)) s, $N moves $((t_moved - t_booted)) s, the rest" \
		"$(($(date +%s) - t_moved)) s"
}

PORTS=8100
for m in "$@"; do
	M=$m
	SNAP=no
	[ "$m" = "$SNAPM" ] && SNAP=yes
	NIC=e1000
	USB="-device qemu-xhci -device usb-tablet"   # Linux's xhci_hcd and usbhid keep them busy
	[ "$m" = q35 ] && NIC=virtio-net-pci && USB="-device piix3-usb-uhci -device usb-tablet"
	echo "== $m ($NIC, $USB, $N moves, -m $MEM)"
	run_machine
	PORTS=$((PORTS + 100))
done
echo "== end"
