# tests/bench.d/stage5-machine.sh - stage 5: firmware-to-init boot time of the `pc` and `q35`
# machines, next to QEMU's machines of the same names booting the same qcow2 disk the same way
# (SeaBIOS -> MBR -> SYSLINUX -> Linux, from IDE on pc and AHCI on q35), in the same nested host,
# in the same run. Sourced by tests/bench.
# stage5-full-machine/l1-bench.sh does the timing inside L1, on L1's clock.
#
# The nested session runs with run-nested's own retry off (--retries 0) and is retried here,
# once, when it stalled (tests/nested/README.md, "Stalls"): a figure is either measured or its
# line says why not (the session stalled twice, timed out, failed; or that boot failed in L1).
echo "== stage 5: SeaBIOS -> disk -> Linux init (minivisor vs QEMU, -M pc and -M q35, nested host)"
if ! guests/linux/build.sh >/dev/null || ! make -s -C stage5-full-machine minivisor.static; then
	echo "stage 5 machine bench: cannot build the guest or minivisor.static"
else
	bench5m_disk=$(mktemp)
	bench5m_stamp=$(mktemp)
	bench5m_err=$(mktemp)
	guests/linux/test-disk.sh "$bench5m_disk" "echo bench-boot-ok"
	cc -std=gnu11 -Wall -Wextra -Werror -O2 -static -o "$bench5m_stamp" tests/nested/stamp.c
	bench5m_why=""
	for bench5m_try in 1 2; do
		bench5m_out=$(tests/nested/run-nested --qemu --timeout 580 --retries 0 \
			--file stage5-full-machine/minivisor.static:/work/minivisor \
			--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
			--file build/linux/boot-disk.qcow2 --file "$bench5m_disk:/work/bench.img" \
			--file "$bench5m_stamp:/work/stamp" \
			--file stage5-full-machine/l1-bench.sh:/work/l1-bench.sh -- sh l1-bench.sh 2 \
			2>"$bench5m_err")
		bench5m_rc=$?
		bench5m_why=""
		[ $bench5m_rc = 0 ] && break
		# run-nested's first line says what went wrong ("stalled: no progress for 120s", ...).
		bench5m_why=$(sed -n 's/^run-nested: //p' "$bench5m_err" | head -n 1)
		grep -q '^run-nested: stalled' "$bench5m_err" || { sed 's/^/  /' "$bench5m_err"; break; }
		[ $bench5m_try = 1 ] && echo "  (nested session $bench5m_why; running it again)"
		bench5m_why="nested session stalled twice (${bench5m_why#stalled: })"
	done
	[ -n "$bench5m_why" ] && [ "${bench5m_why#nested}" = "$bench5m_why" ] &&
		bench5m_why="nested session: $bench5m_why (exit $bench5m_rc)"
	rm -f "$bench5m_disk" "$bench5m_stamp" "$bench5m_err"
	echo "$bench5m_out" | grep -E 'FAILED|^ ' | sed 's/^/  /'
	echo "$bench5m_out" | awk -v why="$bench5m_why" '
		/^bench: / && /FAILED/ { failed[$2] = 1 }
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
		# why_not(m, o): why a figure has no numbers, in words: the session, or the VMM that
		# has none (o is the minivisor key) - its boot failed, or its console lacked the marker.
		function why_not(m, o,   vmm, who) {
			if (why != "") return why
			vmm = !n[o] ? "ours" : "qemu"; who = vmm == "ours" ? "minivisor" : "QEMU"
			if (failed[vmm "-" m]) return "boot failed in L1 (" who ", see above)"
			return "the marker never appeared on the " who " console"
		}
		function show(m, what, label) {
			o = "ours-" m SUBSEP what; q = "qemu-" m SUBSEP what
			if (!n[o] || !n[q]) { printf "  %-4s %-26s no numbers: %s\n", m, label, why_not(m, o); return }
			printf "  %-4s %-26s minivisor best %.2f s mean %.2f s | QEMU best %.2f s mean %.2f s | ratio %.2f\n",
				m, label, best[o], sum[o] / n[o], best[q], sum[q] / n[q], best[o] / best[q]
		}
		END {
			split("pc q35", ms, " ")
			for (i = 1; i <= 2; i++) {
				show(ms[i], "fw_s", "start -> Booting from disk")
				show(ms[i], "init_s", "start -> init up")
				show(ms[i], "total_s", "start -> powered off")
			}
			print "  (ratio = minivisor / QEMU, best of each; below 1: faster; measured on the L1 clock)"
		}'
fi
