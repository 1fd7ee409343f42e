#!/bin/bash
# guests/linux/uefi-disk.sh - a disk that UEFI firmware (OVMF) boots: an EFI System Partition.
#
#   guests/linux/uefi-disk.sh [OUTDIR]     # default OUTDIR: build/linux; run build.sh first
#
# Outputs: OUTDIR/uefi-vars.fd, OVMF's empty variable store (ovmf's OVMF_VARS_4M.fd) with a boot
# option for the kernel below (uefi/boot-entry.py): copy it per VM; and
# OUTDIR/uefi-disk.img, a raw 48 MiB disk: an MBR partition table with one partition of
# type 0xef (EFI System) from 1 MiB, FAT16, holding
#   vmlinuz.efi    Debian's kernel: a bzImage is also a PE/COFF executable (its EFI stub), so
#                  the firmware can start it like any UEFI application
#   initrd.gz      build.sh's initramfs with a second cpio archive appended (the kernel unpacks
#                  one over the other): uefi/uefi-test.sh and the efivarfs module
#   startup.nsh    what the UEFI shell runs: the kernel with its initrd= and command line
#   syslinux.cfg   and SYSLINUX (MBR code, the partition's boot sector, ldlinux.sys): the same
#                  kernel and initramfs for a BIOS (SeaBIOS) - one disk that both firmwares
#                  boot, for the UEFI boot bench (tests/bench.d/stage5-uefi.sh)
#
# The chain: with uefi-vars.fd, OVMF's boot manager starts Boot0000: \vmlinuz.efi on this
# partition, with the command line (initrd=\initrd.gz ...) as its load options. With a plain
# OVMF_VARS copy it finds no \EFI\BOOT\BOOTX64.EFI (the removable-media path), so its next
# boot option, the built-in UEFI shell, runs startup.nsh after a 5 s countdown: the same
# command. (An EFI stub started as BOOTX64.EFI would get no command line, hence no initrd.)
#
# No root needed (sfdisk, mkfs.vfat --offset, mtools, syslinux --offset). A stamp makes a
# rerun a no-op until an input changes. Quiet on success; one line on stderr and a non-zero
# exit on failure.
set -u -o pipefail
ME=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/build/linux}
CACHE=$ROOT/build/cache/kernel
DISK_MIB=48
START=2048    # the partition's first sector: 1 MiB
DISK_ID=0x4d56efe5   # the MBR's disk signature: the boot option's device path names it
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
SYSLINUX_MBR=/usr/lib/syslinux/mbr/mbr.bin

die() { echo "$ME: $*" >&2; exit 1; }
# shellcheck source=kernel.sh
. "$HERE/kernel.sh"

for f in "$OUT/vmlinuz" "$OUT/initrd.cpio.gz"; do
	[ -f "$f" ] || die "$f missing (run guests/linux/build.sh first)"
done
[ -f "$OVMF_VARS" ] || die "$OVMF_VARS missing (run 'make deps': package ovmf)"
[ -f "$SYSLINUX_MBR" ] || die "$SYSLINUX_MBR missing (run 'make deps': package syslinux-common)"
for tool in sfdisk mkfs.vfat mcopy syslinux cpio gzip python3; do
	command -v "$tool" >/dev/null || die "$tool not found (run 'make deps')"
done
stamp=$(cat "$0" "$HERE"/uefi/* "$OUT/vmlinuz" "$OUT/initrd.cpio.gz" | sha256sum | cut -d' ' -f1)
[ "$(cat "$OUT/.uefi-stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$OUT/uefi-disk.img" ] &&
	[ -f "$OUT/uefi-vars.fd" ] && exit 0

kernel_fetch "$CACHE" linux-image-amd64 || exit 1
work=$OUT/.uefi
rm -rf "$work" && mkdir -p "$work/esp" "$work/extra/lib/modules" || die "cannot make $work"
ko=$(kernel_module_file efivarfs) || exit 1
cp "$ko" "$work/extra/lib/modules/efivarfs.ko" &&
	cp "$HERE/uefi/uefi-test.sh" "$work/extra/uefi-test.sh" && chmod 755 "$work/extra/uefi-test.sh" ||
	die "cannot fill $work/extra"
kernel_cpio "$work/extra" "$work/extra.cpio.gz" || die "cpio of $work/extra failed"
cat "$OUT/initrd.cpio.gz" "$work/extra.cpio.gz" >"$work/esp/initrd.gz" &&
	cp "$OUT/vmlinuz" "$work/esp/vmlinuz.efi" && cp "$HERE/uefi/startup.nsh" "$work/esp/" &&
	cp "$HERE/uefi/syslinux.cfg" "$work/esp/" ||
	die "cannot fill $work/esp"

raw=$work/disk.raw
sectors=$((DISK_MIB * 2048 - START))
{
	truncate -s "${DISK_MIB}M" "$raw" &&
	# Active ("bootable") only for the BIOS's MBR code; UEFI goes by the type, 0xef.
	printf 'label: dos\nlabel-id: %s\nstart=%d, size=%d, type=ef, bootable\n' $DISK_ID \
		$START $sectors | sfdisk --no-reread --no-tell-kernel "$raw" &&
	mkfs.vfat -F 16 -n MINIVISOR -i 4d56efe5 -h $START --offset=$START "$raw" $((sectors / 2)) &&
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$raw@@$((START * 512))" "$work/esp/"* ::/ &&
	# The BIOS path, as guests/linux/media.sh's media_disk: SYSLINUX's files and boot sector
	# through mtools at the partition's offset, then the MBR code (440 bytes: the disk
	# signature that Boot0000's device path names stays).
	syslinux --install --offset $((START * 512)) "$raw" &&
	dd if="$SYSLINUX_MBR" of="$raw" bs=440 count=1 conv=notrunc status=none
} >"$work/log" 2>&1 || die "building the EFI system partition failed (see $work/log)"
# The variable store to start from: OVMF's empty one plus a boot option for the kernel.
python3 "$HERE/uefi/boot-entry.py" "$OVMF_VARS" "$work/uefi-vars.fd" $DISK_ID $START $sectors \
	'\vmlinuz.efi' "$(sed -n 's/^\\vmlinuz.efi //p' "$HERE/uefi/startup.nsh")" ||
	die "cannot write the variable store"
mv "$raw" "$OUT/uefi-disk.img" && mv "$work/uefi-vars.fd" "$OUT/uefi-vars.fd" && rm -rf "$work" ||
	die "cannot write $OUT/uefi-disk.img"
echo "$stamp" >"$OUT/.uefi-stamp"
