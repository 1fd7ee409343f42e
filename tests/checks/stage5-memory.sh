# tests/checks/stage5-memory.sh - stage 5: RAM above 4 GiB and Multiboot kernels. Sourced by
# tests/grade.
#
# On this host's KVM (firmware and small guests only): SeaBIOS's own memory map with -m 5G on
# both machines (RAM split around the PCI hole, the rest from 4 GiB: board/pc_memory.h); the
# Multiboot test kernel (guests/stage5/multiboot-test.asm) booted by SeaBIOS through our option
# ROM, printing its command line, its modules' contents and the memory map; DMA from the IDE and
# AHCI controllers aimed into the hole of a 5 GiB machine (refused, one line each, the VMM goes
# on); bad input. In the nested host: Linux with -m 4G on pc and q35, /proc/meminfo, and
# memtouch (guests/stage5/memtouch.c) writing and checking a pattern in every 64-bit word of
# 90% of what Linux calls available (~3.3 GiB; about 20 s per machine in the nested host, most
# of it the first touch of each page: docs/stage5-pc.md has the figures).

S5=stage5-full-machine
MV="$S5/minivisor -no-reboot"   # a reset ends the run (the checks expect the end)
G5=guests/stage5
check "build minivisor (with the Multiboot option ROM) and the stage 5 test guests" 0 -- \
	sh -c "make -s -C $S5 minivisor minivisor.static && make -s -C guests stage5"
check "unit tests: the RAM split, e820, DSDT values, two-range guest addresses, Multiboot" 0 \
	'\[  PASSED  \] 9 test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_memory && tests/unit/test_stage5_memory'

# ---- SeaBIOS alone: the memory map it builds from etc/e820 and the CMOS ------------------
check "-M pc -m 5G: SeaBIOS's e820 has 3 GiB below the hole and 2 GiB from 4 GiB" 0 \
	'qemu/e820: addr 0x0000000100000000 len 0x0000000080000000 \[RAM\]' \
	'0000000000100000 - 00000000bffff000 = 1 RAM' '0000000100000000 - 0000000180000000 = 1 RAM' \
	-- $MV -M pc -m 5G -debugcon stdio
check "-M q35 -m 5G: 2 GiB below (the ECAM at 0xb0000000 stays free), 3 GiB from 4 GiB" 0 \
	'0000000000100000 - 000000007ffff000 = 1 RAM' '00000000b0000000 - 00000000c0000000 = 2 RESERVED' \
	'0000000100000000 - 00000001c0000000 = 1 RAM' \
	-- $MV -M q35 -m 5G -debugcon stdio

# ---- Multiboot ---------------------------------------------------------------------------
s5m_tmp=$(mktemp -d)
printf 'first module: hello from a file\n' >"$s5m_tmp/mod1.txt"
printf 'second, with a comma\n' >"$s5m_tmp/mod2.txt"
check "multiboot (pc): command line, two modules with their strings and contents, memory map" 0 \
	'multiboot-test: magic 2badb002' \
	"multiboot-test: cmdline $G5/multiboot-test.elf hello multiboot" \
	'multiboot-test: mods 00000002' \
	"multiboot-test: module $s5m_tmp/mod1.txt arg=1 0010[0-9a-f]{4} 0010[0-9a-f]{4}" \
	'multiboot-test: contents first module: hello from a file\.' \
	"multiboot-test: module $s5m_tmp/mod2.txt " 'multiboot-test: contents second, with a comma\.' \
	'multiboot-test: mmap 0000000000000000 000000000009fc00 00000001' \
	'multiboot-test: mmap 0000000000100000 [0-9a-f]{16} 00000001' \
	'multiboot-test: done' 'minivisor: guest powered off' \
	-- $MV -M pc -kernel $G5/multiboot-test.elf -append "hello multiboot" \
	-initrd "$s5m_tmp/mod1.txt arg=1,$s5m_tmp/mod2.txt"
check "multiboot (q35, -m 5G): mem_upper counts to the hole, the map has RAM from 4 GiB" 0 \
	'multiboot-test: mem_lower/mem_upper KiB 0000027f 001ffc00' \
	'multiboot-test: mmap 0000000100000000 00000000c0000000 00000001' \
	'multiboot-test: mods 00000000' 'minivisor: guest powered off' \
	-- $MV -M q35 -m 5G -kernel $G5/multiboot-test.elf
check "multiboot: a header with a bad checksum is refused (one line)" 2 \
	'^minivisor: multiboot header at offset 0x[0-9a-f]+: bad checksum' \
	-- $MV -kernel $G5/multiboot-badsum.elf
check "multiboot: the a.out kludge (no ELF) is refused (one line)" 2 \
	'^minivisor: multiboot: not an ELF file \(the a\.out kludge is not supported\)' \
	-- $MV -kernel $G5/multiboot-aout.bin
check "multiboot: a segment in the PCI hole is refused (one line)" 2 \
	'^minivisor: multiboot ELF: segment 0xe0000000-0x[0-9a-f]+ is outside RAM' \
	-- $MV -kernel $G5/multiboot-hole.elf
