# tests/checks/stage5-vfio.sh - stage 5's PCI passthrough (stage5-full-machine/vfio/): a device
# of the host given to the guest with VFIO, tested for real on an emulated IOMMU (issue 15).
# Sourced by tests/grade, which defines check, build and record.
#
# On this host (no IOMMU, no /dev/vfio): the unit tests of the option parser and the bad-input
# lines that need no VFIO. Then ONE nested-host session (guests/stage5/l1-vfio.sh): L1 is QEMU's
# q35 with an Intel IOMMU (interrupt remapping on) and QEMU's edu device; the edu test kernel
# (guests/stage5/edu-test.c) drives it from an L2 guest on minivisor, on q35 with BAR0 mapped
# into the guest (and a guest reset in between: all again on the rebuilt VM) and on pc (YAML)
# with every access trapped: ident, inversion, an MSI, a DMA
# round trip, a DMA outside guest RAM that L1's IOMMU blocks (its DMAR fault is in L1's log);
# edu carries an option ROM (guests/stage5/edu-rom.asm) that SeaBIOS runs through minivisor.
# Then NVMe (QEMU's nvme on a host file) to an L2 Linux: nvme driver, MSI-X, read and write.
# The bad-input cases that need L1: no /dev/vfio, a device on no driver, a wrong address, a
# group that is not viable.

S5=stage5-full-machine
MV=$S5/minivisor
check "build minivisor (for the passthrough checks)" 0 -- make -s -C $S5 minivisor minivisor.static
check "vfio unit tests: PCI addresses, -device vfio-pci options" \
	0 '\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_vfio && tests/unit/test_stage5_vfio'

# ---- bad input on this host: one line, exit 2 ----------------------------------------------
check "bad input: a malformed PCI address" 2 \
	"^minivisor: -device vfio-pci,host=0:1:2: host=0:1:2: not a PCI address \(want DDDD:BB:DD\.F" \
	-- $MV -device vfio-pci,host=0:1:2
check "bad input: vfio-pci without host=" 2 '^minivisor: -device vfio-pci: no host=DDDD:BB:DD.F$' \
	-- $MV -device vfio-pci
check "bad input: an unknown vfio-pci option" 2 "unknown option 'rombar=0' \(known: host, x-no-mmap\)" \
	-- $MV -device vfio-pci,host=00:03.0,rombar=0
check "bad input: a device this host does not have" 2 \
	'^minivisor: vfio-pci host=0000:7f:1f\.7: no such PCI device' \
	-- $MV -device vfio-pci,host=0000:7f:1f.7
s5v_first_pci=$(ls /sys/bus/pci/devices 2>/dev/null | head -n 1)
check "bad input: no IOMMU (this host's ${s5v_first_pci:-first PCI device} has no IOMMU group)" 2 \
	"^minivisor: vfio-pci host=${s5v_first_pci:-none}: the device has no IOMMU group: this host has no IOMMU" \
	-- $MV -device vfio-pci,host=${s5v_first_pci:-0000:00:00.0}
check "bad input: a YAML vfio entry with an unknown key" 2 \
	"vfio-bad\.yaml:2: key 'vfio': unknown key 'bar' \(known: host, mmap: true\|false\)" \
	-- bash -c "printf 'vfio:\n  - { host: 0000:00:03.0, bar: 2 }\n' >build/vfio-bad.yaml &&
		$MV -config build/vfio-bad.yaml"

# ---- the nested session: L1 = q35 + intel-iommu + edu ----------------------------------------
check "edu test kernel (Multiboot, C) and edu's option ROM" 0 -- \
	make -s -C guests stage5/edu-test.elf stage5/edu-rom.bin
s5v_files=()
s5v_n=10
for s5v_ko in $(bash -c '. guests/linux/kernel.sh && kernel_fetch build/cache/kernel >/dev/null &&
	kernel_modules_closure vfio vfio_iommu_type1 vfio-pci' 2>/dev/null); do
	case $s5v_ko in */irqbypass.ko) continue ;; esac   # L1 has it (KVM's)
	s5v_files+=(--file "$s5v_ko:/work/ko/$s5v_n-${s5v_ko##*/}")
	s5v_n=$((s5v_n + 1))
done
# The NVMe controller's image (first MiB random, its md5 known) and the L2 guest's test.
mkdir -p build/vfio
s5v_img=build/vfio/nvme.img
check "NVMe image and the guest's test archive" 0 -- bash -c "rm -f $s5v_img build/vfio/pattern &&
	head -c 1M /dev/urandom >$s5v_img && truncate -s 64M $s5v_img &&
	head -c 1M $s5v_img | md5sum | cut -d' ' -f1 >build/vfio/expect.md5 &&
	seq 1 200000 | head -c 1048576 >build/vfio/pattern &&
	rm -rf build/vfio/cpio && mkdir -p build/vfio/cpio &&
	cp guests/stage5/nvme-test.sh build/vfio/cpio/test.sh && chmod 755 build/vfio/cpio/test.sh &&
	cp build/vfio/expect.md5 build/vfio/cpio/ &&
	(cd build/vfio/cpio && printf 'test.sh\nexpect.md5\n' | cpio -o -H newc --quiet) >build/vfio/nvme-test.cpio &&
	guests/linux/build.sh >/dev/null"
