#!/bin/sh
# guests/stage5/usb-test.sh - the USB check's test, inside the Linux guest (L2, busybox sh).
#
# Packed as /test.sh into a cpio layer appended to the guest's initramfs (guests/linux/init
# runs /test.sh when the command line names no test). It shows what Linux made of the USB
# devices the VMM gives it, then works on the stick (an ext4 image the check made with
# `mkfs.ext4 -d`): the files must read back with the checksums in MD5SUMS. The first boot
# writes guest.txt and guest.bin (and its md5) and resets the machine (reboot -f); the VMM
# builds the machine again, and the second boot checks what the first one wrote.
# Lines: "usb-dev: BUS-PORT VID:PID speed S PRODUCT", "usb-disk: ...", md5sum -c's "NAME: OK",
# "usb-test: wrote, rebooting", "usb-test: after reboot: guest.bin: OK"; with usbtest=once no
# reset: "usb-test: read back: guest.bin: OK" after the page cache is dropped. With usbtest=bench on
# the command line: only a timed read of big.bin, "usb-bench: read N MiB start=S end=E" (uptime).

# HID (kernel command line usbtest=hid): the USB keyboard's and tablet's events, read from
# /dev/input/event* while the VMM's input script (guests/stage5/usb-hid.script) plays keys and
# a move; the script waits for Caps Lock (ESC [ 3 q on tty1) as "ready". Each event is a line
# "hid-event: kbd|tablet TYPE CODE VALUE" (struct input_event: 24 bytes on x86-64).
event_node() {   # event_node NAME: the event device of the input device called NAME
	for e in /sys/class/input/event*; do
		[ "$(cat "$e/device/name" 2>/dev/null)" = "$1" ] && echo "/dev/input/${e##*/}"
	done
}
decode() {   # decode LABEL FILE
	od -An -v -tu1 "$2" | awk -v label="$1" '{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END { for (o = 0; o + 24 <= n; o += 24) {
			v = b[o+20] + 256 * b[o+21] + 65536 * b[o+22] + 16777216 * b[o+23]
			if (v >= 2147483648) v -= 4294967296
			print "hid-event: " label " " b[o+16] + 256 * b[o+17] " " \
				b[o+18] + 256 * b[o+19] " " v } }'
}
hid_test() {
	i=0
	while { [ -z "$(event_node "QEMU QEMU USB Keyboard")" ] ||
		[ -z "$(event_node "QEMU QEMU USB Tablet")" ]; } && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	list_devices
	kbd=$(event_node "QEMU QEMU USB Keyboard")
	tab=$(event_node "QEMU QEMU USB Tablet")
	echo "usb-hid: keyboard $kbd tablet $tab"
	[ -n "$kbd" ] && [ -n "$tab" ] || return 1
	# Caps Lock's LED (and its sync? no: LEDs come alone), then a down and an up: scan, key, sync.
	dd if="$kbd" of=/tmp/kbd.ev bs=24 count=7 2>/dev/null &
	kbd_pid=$!
	dd if="$tab" of=/tmp/tab.ev bs=24 count=4 2>/dev/null &   # the button (its scan), X, Y
	tab_pid=$!
	# A bound, not a synchronisation: a lost event ends the test instead of hanging it.
	(sleep 60; kill $kbd_pid $tab_pid 2>/dev/null) &
	guard=$!
	# Ready once both readers hold their device open: usbhid drops what a device reports in
	# the 50 ms its open() waits, so the open must have returned (the fd is in the table).
	i=0
	while ! { ls -l /proc/$kbd_pid/fd 2>/dev/null | grep -q "$kbd" &&
		ls -l /proc/$tab_pid/fd 2>/dev/null | grep -q "$tab"; } && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	printf '\033[3q' >/dev/tty1
	wait $kbd_pid $tab_pid
	kill $guard 2>/dev/null
	decode kbd /tmp/kbd.ev
	decode tablet /tmp/tab.ev
	irq_report
}

