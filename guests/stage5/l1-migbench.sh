#!/bin/sh
# guests/stage5/l1-migbench.sh - the migration bench inside the nested host's L1 (busybox sh):
# minivisor and QEMU each live-migrate the same 512 MiB Linux guest (same kernel, initramfs and
# command line) from one process to another over L1's loopback, with the same downtime budget
# (50 ms). What it teaches: a migration's downtime is only comparable when both VMMs move the
# same guest on the same machine in the same run, and when one knows what each VMM counts as
# "downtime" (see docs/stage5-migration.md: QEMU stops its clock when the source has sent the
# last byte; ours when the destination says the guest is loaded and its disks are taken).
#
# tests/bench.d/stage5-migration.sh starts this through tests/nested/run-nested --qemu with
# /work: minivisor (static), minivisor-ctl, bios-256k.bin, linuxboot_dma.bin, vmlinuz,
# initrd.cpio.gz (the test guest's, plus /idle.sh, /busy.sh and /bin/memdirty).
# Usage: sh l1-migbench.sh [RUNS]   (RUNS migrations of each kind and VMM; default 2)
#   idle: the guest prints a line every 2 s and otherwise sleeps;
#   busy: guests/stage5/memdirty writes N MiB/s of pages (N: set in /busy.sh).
# Then the idle guest's snapshot file: its size and what it takes on disk (du), ours and
# QEMU's (`migrate exec:cat>FILE`), against the 512 MiB of RAM.
# Output: "bench: ..." lines for the bench script's awk; "== end" at the end.

cd /work || exit 1
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
runs=${1:-2}
append_for() { echo "console=ttyS0 panic=-1 quiet mv.test=/$1.sh"; }
ready_for() { if [ "$1" = idle ]; then echo 'migbench: tick 2'; else echo 'memdirty: second 3'; fi; }
next_for() { if [ "$1" = idle ]; then echo 'migbench: tick'; else echo 'memdirty: second'; fi; }

wait_for() {   # FILE TEXT SECONDS: until FILE shows TEXT, in steps of 0.2 s
	t=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		t=$((t + 1))
		[ $t -gt $(($3 * 5)) ] && return 1
		sleep 0.2
	done
}

mv_start() {   # LOG KIND FLAGS...
	log=$1 kind=$2
	shift 2
	./minivisor -M pc -m 512M -vga none -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
		-kernel vmlinuz -initrd initrd.cpio.gz -append "$(append_for "$kind")" "$@" \
		</dev/null >"$log" 2>&1 &
}

ours() {   # KIND PORT RUN
	kind=$1 port=$2
	rm -f src.log dst.log ctl.out
	mv_start dst.log "$kind" -incoming "tcp:127.0.0.1:$port"
	dst=$!
	mv_start src.log "$kind" -control src.ctl
	src=$!
	if ! wait_for src.log "$(ready_for "$kind")" 300 || ! wait_for dst.log 'waiting for a migration' 30; then
		echo "bench: ours $kind no figure: the guest never got ready"
		tail -n 5 src.log
		kill $src $dst 2>/dev/null
		wait $src $dst 2>/dev/null
		return
	fi
	if [ "$kind" = idle ] && [ "$3" = 1 ]; then   # the idle guest's snapshot, once
		./minivisor-ctl control src.ctl snapshot /work/snap.bin | grep '^snapshot' |
			sed 's/^/bench: ours snapshot-line /'
		[ -f snap.bin ] && echo "bench: ours snapshot $(stat -c %s snap.bin) bytes, du $(du -k snap.bin | cut -f1) KiB"
		rm -f snap.bin
	fi
	./minivisor-ctl control src.ctl migrate "tcp:127.0.0.1:$port" downtime=50 >ctl.out
	wait $src
	if wait_for dst.log "$(next_for "$kind")" 30; then cont=yes; else cont=NO; fi
	line=$(grep '^ok migrated' ctl.out)
	if [ -n "$line" ]; then
		echo "bench: ours $kind continues: $cont, $line"
		grep 'migrate: round' ctl.out | tail -n 2 | sed "s/^/bench: ours $kind /"
		grep 'incoming:' dst.log | sed "s/^/bench: ours $kind destination /"
	else
		echo "bench: ours $kind no figure: $(grep '^error' ctl.out)"
	fi
	kill $dst 2>/dev/null
	wait $dst 2>/dev/null
}

