#!/bin/sh
# uefi-test.sh - the Linux guest's test under OVMF (guests/linux/uefi-disk.sh puts it in the
# initramfs): is this a UEFI boot, and does a UEFI variable survive a reboot? The first boot
# finds the variable absent, writes it through efivarfs (OVMF's variable driver programs it
# into the VARS flash) and reboots the machine; the boot after it - the VMM's restart in the
# same process, or the VMM started again on the same VARS file - finds it with its value, and
# the test ends (init powers off).
V=/sys/firmware/efi/efivars/MinivisorTest-6d696e69-7669-736f-7200-000000000001
[ -d /sys/firmware/efi ] && echo "uefi-test: /sys/firmware/efi present" ||
	{ echo "uefi-test: no /sys/firmware/efi: not a UEFI boot"; exit 1; }
insmod /lib/modules/efivarfs.ko 2>/dev/null
mount -t efivarfs efivarfs /sys/firmware/efi/efivars ||
	{ echo "uefi-test: cannot mount efivarfs"; exit 1; }
echo "uefi-test: $(ls /sys/firmware/efi/efivars | wc -l) variables"
if [ -f "$V" ]; then
	# The first 4 bytes are the attributes, the rest the value.
	echo "uefi-test: variable found: $(tail -c +5 "$V")"
	umount /sys/firmware/efi/efivars
	exit 0
fi
echo "uefi-test: variable absent"
# Attributes 7: non-volatile, boot service and runtime access.
printf '\007\000\000\000written-by-the-first-boot' >"$V" ||
	{ echo "uefi-test: cannot write the variable"; exit 1; }
echo "uefi-test: variable written"
umount /sys/firmware/efi/efivars
# The write is in the flash once write() returned (a runtime service call). A reset now, as
# `reboot` would do it, minus the shutdown: -f asks the kernel directly.
echo "uefi-test: rebooting"
reboot -f