CHECK_TIMEOUT=420 check "nested session ran (L1 q35 + intel-iommu; edu passed through to L2)" 0 \
	'== end' -- tests/nested/run-nested --timeout 360 --mem 4096 --machine q35 --iommu \
	--device edu,addr=0x5,romfile=$PWD/guests/stage5/edu-rom.bin \
	--device edu,addr=0x6.0,multifunction=on \
	--device virtio-rng-pci,addr=0x6.1 \
	--drive if=none,id=nv0,format=raw,file=$s5v_img --device nvme,serial=mvnvme,drive=nv0,addr=0x7 \
	--file /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz --file build/vfio/nvme-test.cpio \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
	--file guests/stage5/edu-test.elf "${s5v_files[@]}" \
	--file guests/stage5/l1-vfio.sh -- sh l1-vfio.sh
s5v_log=$CHECK_LOG

s5v_section() {   # s5v_section SECTION DESCRIPTION STATUS PATTERNS...
	local section=$1 name=$2 status=$3
	shift 3
	check "$name" 0 "vmm-exit: $status" "$@" -- tests/nested/section "$s5v_log" "$section"
}
s5v_section no-vfio "bad input in L1: no /dev/vfio (VFIO not loaded)" 2 \
	'^minivisor: vfio-pci host=0000:00:05\.0: no /dev/vfio/vfio \(load the vfio-pci module\)$'
s5v_section not-bound "bad input in L1: a device bound to no driver, not to vfio-pci" 2 \
	'^minivisor: vfio-pci host=0000:00:05\.0: bound to no driver, not to vfio-pci \(bind it: echo vfio-pci > /sys/bus/pci/devices/0000:00:05\.0/driver_override'
s5v_section wrong-bdf "bad input in L1: a wrong PCI address" 2 \
	'^minivisor: vfio-pci host=0000:00:1d\.7: no such PCI device'
s5v_section not-viable "bad input in L1: an IOMMU group that is not viable (its virtio-rng is held by virtio-pci)" 2 \
	'^minivisor: vfio-pci host=0000:00:06\.0: IOMMU group [0-9]+ is not viable: bound to host drivers: 0000:00:06\.1 \(driver virtio-pci\)'
s5v_section no-migration "a machine with a passed-through device cannot be migrated (-incoming): one line, exit 2" 2 \
	'^minivisor: a passed-through device \(vfio-pci\) cannot be migrated: its state is in the host.s device, not in this process$'
s5v_edu() {   # s5v_edu SECTION DESCRIPTION mapped|trapped [MORE PATTERNS...]
	local section=$1 name=$2 how=$3
	shift 3
	s5v_section "$section" "$name" 0 'edu-test: found at 00:0x[0-9a-f]+\.0, BAR0 0x[0-9a-f]+' "$@" \
		"^minivisor: vfio-0000:00:05\\.0: 1234:11e8 at 00:0[0-9a-f]\\.0, BAR0 1024 KiB $how, INTx, MSI, ROM 2 KiB\$" \
		'^edu-rom: the expansion ROM ran \(fw_cfg pci1234,11e8\.rom\)' \
		'edu-test: ident: ok 0x10000ed' 'edu-test: inversion: ok 0xedcba987' \
		'edu-test: msi: ok \(vector 0x41, status 0x1\)' \
		'edu-test: dma: ok \(256 bytes RAM -> edu -> RAM, MSI at each end\)' \
		'edu-test: hostile: DMA to 0xff00000 \(outside RAM\) finished; the guest runs on' \
		'edu-test: dma-after: ok' 'edu-test: done' '!FAILED' 'minivisor: guest powered off'
}
s5v_edu edu-q35 "q35: edu passed through (BAR0 a KVM slot): ident, inversion, MSI, DMA, hostile DMA, DMA again; all again after a guest reset" \
	mapped 'edu-test: resetting the machine \(0xcf9\)' \
	'^minivisor: guest reset: the machine starts again \(reset 1' 'edu-test: start \(after a reset\)'
s5v_edu edu-pc-trapped "pc (YAML, x-no-mmap: every access trapped): ident, inversion, MSI, DMA, hostile DMA, DMA again" trapped
check "hostile DMA: L1's IOMMU blocked the three writes outside guest RAM (DMAR faults at 0xff00000)" 0 \
	'3 .*DMAR: \[DMA Write.*\] Request device \[00:05\.0\] fault addr 0xff00000' \
	-- tests/nested/section "$s5v_log" dmar
s5v_section nvme-q35 "NVMe passed through to a 3 GiB L2 Linux (RAM below and above 4 GiB mapped): nvme driver, MSI-X, read, write read back" 0 \
	'^minivisor: vfio: guest RAM mapped for DMA: 0x0-0x7fffffff and 0x100000000-0x13fffffff \(IOVA = guest-physical\)$' \
	'^minivisor: vfio-0000:00:07\.0: 1b36:0010 at 00:0[0-9a-f]\.0, BAR0 [0-9]+ KiB 64-bit mapped, INTx, MSI-X' \
	'nvmetest: driver nvme, 131072 sectors' "nvmetest: read md5 $(cat build/vfio/expect.md5 2>/dev/null)" \
	'nvmetest: all ok' 'minivisor-test-exit: 0' '!FAILED'
check "NVMe: the guest's write is in the image on this host (md5 of 1 MiB at 4 MiB)" 0 \
	"^$(md5sum <build/vfio/pattern 2>/dev/null | cut -d' ' -f1)\$" \
	-- bash -c "dd if=$s5v_img bs=1M skip=4 count=1 2>/dev/null | md5sum | cut -d' ' -f1"
