# tests/bench.d/stage5-display.sh - the display: full-screen updates a VNC client receives per
# second, and the VMM's CPU use while the guest idles with a client connected; minivisor next to
# QEMU (-vga std -vnc), same guests, same run, both on this host's KVM (SeaBIOS and a boot
# sector run on any KVM). Sourced by tests/bench from the repository root.
#
# The guests (guests/stage5/vga-bench.asm): 1024x768 at 8 bpp; "busy" recolours the whole
# screen without end (DAC entry 0, four port writes a change), "idle" sets it once and halts.
# The client (tests/bench.d/vnc-rate.py) asks for raw 32-bpp updates as fast as they come and
# counts screens' worth of pixels; both servers refresh every 30 ms (QEMU's default interval and
# ours), so about 33 a second is the ceiling.

echo "== stage 5: display, VNC full-screen update rate and idle CPU, minivisor vs QEMU"
make -s -C stage5-full-machine minivisor && make -s -C guests stage5/vga-bench.img \
	stage5/vga-idle.img || return 1
s5d_py=/usr/bin/python3
s5d_seconds=10

s5d_free_port() { local p=$1; while ss -ltnH "sport = :$p" | grep -q .; do p=$((p + 1)); done; echo $p; }
s5d_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# s5d_run minivisor|qemu IMAGE: start it, wait for the 1024x768 mode, print its pid and port
s5d_start() {
	local port display
	port=$(s5d_free_port 5970)
	display=$((port - 5900))
	if [ "$1" = minivisor ]; then
		stage5-full-machine/minivisor -M pc -vga std -vnc ":$display" \
			-drive "file=$2,format=raw,readonly=on" </dev/null >/dev/null 2>&1 &
	else
		qemu-system-x86_64 -enable-kvm -M pc -m 256 -vga std -display none \
			-vnc "127.0.0.1:$display" -drive "file=$2,format=raw,snapshot=on" \
			-serial null -monitor none </dev/null >/dev/null 2>&1 &
	fi
	s5d_pid=$!
	s5d_port=$port
	local i
	for i in $(seq 1 90); do
		$s5d_py tests/bench.d/vnc-rate.py 127.0.0.1 "$port" 0.5 2>/dev/null |
			grep -q '^1024x768' && return 0
		sleep 1
	done
	return 1
}

s5d_stop() { kill "$s5d_pid" 2>/dev/null; wait "$s5d_pid" 2>/dev/null; }

declare -A s5d_rate s5d_idle
for s5d_vmm in minivisor qemu; do
	if s5d_start $s5d_vmm guests/stage5/vga-bench.img; then
		s5d_rate[$s5d_vmm]=$($s5d_py tests/bench.d/vnc-rate.py 127.0.0.1 "$s5d_port" \
			$s5d_seconds | awk '{ print $2 }')
	fi
	s5d_stop
	if s5d_start $s5d_vmm guests/stage5/vga-idle.img; then
		s5d_t0=$(s5d_ticks "$s5d_pid")
		$s5d_py tests/bench.d/vnc-rate.py 127.0.0.1 "$s5d_port" $s5d_seconds >/dev/null
		s5d_t1=$(s5d_ticks "$s5d_pid")
		s5d_idle[$s5d_vmm]=$(awk -v t=$((s5d_t1 - s5d_t0)) -v hz="$(getconf CLK_TCK)" \
			-v s=$s5d_seconds 'BEGIN { printf "%.1f", 100 * t / hz / s }')
	fi
	s5d_stop
done
s5d_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '%-44s %10s %10s %7s\n' "display, 1024x768x8 via VNC (raw, 32 bpp)" minivisor QEMU ratio
printf '%-44s %10s %10s %7s\n' "full-screen updates per second (busy guest)" \
	"${s5d_rate[minivisor]:--}" "${s5d_rate[qemu]:--}" \
	"$(s5d_ratio "${s5d_rate[minivisor]:-0}" "${s5d_rate[qemu]:-0}")"
printf '%-44s %9s%% %9s%% %7s\n' "VMM CPU, guest idle, client connected" \
	"${s5d_idle[minivisor]:--}" "${s5d_idle[qemu]:--}" \
	"$(s5d_ratio "${s5d_idle[minivisor]:-0}" "${s5d_idle[qemu]:-0}")"
unset s5d_rate s5d_idle
