# tests/bench.d/stage5-usb.sh - stage 5: USB (stage5-full-machine/usb/), next to QEMU with the
# same controller (qemu-xhci), device (usb-storage) and image, in the same run:
#   1. start -> the stick's boot loader (guests/stage5/ahci-boot.bin on a raw stick: SeaBIOS's
#      xHCI or UHCI and MSC drivers load it, it prints sector 1), on this host's KVM, best of two
#      each, on both controllers
#   2. a sequential read of a file on an ext4 stick by the Linux guest (dd, page cache dropped;
#      timed by the guest), in one nested session (Linux needs a hardware KVM), best of two
#      each: 64 MiB on xHCI, 8 MiB on UHCI (12 Mb/s: 64 MiB would take over a minute a run)
# Sourced by tests/bench.
echo "== stage 5: USB stick (usb-storage on qemu-xhci / piix3-usb-uhci): boot loader time, 64 MiB read on xHCI, 8 MiB on UHCI (vs QEMU)"
bench5u_tmp=$(mktemp -d)
if ! make -s -C stage5-full-machine minivisor minivisor.static ||
	! make -s -C guests stage5/ahci-boot.bin || ! guests/linux/build.sh >/dev/null ||
	! cc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$bench5u_tmp/stamp" tests/nested/stamp.c; then
	echo "stage 5 USB bench: cannot build minivisor, the boot sector, the guest or stamp"
else
	{ cat guests/stage5/ahci-boot.bin; printf '\r\nusb-boot: loaded\r\n\0'; } >"$bench5u_tmp/boot.raw"
	truncate -s 16M "$bench5u_tmp/boot.raw"
	bench5u_stick="-drive if=none,id=s,file=$bench5u_tmp/boot.raw,format=raw -device usb-storage,drive=s"
	for bench5u_hc in qemu-xhci piix3-usb-uhci; do
		# shellcheck disable=SC2086 # the stick's options: words on purpose
		bench5u_out=$(for i in 1 2; do
			timeout 60 stage5-full-machine/minivisor -no-reboot -M pc -device $bench5u_hc \
				$bench5u_stick 2>&1 | "$bench5u_tmp/stamp" first='usb-boot: loaded' \
				2>&1 >/dev/null | sed -n 's/^stamp: first=/ours /p'
			timeout 60 qemu-system-x86_64 -enable-kvm -M pc -nographic -nodefaults \
				-serial stdio -no-reboot -device $bench5u_hc $bench5u_stick 2>&1 |
				"$bench5u_tmp/stamp" first='usb-boot: loaded' 2>&1 >/dev/null |
				sed -n 's/^stamp: first=/qemu /p'
		done)
		echo "$bench5u_out" | awk -v hc=$bench5u_hc '
			$2 != "none" && (!($1 in best) || $2 < best[$1]) { best[$1] = $2 }
			END {
				if (!("ours" in best) || !("qemu" in best)) {
					print "  " hc ": no figure (a boot sector never printed)"; exit
				}
				printf "  start -> stick boot loader (%s): minivisor %.2f s, QEMU %.2f s, ratio %.2f\n",
					hc, best["ours"], best["qemu"], best["ours"] / best["qemu"]
			}'
	done
	# The 64 MiB read, in the nested host.
	mkdir "$bench5u_tmp/files" "$bench5u_tmp/layer"
	dd if=/dev/urandom of="$bench5u_tmp/files/big.bin" bs=1M count=64 2>/dev/null
	mkfs.ext4 -q -F -d "$bench5u_tmp/files" "$bench5u_tmp/bench.raw" 96M >/dev/null
	truncate -s 8M "$bench5u_tmp/files/big.bin"
	mkfs.ext4 -q -F -d "$bench5u_tmp/files" "$bench5u_tmp/bench-u.raw" 32M >/dev/null
	cp guests/stage5/usb-test.sh "$bench5u_tmp/layer/test.sh"
	chmod 755 "$bench5u_tmp/layer/test.sh"
	(cd "$bench5u_tmp/layer" && echo test.sh | cpio -o -H newc 2>/dev/null) >"$bench5u_tmp/layer.cpio"
	cat build/linux/initrd.cpio.gz "$bench5u_tmp/layer.cpio" >"$bench5u_tmp/initrd-usb.cpio.gz"
	bench5u_out=$(tests/nested/run-nested --qemu --timeout 900 \
		--file stage5-full-machine/minivisor.static:/work/minivisor \
		--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
		--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
		--file build/linux/vmlinuz --file "$bench5u_tmp/initrd-usb.cpio.gz:/work/initrd-usb.cpio.gz" \
		--file "$bench5u_tmp/bench.raw:/work/bench.raw" --file "$bench5u_tmp/bench-u.raw:/work/bench-u.raw" \
		--file guests/stage5/l1-usb-bench.sh -- sh l1-usb-bench.sh 2 2>&1)
	echo "$bench5u_out" | awk '
		/^bench: (ours|qemu) [a-z0-9-]+ read/ {
			split($7, s, "="); split($8, e, "=")
			t = e[2] - s[2]; k = $2 " " $3
			if (t > 0 && (!(k in best) || t < best[k])) { best[k] = t; mib[k] = $5 }
		}
		END {
			n = split("qemu-xhci piix3-usb-uhci", hc, " ")
			for (i = 1; i <= n; i++) {
				o = "ours " hc[i]; q = "qemu " hc[i]
				if (!(o in best) || !(q in best)) {
					print "  usb read (" hc[i] "): no figure (a guest never printed its time)"
					continue
				}
				printf "  %d MiB sequential read (%s, nested): minivisor %.1f MiB/s, QEMU %.1f MiB/s, ratio (throughput) %.2f\n",
					mib[o], hc[i], mib[o] / best[o], mib[q] / best[q], best[q] / best[o]
			}
		}'
fi
rm -rf "$bench5u_tmp"
