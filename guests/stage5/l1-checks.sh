#!/bin/sh
# guests/stage5/l1-checks.sh - stage 5's boot chains, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-boot.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin, boot.iso and build/linux/boot-disk.qcow2
# (the Linux boot media, guests/linux/media.sh), data.img (a test disk asking for the "storage"
# test), and stage5-full-machine/configs/q35.yaml (the default machine of ./run stage5; its disk
# is ../../build/linux/boot-disk.qcow2 and its BIOS /usr/share/seabios/bios-256k.bin).
# Each run boots real firmware from a real disk controller:
#   SeaBIOS -> El Torito CD (ISOLINUX) on the ATAPI drive  -> Linux -> busybox -> storage test
#   SeaBIOS -> qcow2 disk (MBR, SYSLINUX on FAT)           -> Linux -> busybox -> storage test
# on both machines (pc: PIIX IDE, q35: ICH9 AHCI). The test disk is a fresh copy per run; after
# the run its pattern sectors are hashed here, on the host side of the disk controller.
# Each run is one section of the output, "== NAME", ending with "vmm-exit: N" and "host-md5: X".

cd /work || exit 1

DISK=build/linux/boot-disk.qcow2
boot() {
	name=$1
	shift
	echo "== $name"
	cp data.img "$name.img"
	./minivisor -no-reboot "$@" -drive "file=$name.img,format=raw" </dev/null 2>&1
	echo "vmm-exit: $?"
	echo "host-md5: $(dd if="$name.img" bs=512 skip=2048 count=128 2>/dev/null | md5sum | cut -d' ' -f1)"
}

boot pc-cdrom -M pc -bios bios-256k.bin -cdrom boot.iso -boot order=d
boot pc-disk -M pc -bios bios-256k.bin -drive file=$DISK,index=0
boot q35-cdrom -M q35 -bios bios-256k.bin -cdrom boot.iso -boot order=d
boot q35-disk -M q35 -bios bios-256k.bin -drive file=$DISK,index=0
boot default-config -config stage5-full-machine/configs/q35.yaml
echo "== end"
