# tests/bench.d/stage5-migration.sh - stage 5: live migration and snapshots
# (stage5-full-machine/migration/), minivisor next to QEMU's `migrate` in the same run.
# Part 1, in the nested host (one session, guests/stage5/l1-migbench.sh): a 512 MiB Linux guest
# (guests/linux, same kernel, initramfs and command line for both VMMs) migrated over L1's
# loopback, downtime budget 50 ms both: idle (a line every 2 s), and busy (guests/stage5/memdirty
# writing BENCH5G_RATE MiB/s, default 16); downtime and total time, ours (with where our
# downtime went) and QEMU's (`info migrate`), best of BENCH5G_RUNS (default 2); the idle guest's
# snapshot file against RAM (ours sparse: ls size and du). BENCH5G_NESTED=0 skips it.
# Part 2, on this host's KVM, each machine 512 MiB on pc, over 127.0.0.1:
#   - idle: SeaBIOS with nothing to boot, waiting for ever (-boot reboot-timeout=-1);
#   - busy: guests/stage5/count-test.img (rewrites 112 pages and a disk sector as it counts);
# figures: downtime and total time as each VMM reports them (ours: the "ok migrated" line;
# QEMU: `info migrate` on its monitor, downtime-limit 50 ms as our budget), best of two; then
# the snapshot of the idle machine: file size and allocated blocks (du) against RAM, ours and
# QEMU's (`migrate exec:cat>FILE`). BENCH5G_HOST=0 skips it. Run alone: tests/bench stage5-migration.
# Sourced by tests/bench.
echo "== stage 5: live migration of a 512 MiB Linux guest, minivisor vs QEMU migrate (same run, nested)"
b5g_rate=${BENCH5G_RATE:-16}
b5g_runs=${BENCH5G_RUNS:-2}
if [ "${BENCH5G_NESTED:-1}" = 0 ]; then
	echo "  nested: skipped (BENCH5G_NESTED=0)"
elif ! make -s -C stage5-full-machine minivisor.static || ! make -s -C stage5-full-machine/manager ||
	! make -s -C guests stage5/memdirty || ! guests/linux/build.sh >/dev/null; then
	echo "  nested: cannot build minivisor.static, minivisor-ctl, memdirty or the Linux guest"
else
	b5g_n=$(mktemp -d)
	mkdir -p "$b5g_n/root/bin" build/migration-bench
	cp guests/stage5/memdirty "$b5g_n/root/bin/"
	# shellcheck disable=SC2016 # the guest's script: its $ expand in the guest
	printf 'echo "migbench: ready"\ni=0\nwhile :; do sleep 2; i=$((i + 1)); echo "migbench: tick $i"; done\n' \
		>"$b5g_n/root/idle.sh"
	printf 'exec /bin/memdirty %s 64\n' "$b5g_rate" >"$b5g_n/root/busy.sh"
	(cd "$b5g_n/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet |
		gzip) | cat build/linux/initrd.cpio.gz - >"$b5g_n/initrd.cpio.gz"
	b5g_out=$(tests/nested/run-nested --qemu --mem 3072 --timeout 1500 \
		--file stage5-full-machine/minivisor.static:/work/minivisor \
		--file stage5-full-machine/manager/minivisor-ctl:/work/minivisor-ctl \
		--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
		--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
		--file build/linux/vmlinuz --file "$b5g_n/initrd.cpio.gz:/work/initrd.cpio.gz" \
		--file guests/stage5/l1-migbench.sh -- sh l1-migbench.sh "$b5g_runs" 2>&1)
	echo "$b5g_out" >build/migration-bench/last.txt   # the raw lines, for a look afterwards
	echo "$b5g_out" | awk -v rate="$b5g_rate" '
		# best (smallest downtime) run of each VMM and kind, with its total time
		/^bench: (ours|qemu) (idle|busy) continues: yes, / {
			d = ""; t = ""
			for (i = 1; i <= NF; i++) {
				if ($i == "downtime" && d == "") d = $(i + 1)
				if ($i == "total" && t == "") t = $(i + 1)
			}
			sub(/,$/, "", t); k = $2 " " $3
			if (d != "" && (!(k in best) || d + 0 < best[k] + 0)) {
				best[k] = d; tot[k] = t
				if ($2 == "ours") {
					where[$3] = $0; sub(/.*downtime [0-9.]+ ms \(/, "", where[$3]); sub(/\), total .*/, "", where[$3])
					dest = where[$3]; sub(/.*destination /, "", dest); sub(/:.*/, "", dest)
					sent[$3] = d - dest   # QEMU stops its clock here: the last byte sent
				}
			}
		}
		/^bench: .* no figure/ { print "  " $0 }
		/^bench: ours snapshot [0-9]/ { os = $4; od = $7 }
		/^bench: qemu snapshot [0-9]/ { qs = $4; qd = $7 }
		END {
			split("idle busy", kinds, " ")
			for (j = 1; j <= 2; j++) {
				k = kinds[j]; o = "ours " k; q = "qemu " k
				name = k == "idle" ? "idle" : "busy (" rate " MiB/s)"
				if (!(o in best) || !(q in best)) { printf "  Linux %s: no figure (see build/migration-bench/last.txt)\n", name; continue }
				printf "  Linux %s 512 MiB: downtime minivisor %.1f ms, QEMU %.1f ms (ratio %.2f); total minivisor %.0f ms, QEMU %.0f ms (ratio %.2f)\n",
					name, best[o], best[q], best[o] / (best[q] > 0 ? best[q] : 1), tot[o], tot[q], tot[o] / (tot[q] > 0 ? tot[q] : 1)
				if (where[k] != "") {
					printf "    where minivisor'"'"'s downtime went: %s\n", where[k]
					printf "    up to the last byte sent (what QEMU counts): minivisor %.1f ms, QEMU %.1f ms (ratio %.2f)\n",
						sent[k], best[q], sent[k] / (best[q] > 0 ? best[q] : 1)
				}
			}
			if (os != "" && qs != "")
				printf "  snapshot of the idle Linux guest: minivisor %d KiB in the file, %d KiB on disk (du); QEMU %d KiB (du %d KiB); RAM 524288 KiB\n", os / 1024, od, qs / 1024, qd
			else
				print "  snapshot of the idle Linux guest: no figure"
		}'
	rm -rf "$b5g_n"
