# tests/bench.d/stage4.sh - stage 4: boot Linux to init, next to QEMU microvm, same place, same run.
# Sourced by tests/bench. The VMMs run in the nested host's L1 (tests/nested), where /dev/kvm
# runs Linux; guests/stage4/l1-bench.sh does the timing there, on L1's clock.
echo "== stage 4: boot to init, memory, virtio-blk read (minivisor-lite vs QEMU microvm, nested host)"
if ! guests/linux/build.sh || ! make -s -C stage4-devices minivisor-lite.static; then
	echo "stage 4 bench: cannot build the guest or minivisor-lite.static"
else
	# STAGE4_BENCH_SMP=2: L1 with two CPUs (docs/stage4.md compares; the default stays 1).
	bench4_out=$(tests/nested/run-nested --qemu --smp "${STAGE4_BENCH_SMP:-1}" --timeout 1200 \
		--file stage4-devices/minivisor-lite.static:/work/mvl --file build/linux/vmlinuz \
		--file build/linux/initrd.cpio.gz --file guests/stage4/l1-bench.sh -- sh l1-bench.sh 3)
	echo "$bench4_out" | grep -E 'FAILED|^ ' | sed 's/^/  /'
	echo "$bench4_out" | awk '
		/^bench: / {
			name = $2
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				v[name, kv[1]] = kv[2]
				if (kv[1] == "blk_mbs") {
					nblk[name]++
					if (kv[2] > bestblk[name]) bestblk[name] = kv[2]
				}
				if (kv[1] == "init_s" && kv[2] != "none") {
					sum[name] += kv[2]; n[name]++
					if (!(name in best) || kv[2] < best[name]) best[name] = kv[2]
				}
			}
		}
		END {
			if (!n["ours"] || !n["qemu"]) { print "  no boot times (see above)"; exit }
			printf "  boot to init, %d runs each:   minivisor-lite best %.2f s mean %.2f s | QEMU microvm best %.2f s mean %.2f s\n",
				n["ours"], best["ours"], sum["ours"] / n["ours"], best["qemu"], sum["qemu"] / n["qemu"]
			printf "  boot-time ratio (minivisor-lite / QEMU, best of each): %.2f  (below 1: faster)\n",
				best["ours"] / best["qemu"]
			printf "  memory: minivisor-lite overhead (RSS - resident guest RAM) %d KiB;" \
				" peak RSS minivisor-lite %d KiB, QEMU %d KiB (256 MiB guest)\n",
				v["ours", "overhead_kib"], v["ours", "maxrss_kib"], v["qemu", "maxrss_kib"]
			if (bestblk["ours-blk"] && bestblk["qemu-blk"])
				printf "  virtio-blk sequential read (guest dd, 128 MiB, best of %d each): minivisor-lite %.0f MB/s, QEMU %.0f MB/s (ratio %.2f)\n",
					nblk["qemu-blk"], bestblk["ours-blk"], bestblk["qemu-blk"], bestblk["ours-blk"] / bestblk["qemu-blk"]
			if (v["ours-blk-simple", "blk_mbs"] && v["ours-blk-fast", "blk_mbs"] && v["qemu-blk", "blk_mbs"])
				printf "  virtio-blk read by path: --simple-virtio %.0f MB/s (ratio %.2f), --fast-virtio %.0f MB/s (ratio %.2f)\n",
					v["ours-blk-simple", "blk_mbs"], v["ours-blk-simple", "blk_mbs"] / bestblk["qemu-blk"],
					v["ours-blk-fast", "blk_mbs"], v["ours-blk-fast", "blk_mbs"] / bestblk["qemu-blk"]
			if (v["ours-noread-fast", "exits"] && v["ours-noread-simple", "exits"])
				printf "  virtio-blk exits per MiB read: fast path %.1f (mmio %.1f), simple path %.1f (mmio %.1f)\n",
					(v["ours-blk-fast", "exits"] - v["ours-noread-fast", "exits"]) / 128,
					(v["ours-blk-fast", "mmio_exits"] - v["ours-noread-fast", "mmio_exits"]) / 128,
					(v["ours-blk-simple", "exits"] - v["ours-noread-simple", "exits"]) / 128,
					(v["ours-blk-simple", "mmio_exits"] - v["ours-noread-simple", "mmio_exits"]) / 128
			if (v["ours-noread-fast", "irqs"] != "" && v["ours-noread-simple", "irqs"] != "") {
				split(v["ours-blk-fast", "irqs"], fa, "+"); split(v["ours-noread-fast", "irqs"], fb, "+")
				split(v["ours-blk-simple", "irqs"], sa, "+"); split(v["ours-noread-simple", "irqs"], sb, "+")
				printf "  virtio-blk per MiB read: fast path %.1f requests, %.1f interrupts (irqfd); simple path %.1f requests, %.1f interrupts (KVM_SIGNAL_MSI)\n",
					(v["ours-blk-fast", "requests"] - v["ours-noread-fast", "requests"]) / 128,
					(fa[1] + fa[2] + fa[3] - fb[1] - fb[2] - fb[3]) / 128,
					(v["ours-blk-simple", "requests"] - v["ours-noread-simple", "requests"]) / 128,
					(sa[1] + sa[2] + sa[3] - sb[1] - sb[2] - sb[3]) / 128
			}
		}'
fi
