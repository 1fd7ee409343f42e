#!/bin/sh
# guests/stage5/nvme-test.sh - the L2 Linux guest's side of the NVMe passthrough check: it
# becomes /test.sh of the guest's initramfs (guests/linux/init runs it), appended as a second
# cpio archive by tests/checks/stage5-vfio.sh. The controller is QEMU's nvme in L1, passed
# through by minivisor (-device vfio-pci); its image is a file on the grader's host whose
# first MiB is random (the host knows its md5). Each step prints one "nvmetest: " line:
#   driver      which Linux driver bound the controller, and its interrupts (/proc/interrupts)
#   read        md5 of the namespace's first MiB (O_DIRECT: from the device, not the cache)
#   write       1 MiB of `seq` text at 4 MiB, O_DIRECT + fsync; its md5
#   readback    md5 of those bytes read back from the device
#   seqread     MiB read sequentially with O_DIRECT, and the time it took (the bench's figure)
# then "nvmetest: all ok" when the three md5s agree with what they must be.
# Bench mode (tests/bench.d/stage5-vfio.sh): SEQ_MIB=N [SEQ_REPEAT=R] on the kernel command
# line (the kernel hands such words to init as environment) reads N MiB of TEST_DEV (default
# the NVMe namespace) R times, between the lines "nvmetest: seqread start" and "nvmetest: seqread N*R MiB in S s",
# and nothing else: L1 counts KVM's exits between the two lines.

dev=${TEST_DEV:-/dev/nvme0n1}
i=0
while [ ! -b "$dev" ] && [ $i -lt 100 ]; do   # the driver probes asynchronously: at most 10 s
	sleep 0.1
	i=$((i + 1))
done
[ -b "$dev" ] || { echo "nvmetest: FAILED: no $dev"; exit 1; }
if [ -n "${SEQ_MIB:-}" ]; then   # SEQ_REPEAT times (default 1): a figure above the clock's 10 ms
	echo "nvmetest: seqread start"
	t0=$(cut -d' ' -f1 /proc/uptime)
	n=0
	while [ $n -lt "${SEQ_REPEAT:-1}" ]; do
		dd if="$dev" of=/dev/null bs=1M count="$SEQ_MIB" iflag=direct 2>/dev/null
		n=$((n + 1))
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "nvmetest: seqread $((SEQ_MIB * n)) MiB in" \
		"$(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s"
	exit 0
fi
drv=$(basename "$(readlink /sys/class/nvme/nvme0/device/driver)")
echo "nvmetest: driver $drv, $(cat /sys/block/nvme0n1/size) sectors," \
	"interrupts: $(grep -c nvme /proc/interrupts) lines ($(grep nvme /proc/interrupts | head -n 1 | awk '{print $(NF-1)}'))"
read_md5=$(dd if=$dev bs=1M count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
echo "nvmetest: read md5 $read_md5"
seq 1 200000 | head -c 1048576 >/tmp/pattern
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
dd if=/tmp/pattern of=$dev bs=1M seek=4 oflag=direct conv=fsync 2>/dev/null
echo "nvmetest: write md5 $want"
back=$(dd if=$dev bs=1M skip=4 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
echo "nvmetest: readback md5 $back"
# Sequential read: 32 MiB in 1 MiB requests, O_DIRECT; the clock is /proc/uptime (10 ms).
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=$dev of=/dev/null bs=1M count=32 iflag=direct 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
echo "nvmetest: seqread 32 MiB in $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s"
[ -n "$EXPECT_MD5" ] || EXPECT_MD5=$(cat /expect.md5 2>/dev/null)
if [ "$read_md5" = "$EXPECT_MD5" ] && [ "$back" = "$want" ]; then
	echo "nvmetest: all ok"
else
	echo "nvmetest: FAILED (read $read_md5, expected $EXPECT_MD5; readback $back, wrote $want)"
fi
