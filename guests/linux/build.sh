#!/bin/bash
#
# guests/linux/build.sh [OUTDIR] - build the Linux test guest (default OUTDIR: build/linux).
#
# What a hypervisor needs to boot Linux directly, made from Debian packages with no root
# mount and nothing installed on the host:
#
#   OUTDIR/vmlinuz         bzImage of Debian's generic kernel (see kernel.sh for how it is fetched)
#   OUTDIR/initrd.cpio.gz  initramfs: static busybox, the virtio and storage modules the kernel
#                          lacks built in, guests/linux/init as /init (its header documents the
#                          mv.test=... protocol and the lines it prints) and guests/linux/bin/*
#                          in /bin (lsblk, mv-testdisk, the storage test)
#   OUTDIR/disk.ext4       16 MiB ext4 image of guests/linux/disk/, made by `mke2fs -d`,
#                          which copies a directory into a new file system without mounting it
#   OUTDIR/boot.iso        bootable CD (El Torito, ISOLINUX) holding vmlinuz + initrd
#   OUTDIR/boot-disk.qcow2 bootable 32 MiB hard disk: MBR, one active FAT16 partition with
#                          SYSLINUX, vmlinuz + initrd (see media.sh for how both are made)
#   OUTDIR/data-storage.img  8 MiB raw test disk that asks for the storage test
#   OUTDIR/modules.txt     which storage and input drivers the kernel has built in, as modules,
#                          or not
#   OUTDIR/storage.md5     md5 of the 64 KiB pattern the storage test writes at LBA 2048
#
# Choosing the test on the boot media. Both media boot the same menu (boot.cfg) at once, with
# "console=ttyS0 panic=-1" and no mv.test=: alone, they end at the busybox prompt. A grader,
# which cannot type at the boot loader, picks the test with a second disk instead: a test disk
# (test-disk.sh FILE TEST) carries the test on the second line of its first sector, the init
# runs it, and the storage test uses the rest of that disk as scratch space. data-storage.img
# is such a disk for the storage test; copy it before use (the guest writes to it), e.g.:
#   cp build/linux/data-storage.img /tmp/data.img
#   qemu-system-x86_64 -accel tcg -M pc -m 512 -nographic -no-reboot \
#     -cdrom build/linux/boot.iso -drive file=/tmp/data.img,format=raw -boot d
# prints the storage lines, "minivisor-test-exit: 0", and powers off. One ISO and one disk
# image serve every test; nothing is rebuilt per test. (On -M q35 the disks sit behind AHCI,
# which is why the guest kernel is Debian's generic flavour: the cloud one has no AHCI driver.)
#
# Example (QEMU as the reference VMM; the course's stage 4 boots the same files):
#   qemu-system-x86_64 -M microvm -enable-kvm -cpu host -m 256M -nographic -no-reboot \
#     -kernel build/linux/vmlinuz -initrd build/linux/initrd.cpio.gz \
#     -append 'console=ttyS0 panic=-1 mv.test="cat /mnt/hello.txt"' \
#     -drive id=d,if=none,format=raw,file=disk-copy.ext4 -device virtio-blk-device,drive=d
#
# A stamp file makes a rerun a no-op until an input changes: this script, kernel.sh, media.sh,
# init, boot.cfg, test-disk.sh, bin/, guests/linux/disk/, busybox, the syslinux/xorriso/mtools
# package versions or the kernel package version. The outputs are inputs to tests
# and should be treated as read-only: copy disk.ext4 before a guest writes to it.
# Quiet on success; one line on stderr and a non-zero exit on failure.

set -u -o pipefail
ME=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/build/linux}
CACHE=$ROOT/build/cache/kernel

die() { echo "$ME: $*" >&2; exit 1; }

# shellcheck source=kernel.sh
. "$HERE/kernel.sh"
# shellcheck source=media.sh
. "$HERE/media.sh"

# Drivers Debian's kernel builds as modules: virtio transports (MMIO for microVMs, PCI for
# PCs), the disk, console and network devices.
GUEST_MODULES="virtio_mmio virtio_pci virtio_blk virtio_console virtio_net virtio_rng"
# PC storage: the SCSI disk and CD-ROM drivers (libata presents ATA disks as SCSI devices),
# libata with its PIIX (IDE) and AHCI (SATA) host drivers, and the file systems of the boot
# media. sd_mod and sr_mod come before the host drivers, so that each disk finds its driver
# the moment the host driver's probe reports it. A name the kernel has neither built in nor
# as a module is left out and listed in modules.txt (the cloud flavour, for one, has no AHCI).
# ext4 asks the crypto API for "crc32c" at mount time, a soft dependency that no depends= line
# names: crc32c_generic provides it. nvme_core and nvme: an NVMe controller passed through
# (stage 5's vfio/, the generic flavour has them as modules).
STORAGE_MODULES="scsi_mod sd_mod sr_mod cdrom libata ata_piix libahci ahci isofs fat vfat
	nls_cp437 nls_ascii nls_utf8 crc32c_generic ext4 nvme_core nvme"
# PC input (stage 5's i8042): the PS/2 mouse driver. Debian builds the controller (i8042) and
# the keyboard (atkbd) in; psmouse is a module (absent from the cloud flavour: left out then).
INPUT_MODULES="psmouse"
# PC display (stage 5's standard VGA): the DRM driver of QEMU's "-vga std" (bochs: a frame
# buffer console at 1024x768 through fbcon, built in) and evdev (/dev/input/event*, where the
# display check watches the mouse).
DISPLAY_MODULES="bochs evdev"
# PC network (stage 5's cards): the e1000 driver (virtio_net is among GUEST_MODULES).
NET_MODULES="e1000"
# USB (stage 5's usb/): the xHCI and UHCI host drivers, the stick (usb-storage, then sd_mod
# above) and HID (usbhid with hid-generic, for the keyboard and the tablet). Module names with
# "_" (the files have "-": xhci-pci.ko); usbcore and friends come as their dependencies.
USB_MODULES="xhci_pci uhci_hcd usb_storage usbhid hid_generic"
DISK_SIZE=16M
BOOT_DISK_MIB=32

