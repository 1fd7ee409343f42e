# tests/checks/stage4.sh - stage 4: minivisor-lite boots Linux; devices, bad input, hostile guest.
# Sourced by tests/grade, which defines check, build and record.
#
# An unmodified Linux needs a hardware-backed KVM; this course's host has a PVM one, so every
# Linux run happens in the nested host (tests/nested/run-nested). Those runs are slow (TCG),
# so all of them share ONE nested session (guests/stage4/l1-checks.sh): it prints one
# section per VMM run, and each check below reads its own section. The bad-input checks and
# the small bzImage guests of guests/stage4 (not Linux) run directly on this host.

S4=stage4-devices
G4=guests/stage4
MVL=$S4/minivisor-lite
LINUX=build/linux

build "build stage 4" $S4
check "build the Linux test guest (guests/linux/build.sh)" 0 -- guests/linux/build.sh

# ---- bad input: one line naming the culprit, exit status 2, before any VM exists --------
tmp4=$(mktemp -d)
head -c $((300 << 20)) /dev/zero >"$tmp4/huge.initrd" 2>/dev/null || truncate -s 300M "$tmp4/huge.initrd"
cp $LINUX/disk.ext4 "$tmp4/ro.ext4" && chmod 444 "$tmp4/ro.ext4"
check "bad input: missing kernel" 2 'no-such-vmlinuz: cannot read kernel: No such file' \
	-- $MVL "$tmp4/no-such-vmlinuz"
check "bad input: a file that is not a bzImage" 2 'passwd: not a bzImage' -- $MVL /etc/passwd
check "bad input: initrd larger than RAM" 2 'huge\.initrd: initrd \([0-9]+ bytes\) is larger than guest RAM \(256 MiB\)' \
	-- $MVL --mem 256M $LINUX/vmlinuz "$tmp4/huge.initrd"
check "bad input: missing disk image" 2 'no-such\.img: cannot open disk image read-write: No such file' \
	-- $MVL --disk "$tmp4/no-such.img" $LINUX/vmlinuz $LINUX/initrd.cpio.gz
check "bad input: read-only disk image" 2 "ro\.ext4: disk image is read-only" \
	-- $MVL --disk "$tmp4/ro.ext4" $LINUX/vmlinuz $LINUX/initrd.cpio.gz
check "bad input: a tap device that cannot be opened" 2 'tap this-name-is-too-long-for-linux: cannot open' \
	-- $MVL --net tap=this-name-is-too-long-for-linux $LINUX/vmlinuz $LINUX/initrd.cpio.gz
check "bad input: --smp out of range" 2 -- $MVL --smp 9 $LINUX/vmlinuz

# ---- the console: host input reaches the guest's UART; Ctrl-A x quits -----------------------
check "console: typed bytes reach the guest's UART" 0 'echo: ready' 'ping!' 'echo: done' 'the guest rebooted' \
	-- bash -c "printf 'ping!' | $MVL $G4/echo.bzImage"
check "console: Ctrl-A x quits" 0 'quit \(Ctrl-A x\)' -- bash -c "printf '\001x' | $MVL $G4/echo.bzImage"

# ---- hostile guest: every broken virtqueue is reported, the VMM keeps running ---------------
cp $LINUX/disk.ext4 "$tmp4/hostile.ext4"
check "hostile virtio driver: errors reported, VMM keeps running" 0 \
	'virtio-blk: queue 0: queue size 3 is not a power of two' \
	'virtio-blk: queue 0: descriptor table at 0x7ff00000000 .* outside guest RAM' \
	'virtio-blk: queue 0: descriptor 0: buffer at 0x7ff00000000, 16 bytes, is outside guest RAM' \
	'virtio-blk: queue 0: descriptor chain from head 0 loops' \
	'virtio-blk: queue 0: descriptor index 200 out of range' \
	'hostile: descriptor loop: device status 0x4f \(needs reset\)' \
	'hostile: after reset a good read: used idx 0x1, status 0x0, ext4 magic 0xef53' \
	'hostile: done' 'the guest rebooted' \
	-- $MVL --disk "$tmp4/hostile.ext4" $G4/hostile.bzImage

