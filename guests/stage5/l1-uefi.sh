#!/bin/sh
# guests/stage5/l1-uefi.sh - UEFI boots inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-uefi.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), OVMF_CODE_4M.fd (Debian's ovmf), uefi-disk.img and
# uefi-vars.fd (guests/linux/uefi-disk.sh: an EFI system partition with Debian's kernel as an
# EFI stub, and OVMF's empty variable store with a boot option for it). The chain, twice on one
# copy of the variable store:
#   OVMF (pflash) -> boot option Boot0000 -> AHCI disk -> Linux's EFI stub -> init -> test
# The guest's test (guests/linux/uefi/uefi-test.sh) writes a UEFI variable on the first boot
# and finds it on the second. Each boot is one section "== NAME" ending with "vmm-exit: N".
cd /work || exit 1
cp uefi-vars.fd vars.fd
boot() {
	echo "== $1"
	./minivisor -M q35 -m 512M -smp 1 \
		-drive if=pflash,format=raw,unit=0,file=OVMF_CODE_4M.fd,readonly=on \
		-drive if=pflash,format=raw,unit=1,file=vars.fd \
		-drive file=uefi-disk.img,format=raw </dev/null 2>&1
	echo "vmm-exit: $?"
}
boot first-boot
cmp -s vars.fd uefi-vars.fd && echo "vars-file: unchanged" || echo "vars-file: changed"
boot second-boot
echo "== end"
