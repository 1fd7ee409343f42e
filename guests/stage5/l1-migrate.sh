#!/bin/sh
# guests/stage5/l1-migrate.sh - the nested part of the migration checks, inside L1 (busybox
# sh): a Linux guest (guests/linux, /test.sh = migrate-linux.sh) on a 4 MiB raw disk, moved
# N times (default 4) between two minivisor processes over L1's loopback, then asked to echo
# a line and quit. Afterwards every record the guest said it fsynced is read back from the
# image here and its sha256 compared. Files in /work: minivisor (static), minivisor-ctl,
# bios-256k.bin, linuxboot_dma.bin, vmlinuz, initrd.cpio.gz.
cd /work || exit 1
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up   # L1's init leaves loopback down
N=${1:-4}
M=${2:-pc}
dd if=/dev/zero of=disk.img bs=1M count=4 2>/dev/null
wait_for() {   # FILE TEXT SECONDS
	t=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		t=$((t + 1))
		[ $t -gt "$3" ] && { echo "never saw '$2' in $1"; return 1; }
		sleep 1
	done
}
start() {   # NAME [FLAGS]
	name=$1
	shift
	rm -f "$name.in" "$name.log"
	mkfifo "$name.in"
	./minivisor -M "$M" -m 256M -vga none -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
		-kernel vmlinuz -initrd initrd.cpio.gz -append "console=ttyS0 panic=-1" \
		-drive file=disk.img,format=raw -control "$name.ctl" "$@" <"$name.in" >"$name.log" 2>&1 &
	eval "pid_$name=$!"
}
last_count() { grep -o 'linux-count [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
first_count() { grep -o '^linux-count [0-9]*' "$1" | head -1 | cut -d' ' -f2; }

start a
exec 3<>a.in
wait_for a.log 'linux-count 3' 240 || exit 1
from=a
to=b
i=1
while [ $i -le "$N" ]; do
	start $to -incoming tcp:127.0.0.1:$((5000 + i))
	if [ $to = a ]; then exec 3<>a.in; else exec 4<>b.in; fi
	wait_for $to.log 'waiting for a migration' 60 || exit 1
	if ! ./minivisor-ctl control $from.ctl migrate tcp:127.0.0.1:$((5000 + i)) >ctl.$i; then
		echo "migration $i: failed"
		cat ctl.$i
		eval "kill \$pid_$from \$pid_$to"
		exit 1
	fi
	eval "wait \$pid_$from"
	rc=$?
	before=$(last_count $from.log)
	wait_for $to.log "linux-count $((before + 2))" 60
	echo "migration $i: $from -> $to, source exit $rc, count $before -> $(first_count $to.log)," \
		"$(grep '^ok' ctl.$i | grep -o 'downtime [0-9.]* ms.*total [0-9.]* ms')"
	grep '^error' ctl.$i
	cat $from.log >>all.log
	t=$from
	from=$to
	to=$t
	i=$((i + 1))
done
if [ $from = a ]; then echo hello >&3; else echo hello >&4; fi
wait_for $from.log 'linux-echo: hello' 30 && echo "console answers: yes"
if [ $from = a ]; then echo quit >&3; else echo quit >&4; fi
eval "wait \$pid_$from"
echo "vmm-exit: $?"
cat $from.log >>all.log
grep -h '^minivisor:' all.log | grep -v 'waiting for' | sort | uniq -c | head
ok=0
bad=0
# Whole lines only: a line the guest was printing when the machine paused ends in the source's
# log (cut short, the VMM's own lines after it) and goes on in the destination's.
grep -o 'linux-record [0-9]* [0-9a-f]\{64\}' all.log | sort -u >records
grep -o 'linux-record [0-9]* [0-9a-f]*' all.log | grep -vc ' [0-9a-f]\{64\}$' |
	sed 's/^/record lines cut by a migration: /'
while read -r _ n sum; do
	got=$(dd if=disk.img bs=4096 skip="$n" count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$sum" ]; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "record $n: sha256 $sum on the console, $got on the disk"
	fi
done <records
echo "records on the disk: $ok ok, $bad bad"
echo "== end"
