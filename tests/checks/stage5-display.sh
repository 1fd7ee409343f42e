# tests/checks/stage5-display.sh - stage 5: the display (stage5-full-machine/display/): the
# standard VGA, the picture drawn from it, the VNC server, screendumps, the browser view.
# Sourced by tests/grade (tests/grade stage5-display).
#
# On this host's KVM (SeaBIOS and its VGA BIOS run on any KVM): the unit tests; one SeaBIOS
# session (tests/checks/display/screen-session.sh) looked at from every side - the text buffer
# through the monitor socket, tesseract-ocr on the PNG screendump, a frame from vncsnapshot (a
# VNC client nobody here wrote) against the screendump, and noVNC served by websockify in
# headless chromium; SeaBIOS's banner on q35 too; a boot sector (guests/stage5/vga-hostile.asm)
# that hands the VGA bad modes, banks, offsets, indexes and moves VRAM over RAM: one line each,
# the VMM runs on to the guest's power-off; bad input; the manager's screendump. Then one nested
# session (tests/checks/display/l1-display.sh): Linux's bochs-drm at 1024x768x32 with fbcon, a
# screendump read by OCR, fb0's size, keys typed and the mouse moved through VNC.
# Debian packages: libvncserver-dev libpng-dev (build), vncsnapshot tesseract-ocr novnc
# websockify chromium (checks; python3-pil comes with novnc).

S5D=stage5-full-machine
S5D_MV=$S5D/minivisor
check "build minivisor (display family), the manager and the VGA test disk (nasm)" 0 -- \
	sh -c "make -s -C $S5D minivisor minivisor.static manager && \
		make -s -C guests stage5/vga-hostile.img"
check "display unit tests: VGA registers and memory modes, VBE checks, renderer, -vnc, PNG" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_display && tests/unit/test_stage5_display'

s5d_tmp=$(mktemp -d)
CHECK_TIMEOUT=240 check "SeaBIOS session with -vnc, -screendump and -monitor (this host's KVM)" 0 \
	'session: SeaBIOS says No bootable device' 'monitor: ok' \
	-- tests/checks/display/screen-session.sh "$s5d_tmp/session"
s5d_log=$CHECK_LOG
check "SeaBIOS's banner is on the VGA text screen (text buffer, monitor screendump)" 0 \
	'^text: SeaBIOS \(version [0-9.]+' '^text: No bootable device' -- cat "$s5d_log"
check "tesseract-ocr reads the banner off the PNG screendump" 0 \
	'^ocr: SeaBIOS \(version' '^ocr: .*bootable device' -- cat "$s5d_log"
check "a VNC client (vncsnapshot) gets a frame equal to the screendump" 0 \
	'vncsnapshot: exit 0' 'vnc-vs-screendump: 720x400 max difference [0-9]+ of 255 \(equal\)' \
	-- cat "$s5d_log"
check "browser view (-vnc :N,novnc=PORT): noVNC via websockify in headless chromium shows it" 0 \
	'vmm: minivisor: browser view: http://127\.0\.0\.1:[0-9]+/vnc\.html' \
	'browser: noVNC status: Connected' '^browser-ocr: .*(SeaBIOS|bootable device)' \
	-- cat "$s5d_log"
check "q35: the VGA at 00:01.0 runs its BIOS, the banner is on screen at the reset" 0 \
	'PCI: Using 00:01.0 for primary VGA' 'Start SeaVGABIOS' '^SeaBIOS \(version' \
	'^No bootable device' -- bash -c "$S5D_MV -no-reboot -M q35 -vga std -debugcon stdio \
		-screendump $s5d_tmp/q35.txt </dev/null >/dev/null && cat $s5d_tmp/q35.txt"

