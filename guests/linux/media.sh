# shellcheck shell=bash
#
# guests/linux/media.sh - put a kernel and an initramfs on boot media a BIOS can boot.
#
# Sourced by guests/linux/build.sh. Direct kernel boot (-kernel/-initrd) skips the firmware's
# disk code; these media go through it, the way a PC boots an installer or an installed system:
#
#   media_iso    an El Torito CD image: the BIOS loads isolinux.bin from the CD (INT 13h on
#                2048-byte sectors, "no emulation" mode); ISOLINUX reads isolinux.cfg, loads
#                the kernel and initramfs with the same BIOS calls and starts Linux.
#   media_disk   a hard disk image: the BIOS loads sector 0 (the MBR boot code), which loads
#                the first sector of the partition marked active; that is SYSLINUX's boot
#                sector, which finds ldlinux.sys in the FAT file system, then syslinux.cfg.
#
# Neither needs root: xorriso writes an ISO from a directory, sfdisk/mkfs.vfat/mtools/syslinux
# all work on a plain file at a byte offset (no loop device, no mount). Both media carry an
# MD5SUMS file that the guest's storage test checks, reading every byte back through the
# emulated controller.
#
# Functions print one-line errors prefixed with $ME and return non-zero.

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
ISOHYBRID_MBR=/usr/lib/ISOLINUX/isohdpfx.bin
SYSLINUX_MODULES=/usr/lib/syslinux/modules/bios
SYSLINUX_MBR=/usr/lib/syslinux/mbr/mbr.bin

# media_tree DIR KERNEL INITRD: the files both media hold at their root.
media_tree()
{
	local dir=$1
	mkdir -p "$dir" || return 1
	cp "$2" "$dir/vmlinuz" && cp "$3" "$dir/initrd.gz" || return 1
	(cd "$dir" && md5sum vmlinuz initrd.gz >MD5SUMS)
}

# media_iso OUT KERNEL INITRD CFG WORKDIR: a bootable ISO 9660 image (also bootable from a
# hard disk or USB stick thanks to the isohybrid MBR; that part is optional for a PC BIOS).
media_iso()
{
	local out=$1 cfg=$4 dir=$5/iso log=$5/xorriso.log f
	for f in "$ISOLINUX_BIN" "$ISOHYBRID_MBR" "$SYSLINUX_MODULES/ldlinux.c32"; do
		[ -f "$f" ] || { echo "$ME: $f missing (run 'make deps')" >&2; return 1; }
	done
	rm -rf "$dir"
	media_tree "$dir" "$2" "$3" || { echo "$ME: cannot fill $dir" >&2; return 1; }
	mkdir -p "$dir/isolinux"
	# isolinux.bin is the El Torito boot image; ldlinux.c32 is the rest of the loader, which
	# isolinux.bin looks for next to itself.
	cp "$ISOLINUX_BIN" "$SYSLINUX_MODULES/ldlinux.c32" "$dir/isolinux/" &&
		cp "$cfg" "$dir/isolinux/isolinux.cfg" || return 1
	# -boot-load-size 4: the BIOS loads 4 * 512 bytes of isolinux.bin, which loads the rest.
	# -boot-info-table: xorriso patches the CD's layout into isolinux.bin, which needs it.
	if ! xorriso -as mkisofs -quiet -o "$out.tmp" -V MINIVISOR -R \
		-b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table \
		-isohybrid-mbr "$ISOHYBRID_MBR" "$dir" >"$log" 2>&1; then
		echo "$ME: xorriso failed (see $log)" >&2
		return 1
	fi
	rm -rf "$dir" "$log"
	mv "$out.tmp" "$out"
}

# media_disk OUT SIZE_MIB KERNEL INITRD CFG WORKDIR: a qcow2 hard disk image with an MBR
# partition table, one active FAT partition from 1 MiB to the end, SYSLINUX installed in it.
media_disk()
{
	local out=$1 mib=$2 cfg=$5 work=$6 raw=$6/disk.raw log=$6/disk.log
	local start=2048 sectors part_sectors offset f
	for f in "$SYSLINUX_MBR" "$SYSLINUX_MODULES/ldlinux.c32"; do
		[ -f "$f" ] || { echo "$ME: $f missing (run 'make deps')" >&2; return 1; }
	done
	sectors=$((mib * 2048))
	part_sectors=$((sectors - start))
	offset=$((start * 512))
	rm -rf "$work/disk" "$raw"
	media_tree "$work/disk" "$3" "$4" && cp "$cfg" "$work/disk/syslinux.cfg" ||
		{ echo "$ME: cannot fill $work/disk" >&2; return 1; }
	truncate -s "${mib}M" "$raw" || return 1
	{
		# The partition table: type 0x0e (FAT16, reached by LBA), marked bootable (active),
		# so that the MBR code below picks it.
		printf 'label: dos\nstart=%d, size=%d, type=e, bootable\n' $start $part_sectors |
			sfdisk --no-reread --no-tell-kernel "$raw" &&
		# The file system, written straight at the partition's offset. -h: the "hidden
		# sectors" field, the partition's start LBA, which the boot sector adds to every read.
		mkfs.vfat -F 16 -n MINIVISOR -i 4d56a1b0 -h $start --offset=$start "$raw" \
			$((part_sectors / 2)) &&
		# mtools reach a file system inside an image with FILE@@OFFSET.
		MTOOLS_SKIP_CHECK=1 mcopy -o -i "$raw@@$offset" "$work/disk/"* ::/ &&
		# Debian's syslinux is the mtools flavour: it writes ldlinux.sys, ldlinux.c32 and the
		# partition's boot sector through mtools, at the given byte offset.
		syslinux --install --offset $offset "$raw" &&
		# The MBR boot code: the first 440 bytes, before the disk signature and the table.
		dd if="$SYSLINUX_MBR" of="$raw" bs=440 count=1 conv=notrunc status=none &&
		qemu-img convert -f raw -O qcow2 "$raw" "$out.tmp"
	} >"$log" 2>&1 || { echo "$ME: building the boot disk failed (see $log)" >&2; return 1; }
	rm -rf "$work/disk" "$raw" "$log"
	mv "$out.tmp" "$out"
}