check "multiboot: a missing module is named (one line)" 2 \
	"^minivisor: $s5m_tmp/none: cannot read the multiboot module" \
	-- $MV -kernel $G5/multiboot-test.elf -initrd "$s5m_tmp/none"

# ---- DMA into the hole: refused by every device (gpa_to_hva knows both RAM ranges) ----------
cp $G5/ahci-hole.img "$s5m_tmp/ahci-hole.img"
truncate -s 1M "$s5m_tmp/ahci-hole.img"
check "pc -m 5G: IDE PRD table and PRD entry in the hole (0xd0000000) refused, the VMM goes on" 0 \
	'ide0: bus master DMA: the PRD table at 0xd0000000 is outside RAM' \
	'ide0: bus master DMA: PRD entry 0 points outside RAM \(0xd0000000, 512 bytes\)' \
	'bad-prd-entry: status=41 error=04 bm=06' 'good-dma: status=50 error=00 bm=04 data=ok' \
	'minivisor: guest powered off' -- $MV -M pc -m 5G -drive "file=$G5/ide-hole.img,format=raw"
check "q35 -m 5G: AHCI command list and PRD in the hole (0x90000000) refused, the VMM goes on" 0 \
	'ahci: port ahci\.0: slot 0: command list at 0x90000000 is outside RAM' \
	'ahci: port ahci\.0: PRDT entry 0: 512 bytes at 0x90000000 are outside RAM' \
	'ahci-hostile: good command: ok' 'ahci-hostile: done' \
	-- $MV -M q35 -m 5G -drive "file=$s5m_tmp/ahci-hole.img,format=raw"

# ---- bad input -----------------------------------------------------------------------------
check "bad input: -m larger than the host's RAM" 2 \
	'^minivisor: memory size [0-9]+ MiB: more than this host has \([0-9]+ MiB\)$' \
	-- $MV -m 100000G
check "bad input: -m not a whole number of pages" 2 \
	'^minivisor: memory size 20001 KiB: not a multiple of 4 KiB$' -- $MV -m 20001k
check "bad input: -m 0" 2 '^minivisor: -m 0: bad memory size$' -- $MV -m 0
check "bad input: -m junk" 2 '^minivisor: -m 4Gjunk: bad memory size$' -- $MV -m 4Gjunk
check "bad input: YAML memory: junk" 2 "key 'memory': bad size 'lots'" \
	-- sh -c "printf 'machine: pc\nmemory: lots\n' >$s5m_tmp/m.yaml && $MV -config $s5m_tmp/m.yaml"

# ---- Linux with 4 GiB (nested host: one session, both machines) -----------------------------
s5m_initrd() {   # the test guest's initramfs + a second archive: /bin/memtouch, /test.sh
	set -e
	guests/linux/build.sh >/dev/null
	mkdir -p "$1/root/bin"
	cp $G5/memtouch "$1/root/bin/"
	cp $G5/memory-test.sh "$1/root/test.sh"
	chmod +x "$1/root/test.sh"
	(cd "$1/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet |
		gzip -9) >"$1/extra.cpio.gz"
	cat build/linux/initrd.cpio.gz "$1/extra.cpio.gz" >"$1/initrd-memory.cpio.gz"
}
export -f s5m_initrd
export G5
check "the Linux test guest's initramfs with memtouch" 0 -- bash -c "s5m_initrd $s5m_tmp"
CHECK_TIMEOUT=300 check "nested session ran (Linux with -m 4G on pc and q35)" 0 '== end' -- \
	tests/nested/run-nested --timeout 240 --mem 6144 \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file "$s5m_tmp/initrd-memory.cpio.gz" \
	--file $G5/l1-memory.sh -- sh l1-memory.sh
s5m_log=$CHECK_LOG
check "pc -m 4G: Linux sees ~4 GiB, RAM from 4 GiB, the 64-bit PCI window; memtouch's pattern" 0 \
	'MemTotal: +(39|40)[0-9]{5} kB' 'BIOS-e820: \[mem 0x0000000100000000-0x000000013fffffff\] usable' \
	'root bus resource \[mem 0x140000000-0x93fffffff window\]' \
	'memtouch: pattern ok \(3[0-9]{3} MiB, a word every 8 bytes' \
	'minivisor-test-exit: 0' 'vmm-exit: 0' \
	-- tests/nested/section "$s5m_log" pc
check "q35 -m 4G: Linux sees ~4 GiB, 2 GiB from 4 GiB, the 64-bit window; memtouch's pattern" 0 \
	'MemTotal: +(39|40)[0-9]{5} kB' 'BIOS-e820: \[mem 0x0000000100000000-0x000000017fffffff\] usable' \
	'root bus resource \[mem 0x180000000-0x97fffffff window\]' \
	'memtouch: pattern ok \(3[0-9]{3} MiB, a word every 8 bytes' \
	'minivisor-test-exit: 0' 'vmm-exit: 0' \
	-- tests/nested/section "$s5m_log" q35
rm -rf "$s5m_tmp"
