#!/bin/sh
# l1-bench.sh - stage 5's boot benchmark, inside the nested host's L1 (busybox sh).
#
# Started by tests/bench.d/stage5-machine.sh through run-nested --qemu, with minivisor (the
# static build), bios-256k.bin, linuxboot_dma.bin, vmlinuz and initrd.cpio.gz in /work.
# minivisor and QEMU's `pc` machine boot the same kernel, initrd and command line the same
# way (SeaBIOS, then direct kernel boot through fw_cfg and linuxboot_dma.bin) on the same
# /dev/kvm, alternately, ROUNDS times each. Times are on L1's clock (/proc/uptime, 10 ms):
#   fw_s     VMM started -> SeaBIOS printed "Booting from ROM" (the firmware's share)
#   init_s   VMM started -> the guest printed "minivisor-init: up"
#   total_s  VMM started -> VMM exited after the guest's test and ACPI power-off
# Prints "bench: NAME key=value..." lines for the host side to format.

cd /work || exit 1
rounds=${1:-2}
APPEND='console=ttyS0 panic=-1 quiet mv.test="echo peer-boot-ok"'
export APPEND

now() { read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

cat >/tmp/ours <<'END'
exec ./minivisor -m 256M -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
	-kernel vmlinuz -initrd initrd.cpio.gz -append "$APPEND"
END
# -nographic makes QEMU set fw_cfg's "no graphics" item, so SeaBIOS prints on COM1 as ours does.
cat >/tmp/qemu <<'END'
exec qemu-system-x86_64 -enable-kvm -M pc -cpu host,-arch-capabilities -m 256M \
	-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
	-kernel vmlinuz -initrd initrd.cpio.gz -append "$APPEND"
END

# timed NAME SCRIPT: run one VMM, keep its console in /tmp/out, print one "bench:" line.
timed() {
	name=$1
	rm -f /tmp/fw_s /tmp/init_s /tmp/out
	t0=$(now)
	sh "$2" </dev/null 2>&1 | while IFS= read -r line; do
		# Two tests, not one case: a console line may hold both (no newline in between).
		case $line in *"Booting from ROM"*) since "$t0" >/tmp/fw_s ;; esac
		case $line in *"minivisor-init: up"*) since "$t0" >/tmp/init_s ;; esac
		echo "$line" >>/tmp/out
	done
	total=$(since "$t0")
	echo "bench: $name fw_s=$(cat /tmp/fw_s 2>/dev/null || echo none)" \
		"init_s=$(cat /tmp/init_s 2>/dev/null || echo none) total_s=$total"
	cp /tmp/out "/work/console-$name.txt"
	grep -q 'minivisor-test-exit: 0' /tmp/out || { echo "bench: $name FAILED"; tail -n 20 /tmp/out; }
}

# Alternate the two, so that a slow moment of the TCG host hits both alike.
for round in $(seq "$rounds"); do
	for vmm in ours qemu; do
		timed $vmm /tmp/$vmm
	done
done
