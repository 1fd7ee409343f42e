#!/bin/sh
# guests/stage5/l1-usb.sh - stage 5's USB checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-usb.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin and linuxboot_dma.bin, vmlinuz and
# initrd-usb.cpio.gz (the guest's initramfs with guests/stage5/usb-test.sh as /test.sh), and
# the sticks stick.raw and stick.qcow2 (ext4, made on the host). Each run boots Linux directly
# (-kernel) with an xHCI controller and a stick; the guest's test writes, resets the machine
# once, and reads back (usb-test.sh). Each run is a section "== NAME" ending "vmm-exit: N";
# the check reads the sticks back on the host afterwards (--out).
cd /work || exit 1
run() {
	name=$1
	shift
	echo "== $name"
	./minivisor -bios bios-256k.bin -linuxboot linuxboot_dma.bin -kernel vmlinuz \
		-initrd initrd-usb.cpio.gz -append "console=ttyS0 panic=-1 quiet" "$@" </dev/null 2>&1
	echo "vmm-exit: $?"
}
run pc-xhci-raw -M pc -device qemu-xhci \
	-drive if=none,id=stick,file=stick.raw,format=raw -device usb-storage,drive=stick
run q35-xhci-qcow2 -M q35 -usb \
	-drive if=none,id=stick,file=stick.qcow2,format=qcow2 -device usb-storage,drive=stick
echo "== end"
