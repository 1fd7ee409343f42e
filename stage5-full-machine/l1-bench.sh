#!/bin/sh
# l1-bench.sh - stage 5's boot benchmark, inside the nested host's L1 (busybox sh).
#
# Started by tests/bench.d/stage5-machine.sh through run-nested --qemu, with minivisor (the
# static build), bios-256k.bin, boot-disk.qcow2 (MBR + SYSLINUX + Linux, guests/linux/media.sh),
# bench.img (a test disk: the guest prints its line and powers off) and stamp (a static build
# of tests/nested/stamp.c) in /work.
# minivisor and QEMU boot the same disk images the same way - SeaBIOS reads the MBR from the
# machine's disk controller (pc: PIIX IDE, q35: ICH9 AHCI), SYSLINUX loads Linux - on the same
# /dev/kvm, alternately, ROUNDS times each. Times are on L1's monotonic clock:
#   fw_s     VMM started -> SeaBIOS printed "Booting from Hard Disk" (the firmware's share)
#   init_s   VMM started -> the guest printed "minivisor-init: up"
#   total_s  VMM started -> VMM exited after the guest's test and ACPI power-off
# The console goes through stamp, which notes when each marker's bytes first arrive (a console
# line is not always ended before the next thing happens, and polling forks would slow L1).
# Prints "bench: NAME key=value..." lines for the host side to format.

cd /work || exit 1
rounds=${1:-2}

for m in pc q35; do
	cat >/tmp/ours-$m <<END
exec ./minivisor -no-reboot -M $m -m 256M -bios bios-256k.bin -drive file=boot-disk.qcow2,index=0 \
	-drive file=run.img,format=raw
END
	# -nographic makes QEMU set fw_cfg's "no graphics" item, so SeaBIOS prints on COM1 as
	# ours does; if=ide is the machine's own controller (PIIX IDE on pc, AHCI on q35).
	cat >/tmp/qemu-$m <<END
exec qemu-system-x86_64 -enable-kvm -M $m -cpu host,-arch-capabilities -m 256M \
	-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
	-drive file=boot-disk.qcow2,format=qcow2,if=ide,index=0 \
	-drive file=run.img,format=raw,if=ide,index=1
END
done

# timed NAME SCRIPT: run one VMM, console in /tmp/out, print one "bench: " line.
timed() {
	name=$1
	cp bench.img run.img
	sh "$2" </dev/null 2>&1 | ./stamp fw_s='Booting from Hard Disk' \
		init_s='minivisor-init: up' >/tmp/out 2>/tmp/stamps
	echo "bench: $name $(sed -n 's/^stamp: total=/stamp: total_s=/; s/^stamp: //p' /tmp/stamps |
		tr '\n' ' ')"
	cp /tmp/out "/work/console-$name.txt"
	grep -q 'minivisor-test-exit: 0' /tmp/out || { echo "bench: $name FAILED"; tail -n 20 /tmp/out; }
}

# Alternate the VMMs, so that a slow moment of the TCG host hits both alike.
for round in $(seq "$rounds"); do
	for m in pc q35; do
		for vmm in ours qemu; do
			timed $vmm-$m /tmp/$vmm-$m
		done
	done
done
