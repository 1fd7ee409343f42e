#!/bin/sh
# guests/stage5/l1-reset.sh - stage 5's reboot and HPET checks, inside the nested host's L1
# (busybox sh). tests/checks/stage5-reset.sh starts this through tests/nested/run-nested with
# /work holding: minivisor (the static build), bios-256k.bin, linuxboot_dma.bin, vmlinuz and
# initrd.cpio.gz (guests/linux's, with reboot-test.sh appended as /test.sh).
#
# Each run boots Linux directly (-kernel: SeaBIOS and the linuxboot ROM, then Linux) with
# clocksource=hpet and a blank 1 MiB disk (IDE on pc, AHCI on q35). The first boot writes a
# marker to the disk and reboots; the machine resets, SeaBIOS and Linux boot a second time in
# the same process, the second boot finds the marker and powers off. After the run the marker
# is read here, on the host side of the disk controller. Each run is one section of the
# output, "== NAME", ending with "vmm-exit: N" and "host-marker: TEXT".

cd /work || exit 1

boot() {
	name=$1
	shift
	echo "== $name"
	dd if=/dev/zero of="$name.img" bs=1024 count=1024 2>/dev/null
	# A reboot that loops (the marker lost) must still end: the time limit says so.
	timeout 200 ./minivisor -m 256M -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
		-kernel vmlinuz -initrd initrd.cpio.gz \
		-append "console=ttyS0 panic=-1 clocksource=hpet" "$@" \
		-drive "file=$name.img,format=raw" </dev/null 2>&1
	echo "vmm-exit: $?"
	echo "host-marker: $(dd if="$name.img" bs=22 count=1 2>/dev/null)"
}

boot pc-reboot -M pc
boot q35-reboot -M q35
echo "== end"
