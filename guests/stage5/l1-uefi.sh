#!/bin/sh
# guests/stage5/l1-uefi.sh - UEFI boots inside the nested host's L1 (busybox sh).
#
# tests/checks/stage5-uefi.sh starts this through tests/nested/run-nested with these files in
# /work: minivisor (the static build), OVMF_CODE_4M.fd (Debian's ovmf), uefi-disk.img and
# uefi-vars.fd (guests/linux/uefi-disk.sh: an EFI system partition with Debian's kernel as an
# EFI stub, and OVMF's empty variable store with a boot option for it). One minivisor run, two
# boots on one copy of the variable store, a reboot between them:
#   OVMF (pflash) -> boot option Boot0000 -> AHCI disk -> Linux's EFI stub -> init -> test
# The guest's test (guests/linux/uefi/uefi-test.sh) writes a UEFI variable and reboots; the
# VMM starts the machine again in the same process (no -no-reboot), and the test finds the
# variable. The output is cut in two sections, "== boot-1" and "== boot-2", at minivisor's
# "guest reset: the machine starts again" line; "vmm-exit: N" ends boot-2.
#
# The nested host's side of the bargain: L1's KVM ticks OVMF's periodic LAPIC timer at most
# once a second (kvm.min_timer_period_us, a KVM policy for every guest's periodic timers),
# instead of OVMF's 100 Hz. OVMF's interrupt entry writes CR8 on its way out, and in this
# nested host a CR8 write while the next tick waits aborts L0's QEMU 7.2 (tests/nested/
# README.md, "Known problem: OVMF in L2 aborts L0's QEMU"): one tick a second leaves no tick
# waiting. Linux's own timer (one-shot, TSC deadline) is not a periodic one.
cd /work || exit 1
echo 1000000 >/sys/module/kvm/parameters/min_timer_period_us ||
	{ echo "l1-uefi: cannot set kvm.min_timer_period_us"; exit 1; }
cp uefi-vars.fd vars.fd
echo "== boot-1"
{
	./minivisor -M q35 -m 512M -smp 1 \
		-drive if=pflash,format=raw,unit=0,file=OVMF_CODE_4M.fd,readonly=on \
		-drive if=pflash,format=raw,unit=1,file=vars.fd \
		-drive file=uefi-disk.img,format=raw </dev/null 2>&1
	echo "vmm-exit: $?"
} | awk '{ print } /guest reset: the machine starts again/ { print "== boot-2" }'
cmp -s vars.fd uefi-vars.fd && echo "vars-file: unchanged" || echo "vars-file: changed"
echo "== end"
