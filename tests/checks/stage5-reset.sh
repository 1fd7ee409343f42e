# tests/checks/stage5-reset.sh - stage 5: the machine starts again after a guest reset, and the
# HPET (stage5-full-machine/board/pc.c pc_reset, board/hpet.c). Sourced by tests/grade
# (tests/grade stage5-reset).
#
# On this host's KVM (SeaBIOS runs on any KVM): the unit tests; a boot sector
# (guests/stage5/reset-test.asm) that resets the machine a different way on each boot - port
# 0xcf9, port 0x92, the 8042, a triple fault - counting its boots in CMOS, then pokes the HPET
# from protected mode (hostile sizes and offsets, the capabilities, the counter) and powers
# off, on pc and q35; -no-reboot (flag and YAML) ends at the first reset; the manager sees one
# VM through the resets; bad input. Then one nested session (Linux needs a hardware KVM):
# Linux with clocksource=hpet writes a marker to its disk and reboots; SeaBIOS and Linux boot a
# second time in the same process, find the marker, use the HPET and power off.

S5R=stage5-full-machine
S5R_MV=$S5R/minivisor
S5R_BANNER='SeaBIOS \(version [^)]+\)'
s5r_tmp=$(mktemp -d)
check "build minivisor and the reset test disk (nasm)" 0 -- \
	sh -c "make -s -C $S5R minivisor minivisor.static && make -s -C $S5R/manager &&
		make -s -C guests stage5/reset-test.img"
check "unit tests: HPET registers and timers, power-on states, FADT reset register, -no-reboot" 0 \
	'\[  PASSED  \] 12 test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_reset && tests/unit/test_stage5_reset'

# SeaBIOS boots only a disk with a whole cylinder (its AHCI driver on q35): pad the 3 sectors.
cp guests/stage5/reset-test.img "$s5r_tmp/reset-test.img"
truncate -s 1M "$s5r_tmp/reset-test.img"

# ---- every reset source, on this host's KVM ----
for s5r_m in pc q35; do
	CHECK_TIMEOUT=120 check "$s5r_m: 0xcf9, port 0x92, the 8042, a triple fault each start the machine again; SeaBIOS runs 5 times" 0 \
		'reset-test: boot 00 reset by port 0xcf9' \
		'minivisor: guest reset: the machine starts again \(reset 1,' \
		'reset-test: boot 01 reset by port 0x92' 'reset-test: boot 02 reset by the 8042' \
		'reset-test: boot 03 reset by a triple fault' 'vCPU 0: triple fault: the machine resets' \
		'minivisor: guest reset: the machine starts again \(reset 4,' \
		'reset-test: boot 04 HPET from protected mode' 'minivisor: guest powered off' \
		'^banners: 5$' '^exit: 0$' '!still here' '!more boots' '!a vCPU failed' \
		-- bash -c "cp $s5r_tmp/reset-test.img $s5r_tmp/$s5r_m.img &&
			$S5R_MV -M $s5r_m -drive file=$s5r_tmp/$s5r_m.img,format=raw >$s5r_tmp/$s5r_m.log 2>&1
			echo exit: \$?; cat $s5r_tmp/$s5r_m.log
			echo banners: \$(grep -a -o 'SeaBIOS (version' $s5r_tmp/$s5r_m.log | wc -l)"
done
check "HPET from a guest: capabilities (8086, 10 ns), the counter stopped and running" 0 \
	'hpet capabilities say vendor 8086, period 10 ns' \
	'hpet counter stands still when stopped and runs when enabled' '!hpet counter does not' \
	'!hpet counter moves' '!capabilities wrong' -- cat "$s5r_tmp/pc.log" "$s5r_tmp/q35.log"
check "hostile HPET accesses (1 byte, misaligned, across registers, past the block): one line, runs on" 0 \
	'hpet: 4-byte access at \+0xee crosses a register: ignored' \
	'reset-test: hpet counter stands still' 'minivisor: guest powered off' \
	-- cat "$s5r_tmp/q35.log"

# ---- -no-reboot keeps the old end ----
check "-no-reboot: the first reset ends the VMM (exit 0)" 0 \
	'reset-test: boot 00 reset by port 0xcf9' 'minivisor: guest reset \(the VMM stops: -no-reboot\)' \
	'!boot 01' '!starts again' \
	-- bash -c "cp $s5r_tmp/reset-test.img $s5r_tmp/nr.img &&
		$S5R_MV -no-reboot -drive file=$s5r_tmp/nr.img,format=raw"