# With usbtest=hidvnc (the check's pc-xhci-hid run): hid_test, then the tablet's events while a
# VNC client in L1 (tests/checks/usb/vnc-pointer.c) moves the VMM's pointer. "usb-vnc: ready"
# on the console tells L1 to start the client once the event device is open; the events are
# read one at a time until the client's click is released (key 272: 1, then 0), at most 64.
vnc_test() {
	i=0
	while [ -z "$(event_node "QEMU QEMU USB Tablet")" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	tab=$(event_node "QEMU QEMU USB Tablet")
	echo "usb-vnc: tablet $tab"
	[ -n "$tab" ] || return 1
	exec 3<"$tab"
	echo "usb-vnc: ready"
	n=0
	pressed=
	while [ $n -lt 64 ]; do
		dd bs=24 count=1 <&3 >/tmp/ev 2>/dev/null || break
		ev=$(decode tablet /tmp/ev)
		echo "$ev"
		n=$((n + 1))
		case $ev in
		*" 1 272 1") pressed=1 ;;
		*" 1 272 0") [ -n "$pressed" ] && break ;;   # (the input script left it pressed)
		esac
	done
	exec 3<&-
}

# The controllers' interrupts: their /proc/interrupts lines, and for each PCI function with
# MSI or MSI-X vectors which kind they are (msi_irqs/N holds "msi" or "msix").
irq_report() {
	grep 'hci_hcd' /proc/interrupts | sed 's/^ */usb-irq: /'
	for m in /sys/bus/pci/devices/*/msi_irqs/*; do
		[ -f "$m" ] || continue
		f=${m%/msi_irqs/*}
		echo "usb-msi: ${f##*/} $(cat "$m")"
	done
}

list_devices() {
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		echo "usb-dev: ${d##*/} $(cat "$d/idVendor"):$(cat "$d/idProduct")" \
			"speed $(cat "$d/speed") $(cat "$d/product" 2>/dev/null)"
	done
}
case " $(cat /proc/cmdline) " in
*" usbtest=hid "*)
	hid_test
	exit $?
	;;
*" usbtest=hidvnc "*)
	hid_test && vnc_test
	exit $?
	;;
*" usbtest=bench "*)   # tests/bench.d/stage5-usb.sh: a timed sequential read of big.bin
	bench=1
	;;
*" usbtest=once "*)    # no reset: the write is read back in the same boot (page cache dropped)
	once=1
	;;
esac

# The hub driver enumerates in the background: wait (bounded) for the disk's device node.
i=0
while [ ! -b /dev/sda ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
list_devices
[ -b /dev/sda ] || { echo "usb-test: no /dev/sda"; exit 1; }
echo "usb-disk: $(cat /sys/block/sda/device/vendor) $(cat /sys/block/sda/device/model)" \
	"$(cat /sys/block/sda/size) sectors"
mkdir -p /stick
mount -t ext4 /dev/sda /stick || { echo "usb-test: mount failed"; exit 1; }
cd /stick || exit 1
if [ -n "${bench:-}" ]; then
	echo 3 >/proc/sys/vm/drop_caches
	start=$(cut -d' ' -f1 /proc/uptime)
	dd if=big.bin of=/dev/null bs=1M 2>/dev/null
	end=$(cut -d' ' -f1 /proc/uptime)
	echo "usb-bench: read $(($(wc -c <big.bin) >> 20)) MiB start=$start end=$end"
	cd /
	umount /stick
	exit 0
fi
md5sum -c MD5SUMS || exit 1
if [ -f guest.md5 ]; then
	echo "usb-test: after reboot: $(md5sum -c guest.md5)"
	cat guest.txt
	cd /
	umount /stick
	irq_report
	exit 0
fi
echo "written by the guest through usb-storage" >guest.txt
dd if=/dev/urandom of=guest.bin bs=1024 count=512 2>/dev/null
md5sum guest.bin >guest.md5
cd /
umount /stick
sync
if [ -n "${once:-}" ]; then
	echo 3 >/proc/sys/vm/drop_caches
	mount -t ext4 /dev/sda /stick || exit 1
	cd /stick || exit 1
	echo "usb-test: read back: $(md5sum -c guest.md5)"
	cd /
	umount /stick
	irq_report
	exit 0
fi
echo "usb-test: wrote, rebooting"
reboot -f
