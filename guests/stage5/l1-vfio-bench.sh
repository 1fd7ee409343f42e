#!/bin/sh
# guests/stage5/l1-vfio-bench.sh - the NVMe passthrough bench, inside the nested host's L1
# (tests/bench.d/stage5-vfio.sh starts it: L1 = q35 + Intel IOMMU + QEMU's nvme at 00:07.0,
# QEMU in L1's PATH). L2 Linux guests read the same 64 MiB image sequentially, REPEAT times,
# (guests/stage5/nvme-test.sh in bench mode, O_DIRECT, 1 MiB requests):
#   minivisor  the NVMe controller passed through (-device vfio-pci)
#   qemu       the same controller passed through by QEMU (-device vfio-pci), the peer
#   emulated   minivisor's own AHCI (q35) on a copy of the image in /work, no passthrough
# For each: the guest's time for the read (its /proc/uptime) and KVM's exits of all L1's VMs
# (debugfs kvm/exits) between the guest's "seqread start" line and its result line, sampled
# by the loop below (every 50 ms: a few timer exits of that slack count too).
# Output: "bench: NAME MIB MiB SECONDS s EXITS exits" lines, or "bench: NAME no figure".
cd /work || exit 1
MIB=${1:-64}   # the image's size; read REPEAT times (argument 2)
EXITS=/sys/kernel/debug/kvm/exits
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
for ko in ko/*.ko; do insmod "$ko" 2>/dev/null; done
dev=0000:00:07.0
[ -e /sys/bus/pci/devices/$dev/driver ] && echo $dev >/sys/bus/pci/devices/$dev/driver/unbind
echo vfio-pci >/sys/bus/pci/devices/$dev/driver_override
echo $dev >/sys/bus/pci/drivers_probe
cat initrd.cpio.gz nvme-test.cpio >initrd-nvme.cpio
REPEAT=${2:-4}
APPEND="console=ttyS0 panic=-1 quiet SEQ_MIB=$MIB SEQ_REPEAT=$REPEAT"

bench() {   # bench NAME COMMAND...: run it, sample the exits around the guest's read
	name=$1
	shift
	: >"$name.log"
	"$@" </dev/null >"$name.log" 2>&1 &
	pid=$!
	e0='' e1='' n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 3000 ]; do
		if [ -z "$e0" ] && grep -q 'nvmetest: seqread start' "$name.log"; then
			read -r e0 <$EXITS
		elif [ -n "$e0" ] && grep -q 'nvmetest: seqread .* MiB in' "$name.log"; then
			read -r e1 <$EXITS
			break
		fi
		n=$((n + 1))
		sleep 0.05
	done
	wait $pid
	secs=$(sed -n 's/.*nvmetest: seqread [0-9]* MiB in \([0-9.]*\) s.*/\1/p' "$name.log")
	if [ -n "$secs" ] && [ -n "$e1" ]; then
		echo "bench: $name $((MIB * REPEAT)) MiB $secs s $((e1 - e0)) exits"
	else
		echo "bench: $name no figure"
		tail -n 5 "$name.log"
	fi
}

# The two passthrough VMMs alternate, twice each (the host's load moves: the bench keeps the
# best of each); the emulated disk, ten times slower, reads a quarter as much, once.
for round in 1 2; do
	bench minivisor ./minivisor -M q35 -m 256 -kernel vmlinuz -initrd initrd-nvme.cpio \
		-no-reboot -append "$APPEND" -device vfio-pci,host=$dev
	bench qemu qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities -M q35 -m 256 \
		-nodefaults -no-user-config -display none -no-reboot -serial stdio \
		-kernel vmlinuz -initrd initrd-nvme.cpio -append "$APPEND" -device vfio-pci,host=$dev
done
REPEAT=$(( (REPEAT + 3) / 4 ))
APPEND="console=ttyS0 panic=-1 quiet SEQ_MIB=$MIB SEQ_REPEAT=$REPEAT TEST_DEV=/dev/sda"
bench emulated ./minivisor -M q35 -m 256 -kernel vmlinuz -initrd initrd-nvme.cpio -no-reboot \
	-append "$APPEND" -drive file=nvme.img,format=raw,if=ahci
echo "bench: end"
