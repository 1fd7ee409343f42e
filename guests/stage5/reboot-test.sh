#!/bin/sh
# guests/stage5/reboot-test.sh - the Linux guest's side of the reboot check (/test.sh in the
# initramfs; guests/stage5/l1-reset.sh boots it twice in one VMM process).
#
# The disk (/dev/sda: the machine's only drive, IDE on pc, AHCI on q35) carries a marker
# across the reset. First boot: no marker; write it, sync, reboot (Linux's reboot tries the
# FADT's reset register first: 0x06 to port 0xcf9). Second boot: the marker is there; show
# the HPET at work (clocksource, its timer in /proc/timer_list, a sleep), end with power-off.
MARK=MINIVISOR-REBOOT-MARK
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "reboot-test: clocksource $cs"
found=$(dd if=/dev/sda bs=512 count=1 2>/dev/null | head -c ${#MARK})
if [ "$found" != "$MARK" ]; then
	echo "reboot-test: first boot, no marker: writing it"
	printf '%s\n' "$MARK" | dd of=/dev/sda bs=512 count=1 conv=sync 2>/dev/null
	sync
	echo "reboot-test: rebooting"
	reboot -f
	sleep 30   # (reboot -f does not return)
	echo "reboot-test: still running after reboot -f"
	exit 1
fi
echo "reboot-test: second boot, the marker is on the disk"
dmesg | grep -i -E 'hpet|ACPI: HPET'
grep -E 'Clock Event Device: hpet|set_next_event: hpet|event_handler' /proc/timer_list | sort | uniq -c
t0=$(date +%s)
sleep 1
t1=$(date +%s)
echo "reboot-test: sleep 1 returned, the clock advanced $((t1 - t0)) s"
grep -E 'timer|hpet' /proc/interrupts
exit 0
