#!/bin/sh
# guests/stage5/l1-usb.sh - stage 5's USB checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-usb.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin and linuxboot_dma.bin, vmlinuz and
# initrd-usb.cpio.gz (the guest's initramfs with guests/stage5/usb-test.sh as /test.sh), the
# sticks stick.raw, stick.qcow2 and stick-u.raw (ext4, made on the host) and usb-hid.script.
# Each run boots Linux directly (-kernel) with a controller (xHCI on pc and q35, UHCI on pc)
# and a stick: the guest's test reads, writes, and reads back - after a guest reset (the
# machine starts again) on pc-xhci-raw, in the same boot with the page cache dropped on the
# others. The last run has a USB keyboard and tablet instead: the input script's keys and move
# must reach their /dev/input/event* devices. Each run is a section "== NAME" ending
# "vmm-exit: N"; the check reads the sticks back on the host afterwards (--out).
cd /work || exit 1
run() {
	name=$1
	shift
	echo "== $name"
	append="console=ttyS0 panic=-1 quiet"
	case $name in
	*-hid) append="$append usbtest=hid" ;;
	pc-xhci-raw) ;;                           # the one with a guest reset
	*) append="$append usbtest=once" ;;
	esac
	./minivisor -bios bios-256k.bin -linuxboot linuxboot_dma.bin -kernel vmlinuz \
		-initrd initrd-usb.cpio.gz -append "$append" "$@" </dev/null 2>&1
	echo "vmm-exit: $?"
}
run pc-xhci-raw -M pc -device qemu-xhci \
	-drive if=none,id=stick,file=stick.raw,format=raw -device usb-storage,drive=stick
run q35-xhci-qcow2 -M q35 -usb \
	-drive if=none,id=stick,file=stick.qcow2,format=qcow2 -device usb-storage,drive=stick
run pc-uhci-raw -M pc -device piix3-usb-uhci \
	-drive if=none,id=stick,file=stick-u.raw,format=raw -device usb-storage,drive=stick
run pc-xhci-hid -M pc -device qemu-xhci -device usb-kbd -device usb-tablet \
	-input-script usb-hid.script
echo "== end"