check "hostile guest: bad VBE modes, banks, offsets, indexes, VRAM over RAM; the VMM runs on" 0 \
	'^mode: 0a00 0640 0020' '^bpp: 0008' '^virt-width: 0a00' '^y-offset: 0000' \
	'^bank: 0000 5a' 'bar-over-ram: ram=ok' 'vga-hostile: done' \
	'std-vga: VBE x resolution 0xfff8 refused; VBE y resolution 0xffff refused' \
	'std-vga: VBE bits per pixel 0x63 refused' 'std-vga: VBE virtual width 0xffff refused' \
	'std-vga: VBE display offset 0x[0-9a-f]+ refused' 'std-vga: VBE bank 0x1000 refused' \
	'std-vga: sequencer index 0x55 refused' 'std-vga: graphics controller index 0xee refused' \
	'std-vga: CRT controller index 0x7f refused' \
	'std-vga: VRAM BAR at 0x01000000 refused by KVM .*: VRAM not mapped' \
	'minivisor: guest powered off' \
	-- $S5D_MV -no-reboot -M pc -vga std -drive file=guests/stage5/vga-hostile.img,format=raw

check "VNC with password-file=: a client without the password is refused" 0 \
	'vnc-rate: the server wants a password' -- bash -c "
	p=5980; while ss -ltnH \"sport = :\$p\" | grep -q .; do p=\$((p + 1)); done
	echo secret >$s5d_tmp/vnc-password
	$S5D_MV -no-reboot -M pc -vga std -vnc :\$((p - 5900)),password-file=$s5d_tmp/vnc-password \
		</dev/null >/dev/null 2>&1 & vm=\$!
	for i in \$(seq 50); do ss -ltnH \"sport = :\$p\" | grep -q . && break; sleep 0.1; done
	/usr/bin/python3 tests/bench.d/vnc-rate.py 127.0.0.1 \$p 1; kill \$vm; exit 0"

# ---- bad input: one line each ----------------------------------------------------------------
check "bad input: -vnc with no display number" 2 \
	'^minivisor: -vnc 5900: expected \[HOST\]:DISPLAY' -- $S5D_MV -vnc 5900
check "bad input: -vga with an adapter this machine does not have" 2 \
	"^minivisor: -vga cirrus: unknown VGA 'cirrus' \(known: std, none\)" -- $S5D_MV -vga cirrus
check "bad input: -vnc with -vga none" 2 '^minivisor: -vnc: there is no display with -vga none' \
	-- $S5D_MV -vga none -vnc :1
check "bad input: the VNC port is in use" 2 \
	'^minivisor: -vnc: cannot listen on 127\.0\.0\.1:59[0-9][0-9] \(port in use\?\)' -- \
	/usr/bin/python3 -c '
import socket, subprocess, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
port = s.getsockname()[1]
for p in range(5990, 6000):   # a display number whose port we hold
	try:
		s2 = socket.socket(); s2.bind(("127.0.0.1", p)); s2.listen(); break
	except OSError:
		continue
sys.exit(subprocess.call([sys.argv[1], "-vnc", ":%d" % (p - 5900)], stdin=subprocess.DEVNULL))
' "$S5D_MV"
printf 'machine: pc\ndisplay:\n  vga: std\n  vnk: ":1"\n' >"$s5d_tmp/typo.yaml"
printf 'machine: pc\ndisplay:\n  vga: cga\n' >"$s5d_tmp/cga.yaml"
check "bad input: YAML display keys name the file, the line and the key" 2 \
	"typo\.yaml:4: unknown key 'display\.vnk' \(known: vga, vgabios, vnc, screendump, monitor\)" \
	-- $S5D_MV -config "$s5d_tmp/typo.yaml"
check "bad input: YAML display.vga names an adapter this machine does not have" 2 \
	"cga\.yaml:3: key 'display\.vga': unknown VGA 'cga'" -- $S5D_MV -config "$s5d_tmp/cga.yaml"
check "bad input: a missing VGA BIOS" 2 '^minivisor: /nope/vgabios\.bin: cannot open the VGA BIOS' \
	-- $S5D_MV -vga std -vgabios /nope/vgabios.bin
check "bad input: a screendump to an unwritable path" 0 \
	'minivisor: screendump: /nonexistent/x\.png: cannot write: No such file or directory' \
	'minivisor: guest reset' -- $S5D_MV -no-reboot -screendump /nonexistent/x.png

