#!/bin/sh
# guests/stage4/l1-bench.sh - stage 4's benchmark, inside the nested host's L1 (busybox sh).
#
# Started by tests/bench.d/stage4.sh through run-nested --qemu with mvl (minivisor-lite.static),
# vmlinuz and initrd.cpio.gz in /work. minivisor-lite and QEMU's microvm boot the same kernel,
# initrd and command line on the same /dev/kvm, alternately, ROUNDS times each; times are on
# L1's clock (/proc/uptime, 10 ms steps), as in tests/nested/l1-peer-boot:
#   init_s   VMM started -> the guest printed "minivisor-init: up"
#   total_s  VMM started -> VMM exited after the guest's test and power-off
# Then each boots with a 128 MiB raw disk and the guest reads it with dd (virtio-blk MB/s),
# ROUNDS times each, alternately; minivisor-lite as it chooses (see machine.c: the fast path needs a spare CPU, which a
# one-CPU L1 lacks), with --fast-virtio and with --simple-virtio, and those two again without
# the read, so that the read's own exits per MiB show (--stats exit counts, difference / 128).
# Prints "bench: ..." lines for the host side to format.

cd /work || exit 1
rounds=${1:-2}
APPEND='console=ttyS0 panic=-1 quiet'

now() { read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# The two VMMs as scripts that exec them, so that time(1) measures the VMM itself.
# Usage: sh /tmp/ours EXTRA_ARGS...; the guest's test command is in $TEST.
cat >/tmp/ours <<'END'
exec ./mvl --mem 256M --stats --cmdline "$APPEND" --test "$TEST" "$@" vmlinuz initrd.cpio.gz
END
cat >/tmp/qemu <<'END'
exec qemu-system-x86_64 -enable-kvm -M microvm -cpu host,-arch-capabilities -m 256M \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio \
	-kernel vmlinuz -initrd initrd.cpio.gz "$@" -append "$APPEND mv.test=\"$TEST\""
END
export APPEND TEST

# timed NAME CMD...: run a VMM, print its console to L1's log only, and "bench: NAME ..." lines.
timed() {
	name=$1
	shift
	rm -f /tmp/init_s /tmp/out
	t0=$(now)
	time -v -o /tmp/time.txt sh "$@" </dev/null 2>&1 | while IFS= read -r line; do
		case $line in
		*"minivisor-init: up"*) since "$t0" >/tmp/init_s ;;
		esac
		echo "$line" >>/tmp/out
	done
	total=$(since "$t0")
	# busybox time reports ru_maxrss (KiB) as if it were 4 KiB pages: scale it back.
	maxrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' /tmp/time.txt)
	maxrss=$((maxrss / 4))
	echo "bench: $name init_s=$(cat /tmp/init_s 2>/dev/null || echo none) total_s=$total maxrss_kib=$maxrss"
	sed -n 's/.*minivisor-lite: memory: .*overhead=\([0-9]*\) KiB.*/bench: ours overhead_kib=\1/p' /tmp/out
	sed -n 's/^blk-mbs=\([0-9.]*\).*/bench: '"$name"' blk_mbs=\1/p' /tmp/out
	sed -n 's/.*minivisor-lite: exits: total=\([0-9]*\).* mmio=\([0-9]*\).*/bench: '"$name"' exits=\1 mmio_exits=\2/p' /tmp/out
	sed -n 's/.*virtio-blk: \([0-9]*\) requests.*interrupts: \([0-9]*\) irqfd, \([0-9]*\) KVM_SIGNAL_MSI, \([0-9]*\) INTx.*/bench: '"$name"' requests=\1 irqs=\2+\3+\4/p' /tmp/out
	grep -q 'minivisor-test-exit: 0' /tmp/out || { echo "bench: $name FAILED"; tail -n 20 /tmp/out; }
}

export TEST="echo peer-boot-ok"
i=0
while [ $i -lt "$rounds" ]; do
	timed ours /tmp/ours
	timed qemu /tmp/qemu
	i=$((i + 1))
done

dd if=/dev/zero of=/tmp/bench.img bs=1M count=128 2>/dev/null
# The guest times its own read (no double quotes: they end mv.test="...").
export TEST="read a x </proc/uptime; dd if=/dev/vda of=/dev/null bs=1M; read b x </proc/uptime; echo blk-mbs=\$(awk -v a=\$a -v b=\$b 'BEGIN { print 128 / (b - a) }')"
# Alternately, ROUNDS times each (the host's load moves between runs; the best of each counts).
# QEMU: raw, its defaults (cache=writeback: the page cache, as ours; aio=threads, ioeventfd,
# irqfd); microvm's virtio-blk is virtio-mmio, one interrupt line, no MSI-X.
i=0
while [ $i -lt "$rounds" ]; do
	timed ours-blk /tmp/ours --disk /tmp/bench.img
	timed qemu-blk /tmp/qemu -drive id=d,if=none,format=raw,file=/tmp/bench.img \
		-device virtio-blk-device,drive=d
	i=$((i + 1))
done
timed ours-blk-fast /tmp/ours --fast-virtio --disk /tmp/bench.img
timed ours-blk-simple /tmp/ours --simple-virtio --disk /tmp/bench.img
# The same boots without the read: the exits the read itself cost are the difference.
export TEST="echo no-read"
timed ours-noread-fast /tmp/ours --fast-virtio --disk /tmp/bench.img
timed ours-noread-simple /tmp/ours --simple-virtio --disk /tmp/bench.img
