#!/usr/bin/env bash
# tests/checks/display/screen-session.sh OUTDIR - one SeaBIOS session on this host's KVM that
# the display checks (tests/checks/stage5-display.sh) look at from several sides:
#   1. minivisor -config configs/firmware-only.yaml -boot reboot-timeout=-1, with -vnc on a free
#      display, -screendump OUTDIR/screen.png and -monitor OUTDIR/monitor.sock; wait for SeaBIOS's
#      "No bootable device" on the serial console (the screen then stays as it is)
#   2. screendumps: SIGUSR2 -> screen.png; the monitor socket -> screen.txt (the text buffer)
#   3. tesseract-ocr reads screen.png (scaled 2x) -> ocr.txt
#   4. vncsnapshot (TightVNC's, a client nobody here wrote) -> vnc.jpg (lossless transfer,
#      JPEG quality 100); compared with screen.png pixel by pixel -> "vnc-vs-screendump: ..."
#   5. the browser view (-vnc :N,novnc=PORT): minivisor starts websockify, which serves Debian's
#      noVNC and bridges to the VNC port; headless
#      chromium loads vnc_lite.html (browser-shot.py waits for noVNC to connect) and takes a
#      screenshot -> browser.png, OCR -> browser-ocr.txt
# Everything listens on 127.0.0.1 only. Prints one line per result; exit 0 if the session ran.
set -u
out=$1
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../../.." && pwd)
MV=$root/stage5-full-machine/minivisor
PY=/usr/bin/python3          # Debian's (python3-pil comes with novnc): not a pyenv shim
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

free_port() {   # the first port from $1 up that nothing listens on
	local p=$1
	while ss -ltnH "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}
vnc_port=$(free_port 5950)
display=$((vnc_port - 5900))
ws_port=$(free_port 6080)
echo "vnc: 127.0.0.1:$vnc_port, browser view on 127.0.0.1:$ws_port"

"$MV" -config "$root/stage5-full-machine/configs/firmware-only.yaml" -boot reboot-timeout=-1 \
	-vnc ":$display,novnc=$ws_port" -screendump "$out/screen.png" -monitor "$out/monitor.sock" \
	>"$out/serial.txt" 2>"$out/vmm.txt" </dev/null &
mv_pid=$!
pids+=("$mv_pid")
for _ in $(seq 1 240); do
	grep -q 'No bootable device' "$out/serial.txt" 2>/dev/null && break
	kill -0 "$mv_pid" 2>/dev/null || break
	sleep 0.5
done
if ! grep -q 'No bootable device' "$out/serial.txt"; then
	echo "session: SeaBIOS did not reach 'No bootable device'"
	tail -5 "$out/vmm.txt"
	exit 1
fi
echo "session: SeaBIOS says No bootable device"
sleep 1   # a refresh or two (30 ms each) after the last character

# 2. screendumps: the signal (PNG) and the monitor socket (text)
kill -USR2 "$mv_pid"
"$PY" - "$out/monitor.sock" "$out/screen.txt" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("screendump %s\n" % sys.argv[2]).encode())
print("monitor:", s.recv(512).decode().strip())
PYEOF
for _ in $(seq 1 20); do [ -s "$out/screen.png" ] && break; sleep 0.25; done
sed 's/^/text: /' "$out/screen.txt" | grep -v '^text: $'

# 3. OCR of the PNG
"$PY" -c "from PIL import Image; import sys; i=Image.open(sys.argv[1]); i.resize((i.width*2,i.height*2)).save(sys.argv[2])" \
	"$out/screen.png" "$out/screen2x.png"
tesseract "$out/screen2x.png" "$out/ocr" >/dev/null 2>&1
sed 's/^/ocr: /' "$out/ocr.txt" | grep -v '^ocr: *$'

# 4. a real VNC client's frame against the screendump
timeout 30 vncsnapshot -quiet -nojpeg -quality 100 "127.0.0.1:$display" "$out/vnc.jpg" \
	>"$out/vncsnapshot.txt" 2>&1
echo "vncsnapshot: exit $?"
"$PY" - "$out/screen.png" "$out/vnc.jpg" <<'PYEOF'
import sys
from PIL import Image, ImageChops
a = Image.open(sys.argv[1]).convert("RGB")
b = Image.open(sys.argv[2]).convert("RGB")
if a.size != b.size:
    print("vnc-vs-screendump: sizes differ %s %s" % (a.size, b.size)); sys.exit()
h = ImageChops.difference(a, b).convert("L").histogram()
worst = max(i for i, n in enumerate(h) if n)
print("vnc-vs-screendump: %dx%d max difference %d of 255 (%s)" % (a.size + (worst,
      "equal" if worst <= 8 else "DIFFERENT")))
PYEOF

# 5. the browser view: minivisor's own websockify (-vnc ...,novnc=PORT) + noVNC, headless chromium
for _ in $(seq 1 40); do ss -ltnH "sport = :$ws_port" | grep -q . && break; sleep 0.25; done
url="http://127.0.0.1:$ws_port/vnc_lite.html?host=127.0.0.1&port=$ws_port&scale=false"
echo "browser: $url"
timeout 120 "$PY" "$(dirname "$0")/browser-shot.py" "$url" "$out/browser.png"
echo "chromium: exit $?"
if [ -s "$out/browser.png" ]; then
	"$PY" -c "from PIL import Image; import sys; i=Image.open(sys.argv[1]); i.resize((i.width*2,i.height*2)).save(sys.argv[2])" \
		"$out/browser.png" "$out/browser2x.png"
	tesseract "$out/browser2x.png" "$out/browser-ocr" >/dev/null 2>&1
	sed 's/^/browser-ocr: /' "$out/browser-ocr.txt" | grep -v '^browser-ocr: *$'
fi
sed 's/^/vmm: /' "$out/vmm.txt" | grep -E 'std-vga|vnc|screendump|browser view' || true
exit 0
