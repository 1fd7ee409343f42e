#!/bin/sh
# guests/stage5/l1-cr8.sh - inside the nested host's L1: boot a Multiboot kernel (cr8-test.elf:
# CR8 writes with IF=0 while IRQ0 waits; cr8-test-nocr8.elf: the same without the CR8 write)
# under one VMM and say how it ended. Where L0's QEMU has the bug of tests/nested/README.md
# ("OVMF and the nested host's QEMU"), L0 aborts and this script never reaches its last line
# (run-nested: "L1 stopped before the command finished (qemu exit status 134)").
#   sh l1-cr8.sh minivisor KERNEL      # /work/minivisor -kernel KERNEL (SeaBIOS, multiboot)
#   sh l1-cr8.sh qemu KERNEL [ARGS]    # QEMU (run-nested --qemu) with KVM, ARGS appended, e.g.
#                                      # -machine kernel-irqchip=off (a user-space LAPIC)
cd /work || exit 1
vmm=$1 kernel=$2
shift 2
echo "== $kernel under $vmm $*"
case $vmm in
minivisor)
	./minivisor -m 64M -smp 1 -no-reboot -kernel "$kernel" </dev/null 2>&1 ;;
qemu)
	qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities -m 64M -nodefaults \
		-no-user-config -display none -no-reboot -serial stdio -kernel "$kernel" \
		"$@" </dev/null 2>&1 ;;
*)
	echo "l1-cr8.sh: unknown VMM $vmm"; exit 2 ;;
esac
echo "vmm-exit: $?"
