#!/bin/sh
# guests/stage5/l1-usb-bench.sh - the USB stick benchmark, inside the nested host's L1.
#
# tests/bench.d/stage5-usb.sh starts this through tests/nested/run-nested --qemu with these
# files in /work: minivisor (static), bios-256k.bin, linuxboot_dma.bin, vmlinuz,
# initrd-usb.cpio.gz (with guests/stage5/usb-test.sh as /test.sh), bench.raw (ext4 with a
# 64 MiB big.bin) and bench-u.raw (ext4 with an 8 MiB big.bin: UHCI moves 12 Mb/s at best).
# The same guest, kernel command line, controller (qemu-xhci with bench.raw, then
# piix3-usb-uhci with bench-u.raw), device (usb-storage) and image, under minivisor and under
# QEMU, alternately, RUNS times each; the guest times its own read of big.bin (usb-test.sh,
# usbtest=bench). Lines "bench: VMM CONTROLLER read N MiB start=S end=E".
cd /work || exit 1
runs=${1:-2}
append="console=ttyS0 panic=-1 quiet usbtest=bench"
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	for hc in qemu-xhci:bench.raw piix3-usb-uhci:bench-u.raw; do
		stick="-device ${hc%%:*} -drive if=none,id=s,file=${hc#*:},format=raw -device usb-storage,drive=s"
		# shellcheck disable=SC2086 # $stick: words on purpose
		./minivisor -no-reboot -M pc -m 512M -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
			-kernel vmlinuz -initrd initrd-usb.cpio.gz -append "$append" $stick </dev/null 2>&1 |
			sed -n "s/^usb-bench: /bench: ours ${hc%%:*} /p"
		# shellcheck disable=SC2086
		qemu-system-x86_64 -enable-kvm -M pc -m 512M -nographic -nodefaults -serial stdio \
			-no-reboot -kernel vmlinuz -initrd initrd-usb.cpio.gz -append "$append" $stick \
			</dev/null 2>&1 | sed -n "s/^usb-bench: /bench: qemu ${hc%%:*} /p"
	done
done
echo "bench: end"
