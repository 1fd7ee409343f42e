# tests/checks/stage5-machine.sh - stage 5, part 1: the `pc` machine (i440FX, PIIX3, SeaBIOS,
# fw_cfg), its configuration (flags, YAML) and its errors. Sourced by tests/grade.
#
# SeaBIOS runs on this host's KVM, whatever it is (PVM included); Linux behind SeaBIOS needs a
# hardware KVM, so that one check runs in the nested test host (tests/nested), once.

S5=stage5-full-machine
MV="$S5/minivisor -no-reboot"   # these guests end with a reset
BANNER='SeaBIOS \(version [^)]+\)'
check "build minivisor (the pc machine)" 0 -- make -s -C $S5 minivisor minivisor.static

# ---- firmware on this host's KVM ----
check "SeaBIOS: banner, no bootable device, its reset ends the VMM" 0 "$BANNER" \
	'No bootable device' 'guest reset' -- $MV
check "SeaBIOS finds QEMU's chipset, fw_cfg with DMA, the e820 map and the ACPI tables" 0 \
	'Running on QEMU \(i440fx\)' 'Found QEMU fw_cfg' 'QEMU fw_cfg DMA interface supported' \
	'qemu/e820: addr 0x0+ len 0x0+10000000 \[RAM\]' 'Moving pm_base to 0x600' \
	'table\(50434146\)=0x[0-9a-f]+ \(via xsdt\)' 'ACPI: parse DSDT' 'sercon: using ioport 0x3f8' \
	'!WARNING' -- $MV -debugcon stdio
check "-m 1G -smp 2: SeaBIOS sees the memory and both CPUs" 0 \
	'qemu/e820: addr 0x0+ len 0x0+40000000 \[RAM\]' 'Found 2 cpu\(s\) max supported 2 cpu\(s\)' \
	"$BANNER" -- $MV -m 1G -smp 2 -debugcon stdio
check "-M q35 (skeleton): SeaBIOS runs on the Q35 MCH + ICH9 LPC, config space by ECAM" 0 \
	'Running on QEMU \(q35\)' 'PCI: init bdf=00:1f.0 id=8086:2918' \
	'00000000b0000000 - 00000000c0000000 = 2 RESERVED' "$BANNER" 'No bootable device' \
	-- $MV -M q35 -debugcon stdio
check "pc: SeaBIOS sets up the PIIX4 PM function 00:01.3 (PM base, SMBus), skips SMM" 0 \
	'PCI: init bdf=00:01\.3 id=8086:7113' 'No bootable device' '!WARNING' \
	-- $MV -debugcon stdio
check "q35: SeaBIOS maps the ICH9 SMBus controller 00:1f.3 (32 ports at BAR4) and sets it up" 0 \
	'PCI: map device bdf=00:1f\.3  bar 4, addr [0-9a-f]+, size 00000020 \[io\]' \
	'PCI: init bdf=00:1f\.3 id=8086:2930' 'No bootable device' '!WARNING' \
	-- $MV -M q35 -debugcon stdio
check "YAML machine config (configs/firmware-only.yaml: 512M, 2 CPUs)" 0 \
	'qemu/e820: addr 0x0+ len 0x0+20000000 \[RAM\]' 'Found 2 cpu\(s\)' 'No bootable device' \
	-- $MV -config $S5/configs/firmware-only.yaml
check "flags after -config win" 0 'qemu/e820: addr 0x0+ len 0x0+08000000 \[RAM\]' \
	-- $MV -config $S5/configs/firmware-only.yaml -m 128
check "./run --firmware-only in the stage directory" 0 "$BANNER" 'No bootable device' \
	-- $S5/run --firmware-only

# ---- bad input: one clear line, exit 2 ----
s5m_tmp=$(mktemp -d)
printf 'machine: pc\nmemory: 256M\ncpus: 1\nfirmwre:\n  bios: x.bin\n' >"$s5m_tmp/typo.yaml"
printf 'machine: pc\nmemory: lots\n' >"$s5m_tmp/size.yaml"
printf 'machine: pc\n  memory: 1G\n' >"$s5m_tmp/syntax.yaml"
printf 'devices:\n  - serial\n  - sound-blaster\n' >"$s5m_tmp/device.yaml"
check "bad input: YAML unknown key names file, line and key" 2 \
	"typo\.yaml:4: unknown key 'firmwre'" -- $MV -config "$s5m_tmp/typo.yaml"
