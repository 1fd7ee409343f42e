#!/bin/sh
# guests/stage4/l1-checks.sh - stage 4's Linux runs, inside the nested host's L1 (busybox sh).
#
# tests/checks/stage4.sh starts this through tests/nested/run-nested with these files in
# /work: mvl (minivisor-lite.static), vmlinuz, initrd.cpio.gz, disk.ext4 (holding
# guest-test.sh as /test.sh and virtio-rng.ko) and tun.ko. Each run is one section of the
# output, "== NAME", and ends with "vmm-exit: N"; the grader's checks each read one section.

cd /work || exit 1
insmod tun.ko 2>/dev/null    # L1's kernel builds tap support as a module

echo "== full: --smp 2 --mem 300M, virtio-blk (fast path), virtio-net, virtio-rng"
# --fast-virtio: L1 has one CPU, where minivisor-lite would choose the simple path itself.
# --stats: how virtio-blk interrupted the guest (irqfd writes on the fast path).
# A network namespace of our own: the tap and its address exist only for this test.
unshare -n sh -c '
	ip link set lo up
	./mvl --create-tap mvtap0 && ip addr add 10.0.2.2/24 dev mvtap0 &&
		ip link set mvtap0 up || { echo "l1: cannot set up tap mvtap0"; exit 1; }
	./mvl --smp 2 --mem 300M --disk disk.ext4 --fast-virtio --stats --net tap=mvtap0 --rng \
		vmlinuz initrd.cpio.gz
	echo "vmm-exit: $?"
'

echo "== nomsi: virtio-blk's fast path with INTx (pci=nomsi): the pin through irqfd + resample"
# Linux leaves MSI-X off: each interrupt raises the pin with a write to an irqfd, KVM lowers
# it at the guest's EOI and tells the I/O thread through the resample eventfd (--stats).
# The guest writes a file (read back outside with debugfs) and reads the whole disk.
./mvl --mem 256M --disk disk.ext4 --fast-virtio --stats --append pci=nomsi --test \
	"echo nomsi-wrote-this >/mnt/nomsi.txt && sync && dd if=/dev/vda of=/dev/null bs=64k && echo nomsi: read ok; irqs virtio" \
	vmlinuz initrd.cpio.gz
echo "vmm-exit: $?"

echo "== reboot"
./mvl --test "reboot -f" vmlinuz initrd.cpio.gz
echo "vmm-exit: $?"
