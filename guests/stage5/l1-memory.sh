#!/bin/sh
# guests/stage5/l1-memory.sh - RAM above 4 GiB seen by Linux, inside the nested host's L1.
#
# tests/checks/stage5-memory.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), bios-256k.bin, linuxboot_dma.bin, vmlinuz and
# initrd-memory.cpio.gz (the test guest's initramfs plus a second archive with /bin/memtouch
# and /test.sh, which prints /proc/meminfo's MemTotal and the kernel's e820, then runs
# memtouch: guests/stage5/memtouch.c). One run per machine type, each with -m $MEM (default
# 4G); each is one section, "== NAME", ending with "vmm-exit: N".
cd /work || exit 1
MEM=${MEM:-4G}
for m in pc q35; do
	echo "== $m"
	./minivisor -M $m -m "$MEM" -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
		-kernel vmlinuz -initrd initrd-memory.cpio.gz \
		-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1
	echo "vmm-exit: $?"
done
echo "== end"
