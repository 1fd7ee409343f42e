#!/bin/sh
# guests/stage5/l1-usb.sh - stage 5's USB checks, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-usb.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), minivisor-vnc (the dynamic build: it has VNC),
# vnc-pointer (a LibVNCClient client), bios-256k.bin and linuxboot_dma.bin, vmlinuz and
# initrd-usb.cpio.gz (the guest's initramfs with guests/stage5/usb-test.sh as /test.sh), the
# sticks stick.raw, stick.qcow2, stick-u.raw and stick-uq.raw (ext4, made on the host),
# usb-hid.script; for the boot chains usb-boot.qcow2 (guests/linux's bootable disk - MBR,
# SYSLINUX, the kernel and initramfs - with "quiet" added) and data.img (a test disk whose test
# waits for the stick's partition, then runs the storage test).
# The stick runs boot Linux directly (-kernel) with a controller (xHCI on pc and q35, UHCI on
# q35, and on pc with argument "full") and a stick: the guest's test reads, writes, and reads
# back - after a guest reset (the machine starts again) on pc-xhci-raw, in the same boot with
# the page cache dropped on the others. The HID runs have a USB keyboard and tablet instead
# (xHCI on pc, UHCI on q35): the input script's keys and move must reach their
# /dev/input/event* devices; on pc a VNC client then moves the pointer, and the guest's tablet
# reports where. The boot chains (pc, q35): SeaBIOS boots the stick (bootindex=0) on xHCI,
# SYSLINUX loads Linux from it, the init runs the test disk's test (IDE on pc, AHCI on q35),
# which checks the stick's files. Each run is a section "== NAME" ending "vmm-exit: N"; the
# check reads the sticks back on the host afterwards (--out).
cd /work || exit 1
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up   # L1's init leaves loopback down (VNC)
USB_FULL=${1:-}   # "full" (STAGE5_USB_FULL=1): the pc UHCI stick run too
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
[ -n "$USB_FULL" ] && run pc-uhci-raw -M pc -device piix3-usb-uhci \
	-drive if=none,id=stick,file=stick-u.raw,format=raw -device usb-storage,drive=stick
run q35-uhci-raw -M q35 -device piix3-usb-uhci \
	-drive if=none,id=stick,file=stick-uq.raw,format=raw -device usb-storage,drive=stick
# The xHCI keyboard and tablet, with VNC: after the input script's keys and move, a VNC
# client moves the pointer; it starts once the guest holds the tablet's event device open
# (its "usb-vnc: ready" line in the VMM's output; the wait is bounded).
echo "== pc-xhci-hid"
./minivisor-vnc -M pc -vga std -vnc :1 -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
	-kernel vmlinuz -initrd initrd-usb.cpio.gz -device qemu-xhci -device usb-kbd \
	-device usb-tablet -input-script usb-hid.script \
	-append "console=ttyS0 panic=-1 quiet usbtest=hidvnc" </dev/null >hid.log 2>&1 &
vm=$!
i=0
while ! grep -q '^usb-vnc: ready' hid.log 2>/dev/null && [ -d /proc/$vm ] && [ $i -lt 1500 ]; do
	sleep 0.2
	i=$((i + 1))
done
./vnc-pointer 127.0.0.1:1
echo "vnc-pointer-exit: $?"
wait $vm
vm_exit=$?
cat hid.log
echo "vmm-exit: $vm_exit"
run q35-uhci-hid -M q35 -device piix3-usb-uhci -device usb-kbd -device usb-tablet \
	-input-script usb-hid.script

# SeaBIOS -> the stick's SYSLINUX -> Linux -> init (the storage test, from the test disk).
boot() {
	name=$1
	shift
	echo "== $name"
	cp data.img "$name.img"
	./minivisor -no-reboot -bios bios-256k.bin "$@" -device qemu-xhci \
		-drive if=none,id=boot,file=usb-boot.qcow2,format=qcow2 \
		-device usb-storage,drive=boot,bootindex=0 \
		-drive "file=$name.img,format=raw" </dev/null 2>&1
	echo "vmm-exit: $?"
}
boot pc-usb-boot -M pc
boot q35-usb-boot -M q35

echo "== end"
