#!/bin/sh
# guests/stage5/l1-uefi-bench.sh - the UEFI boot bench, inside the nested host's L1 (busybox sh).
#
# Started by tests/bench.d/stage5-uefi.sh through run-nested --qemu, with minivisor (the static
# build), OVMF_CODE_4M.fd, uefi-vars.fd and uefi-disk.img (guests/linux/uefi-disk.sh: one disk
# that OVMF boots through Boot0000 and Linux's EFI stub, and SeaBIOS through SYSLINUX, to the
# same kernel and initramfs) and stamp (tests/nested/stamp.c) in /work. QEMU's own SeaBIOS and
# VGA BIOS are in L1's /usr/share (run-nested --qemu); minivisor finds them there too.
#
#   sh l1-uefi-bench.sh NAME...     NAME: ours-bios qemu-bios ours-ovmf qemu-ovmf
#
# Each NAME is one boot of `-M q35 -m 512M -no-reboot`, one vCPU, the disk on the q35's AHCI,
# a standard VGA, the console on COM1; the OVMF boots start from a fresh copy of uefi-vars.fd
# (their guest test writes a variable and reboots, which ends the VMM). For the OVMF boots,
# L1's KVM ticks periodic guest timers at most once a second (kvm.min_timer_period_us), the
# nested host's workaround for L0's QEMU abort (tests/nested/README.md, "Known problem: OVMF
# in L2 aborts L0's QEMU"; guests/stage5/l1-uefi.sh); the SeaBIOS boots run with KVM's
# default (200 us), as SYSLINUX's timeout counts BIOS ticks. Times are on L1's monotonic clock,
# from the VMM's start:
#   fw_s      the firmware hands over: OVMF "BdsDxe: starting Boot0000", SeaBIOS "Booting
#             from Hard Disk" (SYSLINUX loads the kernel after it)
#   kernel_s  the kernel's first console line ("Linux version")
#   init_s    the guest's init is up ("minivisor-init: up")
#   total_s   the VMM exited: after the test's reboot (OVMF) or ACPI power-off (SeaBIOS)
# Prints one "bench: NAME key=value..." line per boot, or "bench: NAME FAILED" and the console's
# tail. The boots run in the order given, so that the host side can run again only the ones a
# lost session did not finish.

cd /work || exit 1
OVMF_TICK_US=${OVMF_TICK_US:-1000000}   # kvm.min_timer_period_us for the OVMF boots
CODE="if=pflash,format=raw,unit=0,file=OVMF_CODE_4M.fd,readonly=on"

# command_of NAME: the VMM's command line for that boot.
command_of() {
	case $1 in
	ours-bios) echo "./minivisor -no-reboot -M q35 -m 512M -smp 1 -drive file=uefi-disk.img,format=raw" ;;
	ours-ovmf) echo "./minivisor -no-reboot -M q35 -m 512M -smp 1 -drive $CODE" \
		"-drive if=pflash,format=raw,unit=1,file=run-vars.fd -drive file=uefi-disk.img,format=raw" ;;
	# -nographic: fw_cfg's "no graphics" for SeaBIOS (it prints on COM1, as ours does); -device
	# VGA: the standard VGA minivisor's q35 has too; if=ide: the q35's AHCI.
	qemu-*) printf '%s' "qemu-system-x86_64 -enable-kvm -M q35 -cpu host,-arch-capabilities" \
		" -m 512M -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot" \
		" -device VGA -drive file=uefi-disk.img,format=raw,if=ide"
		[ "$1" = qemu-ovmf ] && printf '%s' " -drive $CODE" \
			" -drive if=pflash,format=raw,unit=1,file=run-vars.fd"
		echo ;;
	esac
}

for name in "$@"; do
	case $name in
	*-ovmf) fw='BdsDxe: starting Boot0000' ok='uefi-test: rebooting' tick=$OVMF_TICK_US ;;
	*-bios) fw='Booting from Hard Disk' ok='minivisor-test-exit: 0' tick=200 ;;
	*) echo "bench: $name FAILED (unknown name)"; continue ;;
	esac
	echo "$tick" >/sys/module/kvm/parameters/min_timer_period_us
	cp uefi-vars.fd run-vars.fd
	echo "exec $(command_of "$name")" >/tmp/vmm
	sh /tmp/vmm </dev/null 2>&1 | ./stamp fw_s="$fw" kernel_s='Linux version' \
		init_s='minivisor-init: up' >/tmp/out 2>/tmp/stamps
	echo "bench: $name $(sed -n 's/^stamp: total=/stamp: total_s=/; s/^stamp: //p' /tmp/stamps |
		tr '\n' ' ')"
	if ! grep -q "$ok" /tmp/out; then
		echo "bench: $name FAILED"
		tail -n 20 /tmp/out | sed 's/^/  /'
	fi
done
