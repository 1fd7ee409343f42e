# tests/bench.d/stage5-memory.sh - stage 5: start -> the Multiboot test kernel's first line
# (guests/stage5/multiboot-test.asm, one module), minivisor next to QEMU booting the same file
# with the same SeaBIOS on this host's KVM, alternately, the best of two each. Both go through
# their firmware's option ROM (ours: board/multiboot_rom.asm; QEMU's: multiboot_dma.bin), so
# the figure is mostly SeaBIOS's POST. QEMU does not power off at the end (its \_S5 is SLP_TYP
# 0, the kernel writes minivisor's 5): it is stopped by timeout, and only the marker counts.
# Sourced by tests/bench.
echo "== stage 5: start -> Multiboot kernel's first line (minivisor vs QEMU -M pc, same SeaBIOS)"
bench5mb_stamp=$(mktemp)
bench5mb_mod=$(mktemp)
if ! make -s -C stage5-full-machine minivisor || ! make -s -C guests stage5/multiboot-test.elf ||
	! cc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$bench5mb_stamp" tests/nested/stamp.c; then
	echo "stage 5 multiboot bench: cannot build minivisor, the test kernel or stamp"
else
	echo "module" >"$bench5mb_mod"
	bench5mb_k=guests/stage5/multiboot-test.elf
	bench5mb_out=$(for i in 1 2; do
		# stamp's figures come on its stderr; the console it copies is dropped.
		timeout 20 stage5-full-machine/minivisor -M pc -m 128M -kernel $bench5mb_k \
			-initrd "$bench5mb_mod" 2>&1 |
			"$bench5mb_stamp" first='multiboot-test: magic' 2>&1 >/dev/null |
			sed -n 's/^stamp: first=/ours /p'
		timeout 8 qemu-system-x86_64 -enable-kvm -M pc -m 128M -nographic -nodefaults \
			-serial stdio -no-reboot -kernel $bench5mb_k -initrd "$bench5mb_mod" 2>&1 |
			"$bench5mb_stamp" first='multiboot-test: magic' 2>&1 >/dev/null |
			sed -n 's/^stamp: first=/qemu /p'
	done)
	echo "$bench5mb_out" | awk '
		$2 != "none" && (!($1 in best) || $2 < best[$1]) { best[$1] = $2 }
		END {
			if (!("ours" in best) || !("qemu" in best)) {
				print "  multiboot: no figure (a kernel never printed its first line)"
				exit
			}
			printf "  multiboot first line: minivisor %.2f s, QEMU %.2f s, ratio %.2f\n",
				best["ours"], best["qemu"], best["ours"] / best["qemu"]
		}'
fi
rm -f "$bench5mb_stamp" "$bench5mb_mod"