printf 'machine: q35\nboot:\n  no-reboot: true\n' >"$s5r_tmp/no-reboot.yaml"
check "YAML boot.no-reboot: true does the same" 0 \
	'reset-test: boot 00 reset by port 0xcf9' 'minivisor: guest reset \(the VMM stops: -no-reboot\)' \
	'!boot 01' -- bash -c "cp $s5r_tmp/reset-test.img $s5r_tmp/nr.img &&
		$S5R_MV -config $s5r_tmp/no-reboot.yaml -drive file=$s5r_tmp/nr.img,format=raw"

# ---- bad input ----
check "bad input: -no-reboot takes no value" 2 "^minivisor: unexpected argument 'junk'" \
	-- $S5R_MV -no-reboot junk
printf 'boot:\n  no-reboot: maybe\n' >"$s5r_tmp/bad.yaml"
check "bad input: boot.no-reboot: maybe" 2 \
	"bad\.yaml:2: key 'boot': boot option 'no-reboot': bad value 'maybe'" \
	-- $S5R_MV -config "$s5r_tmp/bad.yaml"

# ---- the manager: one VM, one process, through the resets ----
printf 'machine: pc\nfirmware: { bios: /usr/share/seabios/bios-256k.bin }\n' >"$s5r_tmp/vm.yaml"
check "manager: a VM that resets four times stays one VM (one PID) until it powers off" 0 \
	'created rs' 'reset-test: boot 03 reset by a triple fault' '^same-pid: yes$' \
	'rs stopped \(exit 0\)' \
	-- bash -c "ctl() { $S5R/manager/minivisor-ctl -s $s5r_tmp/m.sock \"\$@\"; }
		$S5R/manager/minivisor-manager -s $s5r_tmp/m.sock 2>$s5r_tmp/manager.log & mgr=\$!
		trap 'kill \$mgr' EXIT
		for _ in \$(seq 50); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done
		cp $s5r_tmp/reset-test.img $s5r_tmp/m.img
		ctl create rs $s5r_tmp/vm.yaml -- -drive file=$s5r_tmp/m.img,format=raw &&
		ctl wait -t 60 rs output 'boot 01' && p1=\$(ctl list | awk '\$1 == \"rs\" { print \$2 }') &&
		ctl wait -t 90 rs stopped && ctl console rs </dev/null &&
		p2=\$(ctl list | awk '\$1 == \"rs\" { print \$2 }') &&
		echo same-pid: \$([ -n \"\$p1\" ] && [ \"\$p1\" = \"\$p2\" ] && echo yes || echo no \$p1 \$p2)"

# ---- Linux, in the nested host ----
guests/linux/build.sh >/dev/null 2>&1
mkdir -p "$s5r_tmp/root"
cp guests/stage5/reboot-test.sh "$s5r_tmp/root/test.sh"
(cd "$s5r_tmp/root" && echo test.sh | cpio -o -H newc --quiet | gzip) | \
	cat build/linux/initrd.cpio.gz - >"$s5r_tmp/initrd.cpio.gz"
CHECK_TIMEOUT=330 check "nested session ran (Linux reboots on pc and q35 under L1's KVM)" 0 '== end' -- \
	tests/nested/run-nested --timeout 300 --file $S5R/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file "$s5r_tmp/initrd.cpio.gz:/work/initrd.cpio.gz" \
	--file guests/stage5/l1-reset.sh -- sh l1-reset.sh
s5r_log=$CHECK_LOG
for s5r_m in pc q35; do
	check "$s5r_m: Linux writes a marker and reboots; SeaBIOS and Linux boot again in the same process and find it" 0 \
		'reboot-test: first boot, no marker: writing it' 'reboot-test: rebooting' \
		'minivisor: guest reset: the machine starts again \(reset 1,' \
		'reboot-test: second boot, the marker is on the disk' 'minivisor-test-exit: 0' \
		'minivisor: guest powered off' 'vmm-exit: 0' 'host-marker: MINIVISOR-REBOOT-MARK' \
		'!starts again \(reset 2,' -- tests/nested/section "$s5r_log" "$s5r_m-reboot"
	check "$s5r_m: Linux takes the HPET (ACPI table, clocksource=hpet) and its timers work" 0 \
		'ACPI: HPET 0x' 'hpet0: at MMIO 0xfed00000' 'clocksource: Switched to clocksource hpet' \
		'reboot-test: clocksource hpet' 'Clock Event Device: hpet' \
		'reboot-test: sleep 1 returned, the clock advanced [1-9]' \
		-- tests/nested/section "$s5r_log" "$s5r_m-reboot"
done
rm -rf "$s5r_tmp"
