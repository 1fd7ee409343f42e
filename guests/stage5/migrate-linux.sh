#!/bin/sh
# guests/stage5/migrate-linux.sh - the Linux guest's side of the nested migration run (/test.sh
# in the initramfs; guests/stage5/l1-migrate.sh moves the machine while this runs).
# Once a second: a count on the console; every 3rd count a 4 KiB record of random bytes
# written to the disk (/dev/sda, block N) with fsync, and its sha256 printed; a line typed on
# the console is echoed ("linux-echo: LINE"); "quit" ends the test (the init powers off).
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
		echo "linux-echo: $line"
	fi
done
