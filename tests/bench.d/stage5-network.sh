# tests/bench.d/stage5-network.sh - stage 5's network (issue 13): throughput both ways, ping
# round trips and small HTTP requests between a Linux guest and the host, minivisor beside QEMU
# with the same card and back end, in one nested-host session (same L1, same guest kernel and
# initramfs, same run): e1000 (pc) and virtio-net (q35) over user-mode networking (libslirp in
# both VMMs), then both cards over a tap device L1 makes. The guest half is
# guests/linux/bin/netbench, the L1 half guests/stage5/l1-net-bench.sh. Ratios: throughput and
# requests per second are minivisor / QEMU (above 1: minivisor faster); the round trip is
# minivisor / QEMU too (below 1: minivisor faster). Sourced by tests/bench.
echo "== stage 5: network, Linux guest <-> host (minivisor vs QEMU, same card and back end, nested)"
bench5n_mib=${BENCH5N_MIB:-32}
bench5n_dir=build/net-bench
mkdir -p $bench5n_dir
bench5n_tun=$(ls build/cache/kernel/*cloud*/lib/modules/*/kernel/drivers/net/tun.ko 2>/dev/null | head -1)
if ! make -s -C stage5-full-machine minivisor || ! guests/linux/build.sh >/dev/null; then
	echo "stage 5 network bench: cannot build minivisor or the guest"
else
	bench5n_out=$(tests/nested/run-nested --qemu --timeout 1500 --file stage5-full-machine/minivisor:/work/minivisor \
		--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
		--file /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
		--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
		${bench5n_tun:+--file "$bench5n_tun:/work/tun.ko"} --file guests/stage5/l1-net-bench.sh \
		-- sh l1-net-bench.sh "$bench5n_mib" ${bench5n_tun:+tap} 2>&1)
	echo "$bench5n_out" >$bench5n_dir/last.txt   # the raw lines, for a look afterwards
	echo "$bench5n_out" | awk -v mib="$bench5n_mib" '
		/^bench: .* (no figure|FAIL)/ { print "  " $0 }
		/^bench: [a-z0-9-]+ minivisor exits: / { sub(/^bench: /, ""); exits[++nexits] = $0 }
		/^bench: [a-z0-9-]+ qemu / { cfgq[$2, "qemu"] = 1 }
		/^bench: [a-z0-9-]+ [a-z]+ rtt avg / { rtt[$2, $3] = $6; cfg[$2] = 1 }
		/^bench: [a-z0-9-]+ [a-z]+ requests / { rps[$2, $3] = ($7 > 0) ? $5 / $7 : 0; cfg[$2] = 1 }
		/^bench: [a-z0-9-]+ [a-z]+ host-to-guest / { h2g[$2, $3] = ($8 > 0) ? $5 / $8 : 0; cfg[$2] = 1 }
		/^bench: [a-z0-9-]+ [a-z]+ guest-to-host / { g2h[$2, $3] = ($8 > 0) ? $5 / $8 : 0; cfg[$2] = 1 }
		function line(what, unit, a, c, m, q) {
			m = a[c, "minivisor"]; q = a[c, "qemu"]
			if (m != "" && !((c, "qemu") in cfgq)) {   # minivisor alone (the simple path)
				printf "  %-11s %-22s minivisor %8.3f %s (no QEMU run)\n", c, what, m, unit
				return
			}
			if (m == "" || q == "" || q == 0) {
				printf "  %-11s %-22s no figure\n", c, what
				return
			}
			printf "  %-11s %-22s minivisor %8.3f %s, QEMU %8.3f %s, ratio %.2f\n",
				c, what, m, unit, q, unit, m / q
		}
		END {
			n = split("e1000-user virtio-user e1000-tap virtio-tap virtio-tap-simple", order, " ")
			any = 0
			for (i = 1; i <= n; i++) {
				c = order[i]
				if (!(c in cfg)) continue
				any = 1
				line("guest->host " mib " MiB", "MiB/s", g2h, c)
				line("host->guest " mib " MiB", "MiB/s", h2g, c)
				line("ping round trip", "ms", rtt, c)
				line("HTTP requests", "req/s", rps, c)
			}
			if (!any) print "  network: no figures (see build/net-bench/last.txt)"
			for (i = 1; i <= nexits; i++)
				print "  " exits[i]
		}'
fi
