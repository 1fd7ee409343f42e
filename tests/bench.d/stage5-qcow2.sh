# tests/bench.d/stage5-qcow2.sh - sequential QCOW2 write and read, minivisor's backend next to
# QEMU's, same image type (qemu-img create -f qcow2, 64 KiB clusters), same run, same host.
# Sourced by tests/bench from the repository root.
#
# Both sides issue one request at a time (qemu-img bench -d 1; 64 KiB = one cluster, and 1 MiB)
# over a fresh image, so every write allocates, then read the same range back (from the page
# cache, for both).
# Two cache settings: "writeback" keeps each side's flushes (both keep L2 and refcount updates
# in a write-back metadata cache and flush only when it writes a table back, or at the final,
# untimed flush); "unsafe" drops them on both sides (qcow2-tool --no-flush, qemu -t unsafe).

echo "== stage 5: qcow2 sequential write and read, minivisor vs qemu-img bench"
make -s -C stage5-full-machine/block || return 1
s5b_tool=stage5-full-machine/block/qcow2-tool
s5b_tmp=$(mktemp -d)
s5b_total=$((64 << 20))

# MB/s from qemu-img bench: it prints "Run completed in X seconds."
s5b_qemu() { # s5b_qemu write|read CACHE BLOCK IMG
	local w=""
	[ "$1" = write ] && w=-w
	qemu-img bench -q $w -d 1 -c $((s5b_total / $3)) -s "$3" -t "$2" -f qcow2 "$4" |
		awk -v b=$s5b_total '/Run completed in/ { printf "%.1f", b / $4 / 1e6 }'
}

s5b_ours() { # s5b_ours write|read FLAGS BLOCK IMG
	# shellcheck disable=SC2086
	$s5b_tool $2 bench "$4" "$1" $s5b_total "$3" | awk '{ print $(NF - 1) }'
}

printf '%-26s %10s %10s %7s\n' "qcow2, 64 MiB sequential" "minivisor" "QEMU" "ratio"
for s5b_case in "65536 writeback" "1048576 writeback" "65536 unsafe"; do
	s5b_block=${s5b_case% *}
	s5b_cache=${s5b_case#* }
	s5b_flags=""
	[ "$s5b_cache" = unsafe ] && s5b_flags=--no-flush
	rm -f "$s5b_tmp"/*.qcow2
	qemu-img create -q -f qcow2 "$s5b_tmp/ours.qcow2" 128M
	qemu-img create -q -f qcow2 "$s5b_tmp/qemu.qcow2" 128M
	for s5b_op in write read; do
		s5b_a=$(s5b_ours $s5b_op "$s5b_flags" "$s5b_block" "$s5b_tmp/ours.qcow2")
		s5b_b=$(s5b_qemu $s5b_op "$s5b_cache" "$s5b_block" "$s5b_tmp/qemu.qcow2")
		printf '%-26s %6s MB/s %5s MB/s %6s\n' \
			"$s5b_op $((s5b_block >> 10))K ($s5b_cache)" "$s5b_a" "$s5b_b" \
			"$(awk -v a="$s5b_a" -v b="$s5b_b" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
	done
done
rm -rf "$s5b_tmp"