# ---- the manager: minivisor-ctl screendump ---------------------------------------------------
check "manager: minivisor-ctl screendump NAME FILE (text and PNG), and to a bad path" 0 \
	'^bios: screen written to .*/shot\.txt' '^bios: screen written to .*/shot\.png' \
	'^text: SeaBIOS \(version' 'minivisor-ctl: screendump: /nonexistent/x\.png: cannot write' \
	'^png: 720x400' -- bash -c "
	set -e; d=$s5d_tmp/mgr; mkdir -p \$d; ctl() { $ROOT/$S5D/manager/minivisor-ctl -s \$d/sock \"\$@\"; }
	$ROOT/$S5D/manager/minivisor-manager -s \$d/sock >\$d/manager.log 2>&1 &
	for i in \$(seq 50); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done
	ctl create bios $ROOT/$S5D/configs/firmware-only.yaml -- -boot reboot-timeout=-1
	ctl wait -t 150 bios output 'No bootable device'
	sleep 1
	cd \$d && ctl screendump bios shot.txt && ctl screendump bios \$d/shot.png
	ctl screendump bios /nonexistent/x.png || true
	ctl shutdown
	sed 's/^/text: /' \$d/shot.txt
	/usr/bin/python3 -c 'import sys; from PIL import Image; print(\"png: %dx%d\" % Image.open(sys.argv[1]).size)' \$d/shot.png"
# ---- Linux's bochs-drm and fbcon, VNC keys and mouse: one nested session ----------------------
# minivisor.static has no VNC (no static libvncserver): L1 gets the dynamic binary, and
# run-nested brings its libraries. vnc-input (static) is L1's VNC client.
guests/linux/build.sh >/dev/null 2>&1
cc -std=gnu11 -O2 -static -o "$s5d_tmp/vnc-input" tests/checks/display/vnc-input.c
CHECK_TIMEOUT=720 check "nested session ran: Linux on the standard VGA, typed at through VNC" 0 \
	'vmm-exit: 0' -- tests/nested/run-nested --timeout 600 \
	--file $S5D_MV:/work/minivisor --file "$s5d_tmp/vnc-input:/work/vnc-input" \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
	--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
	--file /usr/share/seabios/vgabios-stdvga.bin:/usr/share/seabios/vgabios-stdvga.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
	--file tests/checks/display/l1-display.sh --out /work/fb.png:"$s5d_tmp/fb.png" \
	-- sh l1-display.sh
s5d_nlog=$CHECK_LOG
check "nested: Linux's bochs-drm sets 1024x768x32, fbcon takes the screen" 0 \
	'\[drm\] Found bochs VGA, ID 0xb0c5' 'Initialized bochs-drm' \
	'fbcon: bochs-drmdrmfb \(fb0\) is primary device' \
	'Console: switching to colour frame buffer device 128x48' \
	'fb0-virtual_size: 1024,768' 'fb0-bits_per_pixel: 32' '!std-vga:' -- cat "$s5d_nlog"
check "nested: the screendump is 1024x768 like fb0 and shows the console's text (OCR)" 0 \
	'^png: 1024x768' 'ocr: .*display-test: hello from fbcon' 'ocr: .*BusyBox' 'ocr: .*echo typed' \
	-- bash -c "
	/usr/bin/python3 -c 'import sys; from PIL import Image; i = Image.open(sys.argv[1]); \
		print(\"png: %dx%d\" % i.size); i.resize((2048, 1536)).save(sys.argv[2])' \
		$s5d_tmp/fb.png $s5d_tmp/fb2x.png &&
	tesseract $s5d_tmp/fb2x.png $s5d_tmp/fb-ocr >/dev/null 2>&1; sed 's/^/ocr: /' $s5d_tmp/fb-ocr.txt"
check "nested: keys typed through VNC reach the Linux console (the command runs)" 0 \
	'vnc-input-exit: 0' '^l2: typed-42' -- cat "$s5d_nlog"
check "nested: mouse movement through VNC reaches /dev/input/mice" 0 \
	'^l2: mouse-bytes: +[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}' -- cat "$s5d_nlog"
rm -rf "$s5d_tmp"
