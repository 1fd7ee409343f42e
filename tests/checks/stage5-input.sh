# tests/checks/stage5-input.sh - stage 5: the i8042 keyboard controller, its PS/2 keyboard and
# mouse (stage5-full-machine/input/). Sourced by tests/grade (tests/grade stage5-input).
#
# On this host's KVM (SeaBIOS runs on any KVM): the unit tests; SeaBIOS finds the keyboard (the
# DSDT's PNP0303 tells it there is one) and sets it up with no timeout; a boot sector
# (guests/stage5/input-test.asm) drives the controller, the keyboard and the mouse at the ports,
# reads keys and packets that the host injects (minivisor -input-script, the test hook;
# guests/stage5/input-test.script), does what a hostile guest does (unknown commands, 0xd4
# with no data byte, no reading while 100 keys arrive: the queue stays bounded, one line, the
# VMM goes on) and ends the machine through the 8042's reset line. Then one nested session
# (Linux needs a hardware KVM): Linux's i8042 driver finds the ports through ACPI PNP, atkbd and
# psmouse bind, IRQs 1 and 12 count, and keys typed by the host reach a Linux tty.

S5I=stage5-full-machine
S5I_MV="$S5I/minivisor -no-reboot"   # a reset ends these runs
S5I_IMG=guests/stage5/input-test.img
S5I_SCRIPT=guests/stage5/input-test.script
check "build minivisor (input family) and the input test disk (nasm)" 0 -- \
	sh -c "make -s -C $S5I minivisor minivisor.static && make -s -C guests stage5/input-test.img"
check "input unit tests: controller, keyboard, mouse, translation, packets, keysyms, script" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_input && tests/unit/test_stage5_input'

check "SeaBIOS finds the PS/2 keyboard (DSDT PNP0303) and sets it up, no timeout (pc)" 0 \
	'PS2 keyboard initialized' '!no PS/2 keyboard' '!WARNING - Timeout' '!ps2 command .* failed' \
	'!i8042 command .* failed' 'guest reset' -- $S5I_MV -M pc -debugcon stdio
check "SeaBIOS finds the PS/2 keyboard on q35 too" 0 'PS2 keyboard initialized' \
	'!WARNING - Timeout' -- $S5I_MV -M q35 -debugcon stdio

CHECK_TIMEOUT=120 check "boot sector: controller self test, port tests, keyboard reset and identify" 0 \
	'^selftest: 55' '^kbd-port-test: 00' '^aux-port-test: 00' '^command-byte: 04' \
	'^kbd-reset: fa aa' '^kbd-id: fa ab 83' '^kbd-id-translated: fa ab 41' \
	'^kbd-scancode-set: fa fa 02' '^kbd-echo: ee' '^kbd-unknown: fe' \
	'^mouse-reset: fa aa 00 aux' '^mouse-id: fa 00 aux' '^mouse-knock: (fa ){5}fa aux' \
	'^mouse-id: fa 03 aux' '^mouse-status: fa 00 02 50 aux' '^mouse-unknown: fe aux' \
	'^mouse-enable: fa aux' '!timeout' \
	-- $S5I_MV -M pc -drive "file=$S5I_IMG,format=raw" -input-script $S5I_SCRIPT
s5i_log=$CHECK_LOG
check "injected keys: 'Hi' and Up in set 1 (translated), Shift added for 'H'" 0 \
	'^keys: 2a 23 aa a3 17 97' '^keys-extended: e0 48 e0 c8' -- cat "$s5i_log"
check "injected mouse: IntelliMouse packets, sign bits, a large move split, the wheel" 0 \
	'^packet: 09 0a 05 00 aux' '^packets: 18 01 00 ff 18 d3 00 00 aux' -- cat "$s5i_log"
check "hostile guest: unknown commands, 0xd4 without data, 100 keys unread: bounded, one line each" 0 \
	'^d4-no-data, then read command byte: 44' \
	'i8042: unknown controller command 0xc8 at port 0x64: ignored' \
	'i8042: command 0xd4 waited for a data byte at port 0x60 and got a command instead' \
	'i8042: keyboard: unknown command byte 0x01: answered 0xfe' \
	'i8042: mouse: unknown command or bad parameter 0xd7: answered 0xfe' \
	'i8042: keyboard: the guest does not read; its 16-byte queue is full' \
	'^flood: 11 bytes, last 00' '^after-flood: 1c' -- cat "$s5i_log"
check "the 8042's reset line (command 0xfe) ends the machine: guest reset, exit 0" 0 \
	'^input-test: done' 'minivisor: guest reset' '!still here after 0xfe' -- cat "$s5i_log"
check "a bad input script is refused in one line naming the file and line (exit 2)" 2 \
	'minivisor: .*bad.script:2: no key types .NoSuchKey.' -- bash -c \
	"printf 'key a down\nkey NoSuchKey down\n' >/tmp/s5i-bad.script && \
	 $S5I_MV -M pc -input-script /tmp/s5i-bad.script; rc=\$?; rm -f /tmp/s5i-bad.script; exit \$rc"

# ---- Linux's drivers, on a hardware KVM (nested host): one run ------------------------------
# The test is /test.sh in a second initramfs archive appended to the first (guests/linux/init,
# way 3). It lights Caps Lock on tty1 (the VT escape ESC [ 3 q): atkbd sends the LEDs to the
# keyboard, the input script (waiting for LEDs 4) types "hello" and Return, and tty1 reads them.
guests/linux/build.sh >/dev/null 2>&1
s5i_tmp=$(mktemp -d)
printf 'wait leds 4\ntype hello\nkey Return down\nkey Return up\nmouse 5 5 0 0\n' \
	>"$s5i_tmp/linux.script"
mkdir "$s5i_tmp/root"
cat >"$s5i_tmp/root/test.sh" <<'TEST'
(read -t 30 line </dev/tty1; echo "typed: $line") &
sleep 1
printf '\033[3q' >/dev/tty1
wait
sleep 1
dmesg | grep -E 'i8042|serio|input:|psmouse|atkbd'
grep i8042 /proc/interrupts
TEST
(cd "$s5i_tmp/root" && echo test.sh | cpio -o -H newc --quiet | gzip) | \
	cat build/linux/initrd.cpio.gz - >"$s5i_tmp/initrd.cpio.gz"
CHECK_TIMEOUT=300 check "Linux: i8042 by ACPI PNP, atkbd and psmouse bind, IRQ 1/12, keys reach tty1 (nested)" 0 \
	'i8042: PNP: PS/2 Controller \[PNP0303:[A-Z0-9]+,PNP0[fF]13:[A-Z0-9]+\] at 0x60,0x64 irq 1,12' \
	'serio: i8042 KBD port at 0x60,0x64 irq 1' 'serio: i8042 AUX port at 0x60,0x64 irq 12' \
	'input: AT Translated Set 2 keyboard' 'input: ImExPS/2 Generic Explorer Mouse' \
	'^ *1: +[1-9][0-9]* .*i8042' '^ *12: +[1-9][0-9]* .*i8042' 'typed: hello' \
	'minivisor: guest powered off' "!i8042: Can't" \
	-- tests/nested/run-nested --timeout 280 \
	--file $S5I/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file "$s5i_tmp/initrd.cpio.gz:/work/initrd.cpio.gz" \
	--file "$s5i_tmp/linux.script:/work/linux.script" -- \
	'./minivisor -no-reboot -M pc -bios bios-256k.bin -linuxboot linuxboot_dma.bin -kernel vmlinuz' \
	'-initrd initrd.cpio.gz -input-script linux.script -append "console=ttyS0 panic=-1"'
rm -rf "$s5i_tmp"