for tool in apt-cache apt-get dpkg-deb cpio gzip mke2fs sha256sum md5sum xorriso sfdisk \
	mkfs.vfat mcopy syslinux qemu-img; do
	command -v "$tool" >/dev/null || die "$tool not found (run 'make deps')"
done

kernel_fetch "$CACHE" linux-image-amd64 || exit 1

# The stamp: a hash over every input. Same hash and all outputs present -> nothing to do.
stamp=$(
	{
		echo "$KERNEL_PKG $KERNEL_VERSION $GUEST_MODULES $STORAGE_MODULES $INPUT_MODULES" \
			"$DISPLAY_MODULES $NET_MODULES $USB_MODULES $DISK_SIZE"
		busybox 2>&1 | head -n 1
		dpkg-query -W xorriso isolinux syslinux syslinux-common mtools dosfstools 2>/dev/null
		cat "$HERE/build.sh" "$HERE/kernel.sh" "$HERE/media.sh" "$HERE/init" "$HERE/boot.cfg" \
			"$HERE/test-disk.sh" "$HERE"/bin/*
		(cd "$HERE/disk" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
	} | sha256sum | cut -d' ' -f1
)
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.cpio.gz" ] && [ -f "$OUT/disk.ext4" ] &&
	[ -f "$OUT/boot.iso" ] && [ -f "$OUT/boot-disk.qcow2" ] && [ -f "$OUT/data-storage.img" ]; then
	exit 0
fi

mkdir -p "$OUT" || die "cannot create $OUT"
# Two builds of one OUTDIR at once: the second waits, then finds the stamp written.
exec {lock}>"$OUT/.lock" && flock "$lock" || die "cannot lock $OUT/.lock"
[ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ] && exit 0
rm -f "$OUT/.stamp"

# The initramfs tree.
stage=$OUT/.initrd
rm -rf "$stage"
kernel_busybox_tree "$stage" || exit 1
cp "$HERE/init" "$stage/init" && chmod 755 "$stage/init" || die "cannot copy init"
for tool in "$HERE"/bin/*; do
	# rm first: a busybox applet of the same name is a symlink, and cp would follow it.
	rm -f "$stage/bin/${tool##*/}"
	cp "$tool" "$stage/bin/" && chmod 755 "$stage/bin/${tool##*/}" || die "cannot copy $tool"
done
# Sort the storage, input, display and network drivers: built in (nothing to load), a module (load it), or missing.
storage_modules=
{
	echo "# storage, input and display drivers of $KERNEL_PKG $KERNEL_VERSION (build.sh"
	echo "# STORAGE_MODULES, INPUT_MODULES, DISPLAY_MODULES, NET_MODULES, USB_MODULES)"
	for name in $STORAGE_MODULES $INPUT_MODULES $DISPLAY_MODULES $NET_MODULES $USB_MODULES; do
		if grep -q "/$name\.ko\$" "$KERNEL_ROOT/lib/modules/$KERNEL_RELEASE/modules.builtin"; then
			echo "$name built-in"
		elif kernel_module_file "$name" >/dev/null 2>&1; then
			echo "$name module"
			storage_modules="$storage_modules $name"
		else
			echo "$name missing"
		fi
	done
} >"$OUT/modules.txt" || die "cannot write $OUT/modules.txt"
# shellcheck disable=SC2086 # a list of names, split on purpose
modules=$(kernel_modules_closure $GUEST_MODULES $storage_modules) || exit 1
for ko in $modules; do
	cp "$ko" "$stage/lib/modules/" || die "cannot copy $ko"
	echo "/lib/modules/${ko##*/}"
done >"$stage/lib/modules/load.list"
kernel_cpio "$stage" "$OUT/initrd.cpio.gz" || die "cpio of $stage failed"
rm -rf "$stage"

cp "$KERNEL_IMAGE" "$OUT/vmlinuz" || die "cannot copy $KERNEL_IMAGE"

# The disk: ext4 made from a directory, files owned by root whoever builds it.
rm -f "$OUT/disk.ext4"
mke2fs -q -F -t ext4 -L minivisor -E root_owner=0:0 -d "$HERE/disk" "$OUT/disk.ext4" "$DISK_SIZE" \
	>"$OUT/.mke2fs.log" 2>&1 || die "mke2fs failed (see $OUT/.mke2fs.log)"
rm -f "$OUT/.mke2fs.log"

# The boot media and the storage test's disk (media.sh, test-disk.sh).
media_iso "$OUT/boot.iso" "$OUT/vmlinuz" "$OUT/initrd.cpio.gz" "$HERE/boot.cfg" "$OUT" || exit 1
media_disk "$OUT/boot-disk.qcow2" "$BOOT_DISK_MIB" "$OUT/vmlinuz" "$OUT/initrd.cpio.gz" \
	"$HERE/boot.cfg" "$OUT" || exit 1
"$HERE/test-disk.sh" "$OUT/data-storage.img" storage 8M || die "cannot write data-storage.img"
sh "$HERE/bin/storage" --pattern | md5sum | cut -d' ' -f1 >"$OUT/storage.md5" ||
	die "cannot write storage.md5"

echo "$stamp" >"$OUT/.stamp"