# ---- Linux, in the nested host: one session, one section per VMM run ------------------------
# The test disk: the course image plus the guest's test script and the virtio-rng module.
# virtio-rng.ko for the guest's kernel (Debian's generic flavour), tun.ko for L1's (cloud).
guest_kernel_dir=$(ls -d build/cache/kernel/linux-image-*[0-9]-amd64_*/lib/modules/* 2>/dev/null | tail -n 1)
l1_kernel_dir=$(ls -d build/cache/kernel/linux-image-*-cloud-amd64_*/lib/modules/* 2>/dev/null | tail -n 1)
rng_ko=$(find "$guest_kernel_dir" -name 'virtio-rng.ko*' | head -n 1)
tun_ko=$(find "$l1_kernel_dir" -name 'tun.ko*' | head -n 1)
cp $LINUX/disk.ext4 "$tmp4/disk.ext4"
debugfs -w -R "write $G4/guest-test.sh test.sh" "$tmp4/disk.ext4" >/dev/null 2>&1
debugfs -w -R "write $rng_ko virtio-rng.ko" "$tmp4/disk.ext4" >/dev/null 2>&1

if [ -z "$tun_ko" ] || [ -z "$rng_ko" ]; then
	record fail "nested session" "no tun.ko or virtio-rng.ko under build/cache/kernel (guests/linux/build.sh)"
fi
CHECK_TIMEOUT=400 check "nested session ran (Linux guests under L1's KVM)" 0 '== reboot' -- \
	tests/nested/run-nested --timeout 380 --file $S4/minivisor-lite.static:/work/mvl \
	--file $LINUX/vmlinuz --file $LINUX/initrd.cpio.gz --file "$tmp4/disk.ext4" \
	--file "$tun_ko:/work/tun.ko" --file $G4/l1-checks.sh --out disk.ext4:"$tmp4/disk-out.ext4" \
	-- sh l1-checks.sh
nested_log=$CHECK_LOG

# Each check reads one VMM run of the nested session (tests/nested/section).
section_full=(tests/nested/section "$nested_log" full)
section_reboot=(tests/nested/section "$nested_log" reboot)
section_nomsi=(tests/nested/section "$nested_log" nomsi)

check "Linux boots to init (nested host)" 0 'minivisor-init: up' -- "${section_full[@]}"
check "guest sees 2 CPUs and 300 MiB (--smp 2 --mem 300M)" 0 'guest: cpus=2[^0-9]' 'guest: ram_mib=300[^0-9]' \
	-- "${section_full[@]}"
check "CMOS RTC: the guest's clock has the host's year" 0 "guest: year=$(date -u +%Y)" \
	-- "${section_full[@]}"
check "virtio-blk (fast path: ioeventfd, I/O thread, event index): the guest's file is in the image (debugfs)" 0 'guest-wrote-this' \
	-- debugfs -R 'cat /from-guest.txt' "$tmp4/disk-out.ext4"
check "virtio MSI-X: virtio-blk's and virtio-net's queue and config interrupts are MSI-X vectors (sysfs msi_irqs)" 0 \
	'guest: irqs: [0-9]+ msix [0-9a-f:.]+ virtio0-config' \
	'guest: irqs: [0-9]+ msix [0-9a-f:.]+ virtio0-req\.0' \
	'guest: irqs: [0-9]+ msix [0-9a-f:.]+ virtio1-input' \
	-- "${section_full[@]}"
check "virtio-blk fast path: its interrupts go through irqfd (KVM_IRQFD on the vectors' GSIs)" 0 \
	'minivisor-lite: virtio-blk: [0-9]+ requests, .* interrupts: [1-9][0-9]* irqfd, 0 KVM_SIGNAL_MSI' \
	-- "${section_full[@]}"
check "virtio-blk fast path, pci=nomsi: INTx through irqfd with KVM's resample eventfd, no KVM_IRQ_LINE; the disk reads back" 0 \
	'irqs: [0-9]+ IO-APIC - virtio0' 'nomsi: read ok' \
	'minivisor-lite: virtio-blk: [0-9]+ requests, .* interrupts: 0 irqfd, 0 KVM_SIGNAL_MSI, [1-9][0-9]* INTx \([1-9][0-9]* by irqfd, 0 KVM_IRQ_LINE\)' \
	'the guest powered off' 'vmm-exit: 0' -- "${section_nomsi[@]}"
check "virtio-blk fast path, pci=nomsi: the guest's file is in the image (debugfs)" 0 'nomsi-wrote-this' \
	-- debugfs -R 'cat /nomsi.txt' "$tmp4/disk-out.ext4"
check "virtio-rng: the guest reads /dev/hwrng" 0 'guest: rng=virtio_rng' 'guest: random=[0-9a-f]{32}' \
	-- "${section_full[@]}"
check "virtio-net: the guest pings the host over tap (network namespace)" 0 'guest: ping host ok' \
	-- "${section_full[@]}"
check "poweroff ends the VMM cleanly" 0 'minivisor-test-exit: 0' 'the guest powered off' 'vmm-exit: 0' \
	-- "${section_full[@]}"
check "reboot ends the VMM cleanly" 0 'minivisor-init: up' 'the guest rebooted' 'vmm-exit: 0' \
	-- "${section_reboot[@]}"
rm -rf "$tmp4"
