#!/bin/sh
# guests/stage5/l1-usb.sh - stage 5's USB checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-usb.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin and linuxboot_dma.bin, vmlinuz and
# initrd-usb.cpio.gz (the guest's initramfs with guests/stage5/usb-test.sh as /test.sh), and
# the sticks stick.raw and stick.qcow2 (ext4, made on the host), usb-hid.script. Each run boots
# Linux directly (-kernel) with an xHCI controller and a stick; the guest's test writes, resets
# the machine once, and reads back (usb-test.sh); the last run has a USB keyboard and tablet
# instead, and the input script's keys and move must reach their /dev/input/event* devices. Each run is a section "== NAME" ending "vmm-exit: N";
# the check reads the sticks back on the host afterwards (--out).
cd /work || exit 1
run() {
	name=$1
	shift
	echo "== $name"
	append="console=ttyS0 panic=-1 quiet"
	[ "$name" = pc-xhci-hid ] && append="$append usbtest=hid"
	./minivisor -bios bios-256k.bin -linuxboot linuxboot_dma.bin -kernel vmlinuz \
		-initrd initrd-usb.cpio.gz -append "$append" "$@" </dev/null 2>&1
	echo "vmm-exit: $?"
}
run pc-xhci-raw -M pc -device qemu-xhci \
	-drive if=none,id=stick,file=stick.raw,format=raw -device usb-storage,drive=stick
run q35-xhci-qcow2 -M q35 -usb \
	-drive if=none,id=stick,file=stick.qcow2,format=qcow2 -device usb-storage,drive=stick
run pc-xhci-hid -M pc -device qemu-xhci -device usb-kbd -device usb-tablet \
	-input-script usb-hid.script
echo "== end"
