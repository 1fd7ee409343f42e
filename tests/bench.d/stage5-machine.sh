# tests/bench.d/stage5-machine.sh - stage 5: firmware-to-init boot time of the `pc` machine,
# next to QEMU's `pc` machine booting the same kernel the same way (SeaBIOS + fw_cfg direct
# kernel boot), in the same nested host, in the same run. Sourced by tests/bench.
# stage5-full-machine/l1-bench.sh does the timing inside L1, on L1's clock.
echo "== stage 5: SeaBIOS -> Linux init (minivisor -M pc vs QEMU -M pc, nested host)"
if ! guests/linux/build.sh >/dev/null || ! make -s -C stage5-full-machine minivisor.static; then
	echo "stage 5 machine bench: cannot build the guest or minivisor.static"
else
	bench5m_out=$(tests/nested/run-nested --qemu --timeout 500 \
		--file stage5-full-machine/minivisor.static:/work/minivisor \
		--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
		--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
		--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
		--file stage5-full-machine/l1-bench.sh:/work/l1-bench.sh -- sh l1-bench.sh 2)
	echo "$bench5m_out" | grep -E 'FAILED|^ ' | sed 's/^/  /'
	echo "$bench5m_out" | awk '
		/^bench: / && !/FAILED/ {
			name = $2
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[2] == "none") continue
				k = name SUBSEP kv[1]
				sum[k] += kv[2]; n[k]++
				if (!(k in best) || kv[2] < best[k]) best[k] = kv[2]
			}
		}
		function show(what, label) {
			o = "ours" SUBSEP what; q = "qemu" SUBSEP what
			if (!n[o] || !n[q]) { printf "  %-26s no numbers\n", label; return }
			printf "  %-26s minivisor best %.2f s mean %.2f s | QEMU -M pc best %.2f s mean %.2f s | ratio %.2f\n",
				label, best[o], sum[o] / n[o], best[q], sum[q] / n[q], best[o] / best[q]
		}
		END {
			show("fw_s", "start -> Booting from ROM")
			show("init_s", "start -> init up")
			show("total_s", "start -> powered off")
			print "  (ratio = minivisor / QEMU, best of each; below 1: faster; L1 clock, 10 ms steps)"
		}'
fi
