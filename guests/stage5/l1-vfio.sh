#!/bin/sh
# guests/stage5/l1-vfio.sh - stage 5's VFIO passthrough checks, inside the nested host's L1
# (busybox sh), as root. tests/checks/stage5-vfio.sh starts it through tests/nested/run-nested
# with L1 = q35 + an emulated Intel IOMMU (intremap=on; intel_iommu=on iommu=pt) and these
# devices of L0's QEMU in L1:
#   00:05.0          edu (1234:11e8): the device passed through to L2, with an option ROM
#                    (guests/stage5/edu-rom.asm: it prints a line when SeaBIOS runs it)
#   00:06.0, 00:06.1 edu + virtio-rng, one multifunction slot without ACS: one IOMMU group,
#                    whose virtio-rng L1's virtio-pci driver holds (a group that is not viable)
#   00:07.0          nvme (its image a file of the grader's host): L1's built-in nvme driver
#                    takes it at boot; it is moved to vfio-pci and passed to an L2 Linux
# and in /work: minivisor (the static build), edu-test.elf (guests/stage5/edu-test.c), the
# firmware at its usual paths, vmlinuz and initrd.cpio.gz (guests/linux), nvme-test.cpio (its
# /test.sh: guests/stage5/nvme-test.sh, and /expect.md5), and ko/NN-NAME.ko, the VFIO modules in load order (they are
# loaded here, not by l1-init, so that the first run sees no /dev/vfio).
#
# Each run is one section of the output, "== NAME": the VMM's output, then "vmm-exit: N".

cd /work || exit 1
EDU=0000:00:05.0
EDU_GROUPED=0000:00:06.0
KERNEL="-m 64 -kernel edu-test.elf -no-reboot"

run() {   # run NAME MINIVISOR-ARGS...
	name=$1
	shift
	echo "== $name"
	./minivisor "$@" </dev/null >"$name.log" 2>&1
	rc=$?
	cat "$name.log"
	echo "vmm-exit: $rc"
}

bind_vfio() {   # bind_vfio BDF: hand the device to vfio-pci (QEMU's documented recipe)
	[ -e "/sys/bus/pci/devices/$1/driver" ] && echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	echo "l1: $1 driver $(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")," \
		"IOMMU group $(basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")")"
}

echo "== l1"
echo "l1: iommu groups: $(ls /sys/kernel/iommu_groups | wc -l)"
echo "l1: group of 00:06.0: $(ls /sys/bus/pci/devices/$EDU_GROUPED/iommu_group/devices | tr '\n' ' ')"

# Bad input before VFIO is loaded: no /dev/vfio.
run no-vfio -M q35 $KERNEL -device vfio-pci,host=$EDU

echo "== modules"
for ko in ko/*.ko; do
	insmod "$ko" 2>&1 | sed "s|^|l1: insmod $ko: |"
done
[ -c /dev/vfio/vfio ] && echo "l1: /dev/vfio/vfio present"

# Bad input with VFIO loaded: a device still on no driver, a wrong address, a group in use.
run not-bound -M q35 $KERNEL -device vfio-pci,host=$EDU
echo "== bind"
bind_vfio $EDU
bind_vfio $EDU_GROUPED
run wrong-bdf -M q35 $KERNEL -device vfio-pci,host=0000:00:1d.7
run not-viable -M q35 $KERNEL -device vfio-pci,host=$EDU_GROUPED
# A passed-through device's state is in the device: no migration, refused before any load.
run no-migration -M q35 $KERNEL -device vfio-pci,host=$EDU -incoming file:/work/none.snap

# edu passed through: q35, BAR0 mapped into the guest (a KVM slot); the guest resets the
# machine once and runs its checks again (the device passed through to the rebuilt VM).
run edu-q35 -M q35 -m 64 -kernel edu-test.elf -append reset -device vfio-pci,host=$EDU
# pc, every BAR access trapped and forwarded (x-no-mmap), described in YAML.
printf 'machine: pc\nmemory: 64M\nkernel: { image: edu-test.elf }\nboot: { no-reboot: true }\nvfio:\n  - { host: %s, mmap: false }\n' \
	$EDU >edu-pc.yaml
run edu-pc-trapped -config edu-pc.yaml

# NVMe to an L2 Linux (q35, 3 GiB: 2 GiB below the PCI hole, 1 GiB above 4 GiB, both mapped
# for DMA; Linux takes most of its pages from the high zone): the guest's nvme driver, a read,
# a write read back, a timed read.
echo "== nvme-bind"
bind_vfio 0000:00:07.0
cat initrd.cpio.gz nvme-test.cpio >initrd-nvme.cpio
run nvme-q35 -M q35 -m 3G -kernel vmlinuz -initrd initrd-nvme.cpio -no-reboot \
	-append "console=ttyS0 panic=-1 quiet" -device vfio-pci,host=0000:00:07.0

# The hostile DMA's trace in L1's kernel: the IOMMU refused it.
echo "== dmar"
dmesg | grep -E 'DMAR: \[DMA (Read|Write)' | sed 's/^\[[ 0-9.]*\] //' | sort | uniq -c
echo "== end"
