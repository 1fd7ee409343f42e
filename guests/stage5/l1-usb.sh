#!/bin/sh
# guests/stage5/l1-usb.sh - stage 5's USB checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-usb.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin and linuxboot_dma.bin, vmlinuz and
# initrd-usb.cpio.gz (the guest's initramfs with guests/stage5/usb-test.sh as /test.sh), the
# sticks stick.raw, stick.qcow2, stick-u.raw and stick-uq.raw (ext4, made on the host),
# usb-hid.script; for the boot chains boot-disk.qcow2 (guests/linux's bootable disk: MBR,
# SYSLINUX, the kernel and initramfs) and data.img (a test disk asking for the storage test);
# for the VNC run minivisor-vnc (the dynamic build, which has VNC) and vnc-pointer.
# Each run boots Linux directly (-kernel) with a controller (xHCI on pc and q35, UHCI on pc)
# and a stick: the guest's test reads, writes, and reads back - after a guest reset (the
# machine starts again) on pc-xhci-raw, in the same boot with the page cache dropped on the
# others. The last run has a USB keyboard and tablet instead: the input script's keys and move
# must reach their /dev/input/event* devices, on xHCI (pc) and UHCI (q35). On q35 a UHCI
# stick too. The boot chains: SeaBIOS boots the stick (bootindex=0) on xHCI, SYSLINUX loads
# Linux from it, the init runs the storage test from the test disk (IDE on pc, AHCI on q35),
# which checks the stick's files. The VNC run: a VNC client moves the pointer; the guest's
# tablet reports where. Each run is a section "== NAME" ending "vmm-exit: N"; the check
# reads the sticks back on the host afterwards (--out).
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
run q35-uhci-raw -M q35 -device piix3-usb-uhci \
	-drive if=none,id=stick,file=stick-uq.raw,format=raw -device usb-storage,drive=stick
run pc-xhci-hid -M pc -device qemu-xhci -device usb-kbd -device usb-tablet \
	-input-script usb-hid.script
run q35-uhci-hid -M q35 -device piix3-usb-uhci -device usb-kbd -device usb-tablet \
	-input-script usb-hid.script

# SeaBIOS -> the stick's SYSLINUX -> Linux -> init (the storage test, from the test disk).
boot() {
	name=$1
	shift
	echo "== $name"
	cp data.img "$name.img"
	./minivisor -no-reboot -bios bios-256k.bin "$@" -device qemu-xhci \
		-drive if=none,id=boot,file=boot-disk.qcow2,format=qcow2 \
		-device usb-storage,drive=boot,bootindex=0 \
		-drive "file=$name.img,format=raw" </dev/null 2>&1
	echo "vmm-exit: $?"
}
boot pc-usb-boot -M pc
boot q35-usb-boot -M q35

# VNC -> the tablet: the client starts once the guest holds the event device open (its
# "usb-vnc: ready" line in the VMM's output; the wait is bounded).
echo "== pc-xhci-vnc"
./minivisor-vnc -M pc -vga std -vnc :1 -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
	-kernel vmlinuz -initrd initrd-usb.cpio.gz -device qemu-xhci -device usb-tablet \
	-append "console=ttyS0 panic=-1 quiet usbtest=vnc" </dev/null >vnc.log 2>&1 &
vm=$!
i=0
while ! grep -q '^usb-vnc: ready' vnc.log && [ $i -lt 1500 ]; do
	sleep 0.2
	i=$((i + 1))
done
./vnc-pointer 127.0.0.1:1
echo "vnc-pointer-exit: $?"
wait $vm
vm_exit=$?
cat vnc.log
echo "vmm-exit: $vm_exit"
echo "== end"