fi
echo "== stage 5: live migration of a 512 MiB pc (firmware guests), minivisor vs QEMU migrate (same run, this host's KVM)"
b5g=$(mktemp -d)
b5g_port=$((30000 + $$ % 10000))
b5g_mv=stage5-full-machine/minivisor
b5g_ctl=stage5-full-machine/manager/minivisor-ctl

# QEMU's human monitor, one command at a time (Python: the socket is a unix one).
b5g_hmp() {
	python3 - "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
def run(cmd):
    s.sendall((cmd + "\n").encode())
    out = b""
    try:
        while not out.endswith(b"(qemu) "):
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    return out.decode(errors="replace")
run("")
for cmd in sys.argv[2:]:
    if cmd == "wait":   # until the migration has completed (or failed), at most 60 s
        for _ in range(600):
            if "Migration status: completed" in run("info migrate") or "failed" in run("info migrate"):
                break
            time.sleep(0.1)
        print(run("info migrate"))
    else:
        print(run(cmd))
PY
}

b5g_wait() {   # FILE REGEX: until FILE shows REGEX (at most 60 s)
	for ((i = 0; i < 600; i++)); do grep -aEq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# One migration each way of measuring; prints "ours DOWNTIME TOTAL" or "qemu DOWNTIME TOTAL".
b5g_ours() {   # KIND PORT
	local drive=() ready='No bootable device'
	[ "$1" = busy ] && drive=(-drive "file=$b5g/disk.img,format=raw") && ready='count-test: count 10'
	rm -f "$b5g/src.log" "$b5g/dst.log"   # the last run's lines must not count
	$b5g_mv -M pc -m 512M -vga none -boot reboot-timeout=-1 "${drive[@]}" \
		-incoming "tcp:127.0.0.1:$2" </dev/null >"$b5g/dst.log" 2>&1 &
	local dst=$!
	$b5g_mv -M pc -m 512M -vga none -boot reboot-timeout=-1 "${drive[@]}" -control "$b5g/src.ctl" \
		</dev/null >"$b5g/src.log" 2>&1 &
	local src=$!
	b5g_wait "$b5g/src.log" "$ready" && b5g_wait "$b5g/dst.log" 'waiting for a migration' &&
		$b5g_ctl control "$b5g/src.ctl" migrate "tcp:127.0.0.1:$2" downtime=50 |
		sed -n 's/^ok migrated.*downtime \([0-9.]*\) ms .*total \([0-9.]*\) ms.*/ours \1 \2/p'
	kill $src $dst 2>/dev/null
	wait $src $dst 2>/dev/null
}

b5g_qemu() {   # KIND PORT
	local drive=() ready='No bootable device'
	[ "$1" = busy ] && drive=(-drive "file=$b5g/qdisk.img,format=raw") && ready='count-test: count 10'
	rm -f "$b5g/q.sock" "$b5g/q.ser" "$b5g/q2.ser"
	qemu-system-x86_64 -enable-kvm -M pc -m 512M -nographic -nodefaults -vga none \
		-boot reboot-timeout=-1 "${drive[@]}" -serial "file:$b5g/q2.ser" -monitor none \
		-incoming "tcp:127.0.0.1:$2" 2>/dev/null &
	local dst=$!
	qemu-system-x86_64 -enable-kvm -M pc -m 512M -nographic -nodefaults -vga none \
		-boot reboot-timeout=-1 "${drive[@]}" -serial "file:$b5g/q.ser" \
		-monitor "unix:$b5g/q.sock,server,nowait" 2>/dev/null &
	local src=$!
	b5g_wait "$b5g/q.ser" "$ready" &&
		b5g_hmp "$b5g/q.sock" "migrate_set_parameter downtime-limit 50" \
			"migrate -d tcp:127.0.0.1:$2" wait |
		awk '/^total time:/ { t = $3 } /^downtime:/ { d = $2 }
		     END { if (t != "" && d != "") print "qemu", d, t }'
	kill $src $dst 2>/dev/null
	wait $src $dst 2>/dev/null
}

if [ "${BENCH5G_HOST:-1}" = 0 ]; then
	echo "  this host: skipped (BENCH5G_HOST=0)"
elif ! make -s -C stage5-full-machine minivisor || ! make -s -C stage5-full-machine/manager ||
	! make -s -C guests stage5/count-test.img; then
	echo "  migration: cannot build minivisor, minivisor-ctl or the count-test disk"
else
	cp guests/stage5/count-test.img "$b5g/disk.img" && truncate -s 1M "$b5g/disk.img"
	cp "$b5g/disk.img" "$b5g/qdisk.img"   # QEMU locks its image: its own copy
	for b5g_kind in idle busy; do
		b5g_out=$(for i in 1 2; do
			b5g_ours $b5g_kind $((b5g_port + 4 * i))
			b5g_qemu $b5g_kind $((b5g_port + 4 * i + 1))
		done)
		echo "$b5g_out" | awk -v kind=$b5g_kind '
			$1 != "" && (!($1 in d) || $2 < d[$1]) { d[$1] = $2; t[$1] = $3 }
			END {
				if (!("ours" in d) || !("qemu" in d)) {
					print "  " kind ": no figure (a migration did not complete)"; exit
				}
				printf "  %s 512 MiB: downtime minivisor %.1f ms, QEMU %.1f ms (ratio %.2f);" \
					" total minivisor %.0f ms, QEMU %.0f ms (ratio %.2f)\n", kind,
					d["ours"], d["qemu"], d["ours"] / (d["qemu"] > 0 ? d["qemu"] : 1),
					t["ours"], t["qemu"], t["ours"] / t["qemu"]
			}'
	done
	# The idle machine's snapshot: bytes and blocks against its 512 MiB.
	$b5g_mv -M pc -m 512M -vga none -boot reboot-timeout=-1 -control "$b5g/s.ctl" </dev/null \
		>"$b5g/s.log" 2>&1 &
	b5g_pid=$!
	b5g_wait "$b5g/s.log" 'No bootable device' &&
		$b5g_ctl control "$b5g/s.ctl" snapshot "$b5g/snap.bin" >/dev/null
	kill $b5g_pid; wait $b5g_pid 2>/dev/null
	qemu-system-x86_64 -enable-kvm -M pc -m 512M -nographic -nodefaults -vga none \
		-boot reboot-timeout=-1 -serial "file:$b5g/qs.ser" \
		-monitor "unix:$b5g/qs.sock,server,nowait" 2>/dev/null &
	b5g_pid=$!
	b5g_wait "$b5g/qs.ser" 'No bootable device' &&
		b5g_hmp "$b5g/qs.sock" "migrate -d exec:cat>$b5g/qemu.bin" wait >/dev/null
	kill $b5g_pid; wait $b5g_pid 2>/dev/null
	if [ -s "$b5g/snap.bin" ] && [ -s "$b5g/qemu.bin" ]; then
		printf '  snapshot of the idle 512 MiB machine: minivisor %s KiB (du %s KiB), QEMU %s KiB (du %s KiB), RAM 524288 KiB\n' \
			$(($(stat -c %s "$b5g/snap.bin") / 1024)) "$(du -k "$b5g/snap.bin" | cut -f1)" \
			$(($(stat -c %s "$b5g/qemu.bin") / 1024)) "$(du -k "$b5g/qemu.bin" | cut -f1)"
	else
		echo "  snapshot: no figure (a snapshot was not written)"
	fi
fi
rm -rf "$b5g"
