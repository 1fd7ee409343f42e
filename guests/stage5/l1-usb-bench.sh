#!/bin/sh
# guests/stage5/l1-usb-bench.sh - the USB stick benchmark, inside the nested host's L1.
#
# tests/bench.d/stage5-usb.sh starts this through tests/nested/run-nested --qemu with these
# files in /work: minivisor (static), bios-256k.bin, linuxboot_dma.bin, vmlinuz,
# initrd-usb.cpio.gz (with guests/stage5/usb-test.sh as /test.sh) and bench.raw (ext4 with a
# 64 MiB big.bin). The same guest, kernel command line, controller (qemu-xhci), device
# (usb-storage) and image, under minivisor and under QEMU, alternately, RUNS times each; the
# guest times its own read of big.bin (usb-test.sh, usbtest=bench). Lines "bench: VMM ..." .
cd /work || exit 1
runs=${1:-2}
append="console=ttyS0 panic=-1 quiet usbtest=bench"
stick="-device qemu-xhci -drive if=none,id=s,file=bench.raw,format=raw -device usb-storage,drive=s"
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	# shellcheck disable=SC2086 # $stick: words on purpose
	./minivisor -no-reboot -M pc -m 512M -bios bios-256k.bin -linuxboot linuxboot_dma.bin \
		-kernel vmlinuz -initrd initrd-usb.cpio.gz -append "$append" $stick </dev/null 2>&1 |
		sed -n 's/^usb-bench: /bench: ours /p'
	# shellcheck disable=SC2086
	qemu-system-x86_64 -enable-kvm -M pc -m 512M -nographic -nodefaults -serial stdio \
		-no-reboot -kernel vmlinuz -initrd initrd-usb.cpio.gz -append "$append" $stick \
		</dev/null 2>&1 | sed -n 's/^usb-bench: /bench: qemu /p'
done
echo "bench: end"