check "bad input: YAML bad value names file, line and key" 2 \
	"size\.yaml:2: key 'memory': bad size 'lots'" -- $MV -config "$s5m_tmp/size.yaml"
check "bad input: YAML syntax error names file and line" 2 'syntax\.yaml:2: YAML syntax error' \
	-- $MV -config "$s5m_tmp/syntax.yaml"
check "bad input: unknown device in YAML" 2 \
	"device\.yaml:3: key 'devices': unknown device 'sound-blaster'" \
	-- $MV -config "$s5m_tmp/device.yaml"
check "bad input: unknown device flag" 2 "unknown device 'rtl8139'" -- $MV -device rtl8139
check "bad input: unknown machine type" 2 "unknown machine type 'q35x' \(known: pc, q35\)" \
	-- $MV -machine q35x
check "bad input: missing machine config" 2 'nope\.yaml: cannot open machine config' \
	-- $MV -config "$s5m_tmp/nope.yaml"
check "bad input: missing firmware" 2 'no-bios\.bin: cannot open firmware: No such file' \
	-- $MV -bios "$s5m_tmp/no-bios.bin"
head -c 1000 /dev/zero >"$s5m_tmp/short.bin"
check "bad input: a file that is no BIOS image" 2 'short\.bin: not a BIOS image' \
	-- $MV -bios "$s5m_tmp/short.bin"
qemu-img create -q -f qcow2 "$s5m_tmp/d.qcow2" 16M
check "bad input: an IDE drive on q35 (it has AHCI)" 2 \
	'd\.qcow2: machine q35 has no IDE controller \(use if=ahci\)' \
	-- $MV -M q35 -drive "file=$s5m_tmp/d.qcow2,if=ide"
check "bad input: drive index out of range" 2 \
	'd\.qcow2: index 5: the IDE controller has positions 0\.\.3' \
	-- $MV -drive "file=$s5m_tmp/d.qcow2,index=5"
check "bad input: unknown drive option" 2 "unknown drive option 'cache'" \
	-- $MV -drive "file=$s5m_tmp/d.qcow2,cache=none"
check "bad input: missing kernel" 2 'no-kernel: ' -- $MV -kernel "$s5m_tmp/no-kernel"
check "bad input: missing option ROM for direct kernel boot" 2 \
	'no-rom\.bin: cannot read the Linux boot option ROM' -- \
	$MV -kernel build/linux/vmlinuz -linuxboot "$s5m_tmp/no-rom.bin"
check "bad input: /dev/null is not KVM" 2 '/dev/null: not a KVM device' -- $MV -kvm /dev/null
check "bad input: memory size below 16 MiB" 2 'memory size 8 MiB: the least is 16 MiB' \
	-- $MV -m 8M
rm -rf "$s5m_tmp"

# ---- Linux behind SeaBIOS, on a hardware KVM (nested host): one run, both machine types ----
# Each line the VMM prints is tagged with its machine type, so each pattern names one of them.
guests/linux/build.sh >/dev/null 2>&1
CHECK_TIMEOUT=300 check "SeaBIOS boots Linux by fw_cfg on pc and q35 (2 CPUs, ACPI power-off; nested)" 0 \
	"pc: .*$BANNER" 'pc: .*Booting from ROM' 'pc: .*minivisor-init: up' 'pc: processor.*: 1' \
	'pc: minivisor-test-exit: 0' 'pc: minivisor: guest powered off' \
	'q35: .*minivisor-init: up' 'q35: .*MMCONFIG for domain 0000 \[bus 00-ff\] at \[mem 0xb0000000' \
	'q35: processor.*: 1' 'q35: minivisor-test-exit: 0' 'q35: minivisor: guest powered off' \
	-- tests/nested/run-nested \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz -- \
	'for m in pc q35; do ./minivisor -no-reboot -M $m -smp 2 -bios bios-256k.bin' \
	'-linuxboot linuxboot_dma.bin -kernel vmlinuz -initrd initrd.cpio.gz' \
	'-append "console=ttyS0 panic=-1 quiet mv.test=\"grep processor /proc/cpuinfo;' \
	'dmesg | grep MMCONFIG\"" 2>&1 | sed "s/^/$m: /"; done'
