# tests/bench.d/stage5-vfio.sh - stage 5's PCI passthrough (issue 15): an L2 Linux reads a
# 64 MiB NVMe namespace 16 times sequentially (1 GiB; O_DIRECT, 1 MiB requests), in one
# nested-host session (L1 = q35 + Intel IOMMU + QEMU's nvme): minivisor passing the controller
# through and QEMU passing the same controller through (the peer, same L1, same run), twice
# each, alternately, the best of each kept; and minivisor's emulated AHCI on a copy of the
# image (256 MiB, once). Figures: MiB/s (the guest's clock) and KVM exits per MiB read
# (L1's count of all its VMs' exits between the guest's start and end lines;
# guests/stage5/l1-vfio-bench.sh). Sourced by tests/bench.
echo "== stage 5: NVMe passthrough, sequential read in L2 (minivisor vs QEMU vfio-pci vs minivisor AHCI)"
bench5v_dir=build/vfio-bench
mkdir -p $bench5v_dir
bench5v_files=()
bench5v_n=10
for bench5v_ko in $(bash -c '. guests/linux/kernel.sh && kernel_fetch build/cache/kernel >/dev/null &&
	kernel_modules_closure vfio vfio_iommu_type1 vfio-pci' 2>/dev/null); do
	case $bench5v_ko in */irqbypass.ko) continue ;; esac
	bench5v_files+=(--file "$bench5v_ko:/work/ko/$bench5v_n-${bench5v_ko##*/}")
	bench5v_n=$((bench5v_n + 1))
done
if ! make -s -C stage5-full-machine minivisor.static || ! guests/linux/build.sh >/dev/null ||
	! head -c 64M /dev/urandom >$bench5v_dir/nvme.img ||
	! { rm -rf $bench5v_dir/cpio && mkdir -p $bench5v_dir/cpio &&
	    cp guests/stage5/nvme-test.sh $bench5v_dir/cpio/test.sh &&
	    (cd $bench5v_dir/cpio && echo test.sh | cpio -o -H newc --quiet) >$bench5v_dir/nvme-test.cpio; }; then
	echo "stage 5 vfio bench: cannot build minivisor.static, the guest or the image"
else
	bench5v_out=$(tests/nested/run-nested --qemu --timeout 500 --machine q35 --iommu \
		--drive if=none,id=nv0,format=raw,file=$bench5v_dir/nvme.img \
		--device nvme,serial=mvbench,drive=nv0,addr=0x7 \
		--file stage5-full-machine/minivisor.static:/work/minivisor \
		--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
		--file /usr/share/qemu/linuxboot_dma.bin:/usr/share/qemu/linuxboot_dma.bin \
		--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
		--file $bench5v_dir/nvme-test.cpio --file $bench5v_dir/nvme.img "${bench5v_files[@]}" \
		--file guests/stage5/l1-vfio-bench.sh -- sh l1-vfio-bench.sh 64 16 2>&1)
	echo "$bench5v_out" >$bench5v_dir/last.txt   # the raw lines, for a look afterwards
	echo "$bench5v_out" | awk '
		/^bench: .* no figure/ { print "  " $0 }
		/^bench: [a-z]+ [0-9]+ MiB [0-9.]+ s [0-9]+ exits/ {
			if (!($2 in s) || $5 < s[$2]) { mib[$2] = $3; s[$2] = $5; ex[$2] = $7 }
		}
		END {
			if (!("minivisor" in s) || !("qemu" in s)) { print "  vfio: no figures"; exit }
			split("minivisor qemu emulated", order, " ")
			for (i = 1; i <= 3; i++) {
				n = order[i]
				if (!(n in s)) continue
				rate = (s[n] > 0) ? mib[n] / s[n] : 0
				printf "  %-9s %6.1f MiB/s  %7.1f exits/MiB\n", n, rate, ex[n] / mib[n]
			}
			if (s["minivisor"] > 0 && s["qemu"] > 0)
				printf "  passthrough read: minivisor %.1f MiB/s, QEMU %.1f MiB/s, ratio %.2f\n",
					mib["minivisor"] / s["minivisor"], mib["qemu"] / s["qemu"],
					(mib["minivisor"] / s["minivisor"]) / (mib["qemu"] / s["qemu"])
		}'
fi
