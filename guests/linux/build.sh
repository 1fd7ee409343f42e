#!/bin/bash
#
# guests/linux/build.sh [OUTDIR] - build the Linux test guest (default OUTDIR: build/linux).
#
# What a hypervisor needs to boot Linux directly, made from Debian packages with no root
# mount and nothing installed on the host:
#
#   OUTDIR/vmlinuz         bzImage of Debian's cloud kernel (see kernel.sh for how it is fetched)
#   OUTDIR/initrd.cpio.gz  initramfs: static busybox, the virtio modules the kernel lacks built
#                          in, and guests/linux/init as /init (its header documents the
#                          mv.test=... protocol and the lines it prints)
#   OUTDIR/disk.ext4       16 MiB ext4 image of guests/linux/disk/, made by `mke2fs -d`,
#                          which copies a directory into a new file system without mounting it
#
# Example (QEMU as the reference VMM; the course's stage 4 boots the same files):
#   qemu-system-x86_64 -M microvm -enable-kvm -cpu host -m 256M -nographic -no-reboot \
#     -kernel build/linux/vmlinuz -initrd build/linux/initrd.cpio.gz \
#     -append 'console=ttyS0 panic=-1 mv.test="cat /mnt/hello.txt"' \
#     -drive id=d,if=none,format=raw,file=disk-copy.ext4 -device virtio-blk-device,drive=d
#
# A stamp file makes a rerun a no-op until an input changes: this script, kernel.sh, init,
# guests/linux/disk/, busybox or the kernel package version. The outputs are inputs to tests
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

# Drivers the cloud kernel builds as modules: virtio transports (MMIO for microVMs, PCI for
# PCs), the disk, console and network devices.
GUEST_MODULES="virtio_mmio virtio_pci virtio_blk virtio_console virtio_net virtio_rng"
DISK_SIZE=16M

for tool in apt-cache apt-get dpkg-deb cpio gzip mke2fs sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (run 'make deps')"
done

kernel_fetch "$CACHE" || exit 1

# The stamp: a hash over every input. Same hash and all outputs present -> nothing to do.
stamp=$(
	{
		echo "$KERNEL_PKG $KERNEL_VERSION $GUEST_MODULES $DISK_SIZE"
		busybox 2>&1 | head -n 1
		cat "$HERE/build.sh" "$HERE/kernel.sh" "$HERE/init"
		(cd "$HERE/disk" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
	} | sha256sum | cut -d' ' -f1
)
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.cpio.gz" ] && [ -f "$OUT/disk.ext4" ]; then
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
# shellcheck disable=SC2086 # a list of names, split on purpose
modules=$(kernel_modules_closure $GUEST_MODULES) || exit 1
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

echo "$stamp" >"$OUT/.stamp"
