#!/bin/sh
# guests/stage5/migrate-linux.sh - the Linux guest's side of the nested migration run (/test.sh
# in the initramfs; guests/stage5/l1-migrate.sh moves the machine while this runs).
# First, when the machine has a network card: DHCP from slirp, then busybox httpd serves
# /www/seq.txt (seq 1 5000) on port 80, which L1 fetches through the VMM's hostfwd port after
# each move ("linux-net: serving ADDR" once it listens).
# Then once a second: a count on the console; every 3rd count a 4 KiB record of random bytes
# written to the disk (/dev/sda, block N) with fsync, and its sha256 printed; a line typed on
# the console is echoed ("linux-echo: LINE"); "quit" ends the test (the init powers off).
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 30 ]; do   # the driver may still probe
	i=$((i + 1))
	sleep 0.1
done
if ip link show eth0 >/dev/null 2>&1; then
	ip link set lo up
	ip link set eth0 up
	if udhcpc -i eth0 -s /bin/udhcpc-script -n -q -t 10 -T 1 >/dev/null 2>&1; then
		mkdir -p /www
		seq 1 5000 >/www/seq.txt
		httpd -p 80 -h /www &&
			echo "linux-net: serving $(ip -4 addr show dev eth0 | sed -n 's/.*inet \([0-9.]*\).*/\1/p')"
	else
		echo "linux-net: no DHCP lease"
	fi
fi
i=0
while :; do
	i=$((i + 1))
	echo "linux-count $i"
	if [ $((i % 3)) -eq 0 ]; then
		n=$((i / 3))
		head -c 4096 /dev/urandom >/tmp/rec
		dd if=/tmp/rec of=/dev/sda bs=4096 seek=$n count=1 conv=fsync 2>/dev/null
		echo "linux-record $n $(sha256sum </tmp/rec | cut -d' ' -f1)"
	fi
	if read -t 1 line; then
		[ "$line" = quit ] && { echo "linux-bye"; break; }
		if [ "$line" = usb ]; then   # the USB devices Linux sees now (after the moves)
			echo "linux-usb: $(cat /sys/bus/usb/devices/*/product 2>/dev/null | sort | tr '\n' ',')"
			# what the kernel logged when a controller went wrong (dmesg: every level)
			echo "linux-usb-trouble: $(dmesg | grep -ciE 'hc died|not responding|usb disconnect|xhci.*(error|warn)|uhci.*(error|warn)|device descriptor read')"
			continue
		fi
		echo "linux-echo: $line"
	fi
done
