#!/bin/sh
# tests/checks/display/l1-display.sh - the display check's nested session, run in L1 by
# tests/nested/run-nested (tests/checks/stage5-display.sh). /work holds minivisor (the dynamic
# binary: VNC is not in minivisor.static; run-nested brings its libraries), vnc-input (a static
# VNC client that types), Linux (vmlinuz, initrd.cpio.gz with the bochs DRM driver) and the
# firmware at its Debian paths.
#
# L2 is Linux on the pc machine with the standard VGA: bochs-drm sets 1024x768x32 and fbcon
# takes the screen. The test command (below) prints fb0's size on the serial console, writes a
# line on the screen (tty1), starts a shell reading the keyboard on tty1 and a reader of
# /dev/input/mice, gives the shell time to print its prompt (an input line typed before it is
# flushed) and waits. vnc-input then moves the mouse and types, through VNC, a command
# whose output goes to the serial console; it also ends the wait. minivisor writes the last
# screen to fb.png when the guest powers off (run-nested --out brings it back for OCR).
cd /work || exit 1
# The VNC server listens on 127.0.0.1: L1's loopback must be up (its init leaves it down).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
cat >l2-test <<'TEST'
sleep 1; for f in name virtual_size bits_per_pixel; do echo fb0-$f: $(cat /sys/class/graphics/fb0/$f); done; echo input-devices: $(ls /dev/input); echo display-test: hello from fbcon >/dev/tty1; (dd if=/dev/input/mice bs=3 count=1 | od -An -tx1 | sed s/^/mouse-bytes:/) & (setsid sh -i </dev/tty1 >/dev/tty1 2>&1 &) ; sleep 8; echo display-test: ready; i=0; while [ ! -e /tmp/done ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done; sleep 2; echo display-test: end
TEST
append="console=ttyS0 panic=-1 mv.test=\"$(cat l2-test)\""
./minivisor -M pc -m 512 -vga std -vnc :1 -screendump /work/fb.png -kernel vmlinuz \
	-initrd initrd.cpio.gz -append "$append" </dev/null >serial.log 2>&1 &
mv=$!
i=0
while ! grep -q '^display-test: ready' serial.log 2>/dev/null && [ $i -lt 400 ] && [ -d /proc/$mv ]; do
	sleep 0.5
	i=$((i + 1))
done
sleep 3   # the shell's prompt on tty1
./vnc-input 127.0.0.1 5901 'echo typed-$((6*7)) >/dev/ttyS0; touch /tmp/done\n'
echo "vnc-input-exit: $?"
wait $mv
echo "vmm-exit: $?"
sed 's/^/l2: /' serial.log