hmp() {   # FD COMMAND: one line to a QEMU monitor (its pipe is open on FD)
	echo "$2" >&"$1"
}

qemu_start() {   # NAME KIND FLAGS...: monitor on pipes NAME.in/.out, read into NAME.mon
	name=$1 kind=$2
	shift 2
	rm -f "$name.in" "$name.out" "$name.mon" "$name.log"
	mkfifo "$name.in" "$name.out"
	qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 512M -nographic -nodefaults \
		-no-user-config -vga none -name "mb-$name" -serial "file:$name.log" -monitor "pipe:$name" \
		-kernel vmlinuz -initrd initrd.cpio.gz -append "$(append_for "$kind")" "$@" \
		</dev/null >/dev/null 2>"$name.err" &
}

qemu() {   # KIND PORT RUN
	kind=$1 port=$2
	qemu_start qd "$kind" -incoming "tcp:127.0.0.1:$port"
	dst=$!
	cat qd.out >qd.mon &
	dcat=$!
	exec 6>qd.in
	qemu_start qs "$kind"
	src=$!
	cat qs.out >qs.mon &
	scat=$!
	exec 5>qs.in
	if wait_for qs.log "$(ready_for "$kind")" 300; then
		hmp 5 "migrate_set_parameter downtime-limit 50"
		hmp 5 "migrate_set_parameter max-bandwidth 1G"   # ours has no limit either
		hmp 5 "migrate -d tcp:127.0.0.1:$port"
		i=0
		while ! grep -q 'Migration status: \(completed\|failed\)' qs.mon && [ $i -lt 600 ]; do
			hmp 5 "info migrate"
			sleep 0.2
			i=$((i + 1))
		done
		hmp 5 "info name"   # its answer comes after the whole of the last "info migrate"
		wait_for qs.mon mb-qs 10
		if wait_for qd.log "$(next_for "$kind")" 30; then cont=yes; else cont=NO; fi
		tr -d '\r' <qs.mon | awk -v kind="$kind" -v cont=$cont '
			/^Migration status:/ { st = $3 } /^total time:/ { t = $3 } /^downtime:/ { d = $2 }
			/^setup:/ { s = $2 } /^transferred ram:/ { r = $3 }
			END { if (st == "completed") print "bench: qemu", kind, "continues: " cont ", downtime", d, "ms, total", t, "ms, setup", s, "ms, transferred", r, "kbytes"
			      else print "bench: qemu", kind, "no figure: migration status", st }'
		if [ "$kind" = idle ] && [ "$3" = 1 ]; then   # the idle guest's snapshot, from the destination
			rm -f q.bin
			hmp 6 "migrate -d exec:cat>/work/q.bin"
			i=0
			while ! grep -q 'Migration status: \(completed\|failed\)' qd.mon && [ $i -lt 600 ]; do
				hmp 6 "info migrate"
				sleep 0.2
				i=$((i + 1))
			done
			[ -f q.bin ] && echo "bench: qemu snapshot $(stat -c %s q.bin) bytes, du $(du -k q.bin | cut -f1) KiB"
			rm -f q.bin
		fi
	else
		echo "bench: qemu $kind no figure: the guest never got ready"
	fi
	exec 5>&- 6>&-
	kill $src $dst 2>/dev/null
	wait $src $dst 2>/dev/null
	kill $scat $dcat 2>/dev/null
	wait $scat $dcat 2>/dev/null
}

r=1
while [ $r -le "$runs" ]; do
	port=$((5100 + r * 10))
	for kind in idle busy; do
		ours "$kind" $port $r
		qemu "$kind" $((port + 1)) $r
		port=$((port + 2))
	done
	r=$((r + 1))
done
echo "== end"
