# tests/checks/stage5-usb.sh - stage 5: USB (stage5-full-machine/usb/): QEMU's xHCI controller
# (qemu-xhci, 00:0d.0), the UHCI controller (piix3-usb-uhci: 00:01.2 on pc, 00:1d.0 on q35), the
# USB stick (usb-storage: Bulk-Only Transport, SCSI, on the block layer), keyboard and tablet
# (HID). Sourced by tests/grade (tests/grade stage5-usb).
#
# On this host's KVM (SeaBIOS runs on any KVM): the unit tests; bad options refused in one line;
# SeaBIOS's own xHCI and USB mass-storage drivers find the stick and boot its boot sector
# (guests/stage5/ahci-boot.bin: reads sector 1 by INT 13h and prints it on COM1) on pc and q35,
# by flags and by YAML, and before an IDE disk when the stick has a bootindex; a boot sector
# (guests/stage5/xhci-hostile.asm) hands the controller bad rings, contexts, buffers and a bad
# CBW, an event ring never read (Event Ring Full Error): each answered with the error xHCI or
# BOT defines, one line from the VMM, which runs on;
# the same for UHCI (guests/stage5/uhci-hostile.asm: a QH loop, a TD and a frame list outside
# RAM), and SeaBIOS's UHCI driver boots the stick on pc and q35.
# Then ONE nested session (Linux needs a hardware KVM; guests/stage5/l1-usb.sh): Linux's
# xhci_hcd / uhci_hcd, usb-storage and sd drivers on pc (raw stick, xHCI and UHCI) and q35
# (qcow2 stick on xHCI, raw on UHCI): the devices in /sys/bus/usb/devices, files read back with
# the checksums written on this side, a write read back (after a guest reset on pc-xhci-raw:
# the machine starts again); afterwards this side finds the guest's file in the images and
# qemu-img check finds the qcow2 clean; xhci_hcd on MSI-X (pc and q35), uhci_hcd on INTx.
# Two runs have a USB keyboard and tablet (xHCI on pc, UHCI on q35): keys and a move from the
# input script (-input-script, the input family's test hook) reach their /dev/input/event*
# devices in the guest. Two boot chains (pc, q35): SeaBIOS boots the stick on xHCI, its
# SYSLINUX loads Linux, the init runs the storage test (which checks the stick's files). And
# a VNC client nobody here wrote (LibVNCClient: tests/checks/usb/vnc-pointer.c) moves the
# pointer: the guest's tablet events show each absolute position.

S5U=stage5-full-machine
S5U_MV="$S5U/minivisor -no-reboot"   # the boot sectors end with a reset
CHECK_TIMEOUT=300 check "build minivisor (USB family), the guest kernel's USB modules, the test boot sectors" 0 \
	'^xhci_pci (module|built-in)' '^uhci_hcd (module|built-in)' \
	'^usb_storage (module|built-in)' -- sh -c \
	"make -s -C $S5U minivisor minivisor.static && make -s -C guests stage5/ahci-boot.bin \
	 stage5/xhci-hostile.img stage5/uhci-hostile.img && guests/linux/build.sh >/dev/null && \
	 cc -std=gnu11 -Wall -Wextra -Werror -O2 -o build/vnc-pointer tests/checks/usb/vnc-pointer.c \
	 -lvncclient && cat build/linux/modules.txt"
check "USB unit tests: ring walker, BOT state machine, xHCI registers, hostile rings, options" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_usb && tests/unit/test_stage5_usb'

s5u_tmp=$(mktemp -d)
# The sticks: a boot sector + a message in sector 1 (raw, 16 MiB, and the same as qcow2); an
# ext4 stick with two files and their MD5SUMS for Linux (raw and qcow2); 1 MiB for the hostile
# guest; a YAML machine booting the qcow2 stick.
s5u_sticks() {
	set -e
	cd "$1"
	{ cat "$2/guests/stage5/ahci-boot.bin"
	  printf '\r\nusb-boot: sector 1 read through the USB stick\r\n\0'; } >boot.raw
	truncate -s 16M boot.raw
	qemu-img convert -O qcow2 boot.raw boot.qcow2
	{ cat "$2/guests/stage5/ahci-boot.bin"; printf '\r\nide-boot: the IDE disk\r\n\0'; } >ide.raw
	truncate -s 16M ide.raw
	truncate -s 1M small.raw
	mkdir files
	dd if=/dev/urandom of=files/a.bin bs=1k count=300 2>/dev/null
	seq 1 20000 >files/b.txt
	(cd files && md5sum a.bin b.txt >MD5SUMS)
	mkfs.ext4 -q -F -d files stick.raw 32M
	cp stick.raw stick-q.raw
	cp stick.raw stick-u.raw
	cp stick.raw stick-uq.raw
	# The boot chain's stick: guests/linux's boot disk, "quiet" added to its SYSLINUX entry (a
	# kernel log through the nested serial port costs seconds); its test disk waits for the
	# stick's partition (enumeration runs in the background), names the USB disk, then runs
	# the storage test (which checks the partition's MD5SUMS).
	qemu-img convert -O raw "$2/build/linux/boot-disk.qcow2" usb-boot.raw
	mtype -i usb-boot.raw@@1M ::syslinux.cfg |
		sed 's/^\([[:space:]]*APPEND console=ttyS0 panic=-1\)$/\1 quiet/' >syslinux.cfg
	grep -q 'panic=-1 quiet$' syslinux.cfg
	mcopy -o -i usb-boot.raw@@1M syslinux.cfg ::syslinux.cfg
	qemu-img convert -O qcow2 usb-boot.raw usb-boot.qcow2
	"$2/guests/linux/test-disk.sh" usb-data.img 'i=0; while ! ls -d /sys/block/sd*/sd?1 >/dev/null 2>&1 && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; for d in /sys/block/sd*; do readlink -f $d | grep -q /usb && echo "usb-boot: ${d##*/} is a USB disk"; done; storage'
	qemu-img convert -O qcow2 stick-q.raw stick.qcow2
	mkdir layer
	cp "$2/guests/stage5/usb-test.sh" layer/test.sh
	chmod 755 layer/test.sh
	(cd layer && echo test.sh | cpio -o -H newc 2>/dev/null) >layer.cpio
	cat "$2/build/linux/initrd.cpio.gz" layer.cpio >initrd-usb.cpio.gz
	printf 'machine: q35\nusb:\n  controller: xhci\n  devices:\n    - { type: usb-storage, file: boot.qcow2, format: qcow2, port: 3 }\n' >stick.yaml
	printf 'usb: { controller: ehci }\n' >bad.yaml
}
check "USB test sticks: boot sector (raw, qcow2), ext4 with checksums (mkfs.ext4 -d), YAML" 0 \
	-- bash -c "$(declare -f s5u_sticks); s5u_sticks $s5u_tmp $PWD"

# ---- bad input: one line, exit 2 -------------------------------------------------------------
check "usb-storage without a USB controller: one line, exit 2" 2 \
	'^minivisor: -device usb-storage: there is no USB controller' \
	-- $S5U_MV -drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" -device usb-storage,drive=s
check "usb-storage naming a drive id that no -drive has: one line, exit 2" 2 \
	'^minivisor: -device usb-storage,drive=nosuch: no drive has id=nosuch' \
	-- $S5U_MV -usb -drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" \
	-device usb-storage,drive=nosuch
check "a bad USB controller name in YAML: one line naming file, line and key, exit 2" 2 \
	"^minivisor: .*bad.yaml:1: key 'usb.controller': unknown controller 'ehci'" \
	-- $S5U_MV -config "$s5u_tmp/bad.yaml"
check "UHCI has two ports: port=3 on it is one line, exit 2" 2 \
	'^minivisor: USB port 3: the controller has 2' -- $S5U_MV -device piix3-usb-uhci \
	-drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" -device usb-storage,drive=s,port=3
check "a missing stick image: one line naming the file, exit 2" 2 '^minivisor: .*nosuch.raw' \
	-- $S5U_MV -usb -drive "if=none,id=s,file=$s5u_tmp/nosuch.raw,format=raw" \
	-device usb-storage,drive=s

# ---- SeaBIOS: its xHCI and USB mass-storage drivers -------------------------------------------
check "pc UHCI (PIIX3 00:01.2): SeaBIOS's UHCI driver finds the stick and boots it" 0 \
	'UHCI init on dev 00:01\.2' "USB MSC vendor='QEMU' product='QEMU HARDDISK'" \
	'^1: /pci@i0cf8/usb@1,2/storage@1/channel@0/disk@0,0' \
	'^usb-boot: sector 1 read through the USB stick' '!^uhci:' \
	-- $S5U_MV -M pc -debugcon stdio -device piix3-usb-uhci \
	-drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" -device usb-storage,drive=s
check "q35 UHCI (00:1d.0): a qcow2 stick boots" 0 'UHCI init on dev 00:1d\.0' \
	'^usb-boot: sector 1 read through the USB stick' -- $S5U_MV -M q35 -debugcon stdio \
	-device piix3-usb-uhci -drive "if=none,id=s,file=$s5u_tmp/boot.qcow2,format=qcow2" \
	-device usb-storage,drive=s
check "q35, YAML usb: { controller: xhci, devices: [ usb-storage on port 3 ] }: a qcow2 stick boots" 0 \
	'XHCI port #3: .*speed 3 \[High\]' '^usb-boot: sector 1 read through the USB stick' \
	'!xfer failed' -- $S5U_MV -debugcon stdio -config "$s5u_tmp/stick.yaml"
check "bootorder: a stick without bootindex comes after the IDE disk" 0 \
	'^1: /pci@i0cf8/ide@1,1/drive@0/disk@0' '^2: /pci@i0cf8/usb@d/storage@1/channel@0/disk@0,0' \
	'^ide-boot: the IDE disk' -- $S5U_MV -M pc -debugcon stdio -device qemu-xhci \
	-drive "file=$s5u_tmp/ide.raw,format=raw" \
	-drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" -device usb-storage,drive=s
check "pc: bootindex=0 puts the stick first; SeaBIOS's xHCI and MSC drivers boot it (INT 13h by BOT)" 0 \
	'^1: /pci@i0cf8/usb@d/storage@1/channel@0/disk@0,0' '^2: /pci@i0cf8/ide@1,1/drive@0/disk@0' \
	'PCI: XHCI at 00:0d\.0' 'XHCI    protocol USB  2\.00, 4 ports \(offset 1\)' \
	'XHCI    protocol USB  3\.00, 4 ports \(offset 5\)' 'XHCI port #1: .*speed 3 \[High\]' \
	"USB MSC vendor='QEMU' product='QEMU HARDDISK'" 'USB MSC blksize=512 sectors=32768' \
	'^usb-boot: sector 1 read through the USB stick' '!xfer failed' '!^xhci:' \
	-- $S5U_MV -M pc -debugcon stdio -device qemu-xhci \
	-drive "file=$s5u_tmp/ide.raw,format=raw" \
	-drive "if=none,id=s,file=$s5u_tmp/boot.raw,format=raw" -device usb-storage,drive=s,bootindex=0

# ---- a hostile guest -------------------------------------------------------------------------
check "hostile guest: bad rings, contexts, buffers, a bad CBW, an event ring never read: the errors xHCI/BOT define, one line each" 0 \
	'^xhci-hostile: doorbell-no-slot: ok' '^xhci-hostile: cmd-link-loop: ok' \
	'^xhci-hostile: cmd-ring-outside: ok' '^xhci-hostile: tr-ring-outside: ok' \
	'^xhci-hostile: tr-link-loop: ok' '^xhci-hostile: buffer-outside: ok' \
	'^xhci-hostile: bad-cbw: ok' '^xhci-hostile: event-ring-full: ok' \
	'xhci-hostile: good-transfer: ok' 'xhci-hostile: done' \
	'!FAILED' 'xhci: doorbell for slot 3, which is not enabled' \
	'xhci: command ring: link TRB loop at 0x9400: host controller error' \
	'xhci: command ring TRB at 0xfff00000 is outside RAM: host system error' \
	'xhci: transfer ring TRB at 0xfff00000 is outside RAM' \
	'xhci: slot 1 endpoint 1: link TRB loop at 0xb000: TRB error' \
	'xhci: transfer data buffer at 0xfff00000 is outside RAM' \
	'usb-storage: CBW with signature 0x43425358: both bulk endpoints stall' \
	'xhci: event ring full: Event Ring Full Error posted, events dropped until the guest moves ERDP' \
	'minivisor: guest powered off' \
	-- $S5U_MV -M pc -device qemu-xhci -drive "if=none,id=s,file=$s5u_tmp/small.raw,format=raw" \
	-device usb-storage,drive=s -drive file=guests/stage5/xhci-hostile.img,format=raw

check "hostile guest: a UHCI QH loop (bounded), a TD and a frame list outside RAM (HSE), one line each" 0 \
	'^uhci-hostile: qh-loop: ok' '^uhci-hostile: td-outside: ok' \
	'^uhci-hostile: frames-outside: ok' '^uhci-hostile: good-transfer: ok' \
	'^uhci-hostile: done' '!FAILED' \
	'uhci: TD at 0xfff00000 is outside RAM: host system error, controller halted' \
	'uhci: frame list at 0xfff00000 is outside RAM: host system error' \
	'minivisor: guest powered off' -- $S5U_MV -M pc -device piix3-usb-uhci \
	-drive "if=none,id=s,file=$s5u_tmp/small.raw,format=raw" -device usb-storage,drive=s \
	-drive file=guests/stage5/uhci-hostile.img,format=raw

# ---- Linux's drivers, on a hardware KVM (nested host): one session -----------------------------
# STAGE5_USB_FULL=1 adds a run: the stick on UHCI on pc too (UHCI's stick is on q35 by default,
# to keep the part's time down).
s5u_full= s5u_runs="pc-xhci-raw q35-xhci-qcow2 q35-uhci-raw" s5u_imgs="out.raw out-q.raw out-uq.raw"
if [ "${STAGE5_USB_FULL:-0}" = 1 ]; then
	s5u_full=full s5u_runs="$s5u_runs pc-uhci-raw" s5u_imgs="$s5u_imgs out-u.raw"
else
	echo "NOTE  stage5-usb the pc UHCI stick run is not in the default session (STAGE5_USB_FULL=1 runs it)"
fi
CHECK_TIMEOUT=960 check "nested session ran (Linux: sticks on xHCI and UHCI, HID, boot chains, VNC)" 0 \
	'== end' -- tests/nested/run-nested --timeout 900 \
	--file $S5U/minivisor.static:/work/minivisor --file $S5U/minivisor:/work/minivisor-vnc \
	--file build/vnc-pointer:/work/vnc-pointer \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/seabios/vgabios-stdvga.bin:/usr/share/seabios/vgabios-stdvga.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file "$s5u_tmp/initrd-usb.cpio.gz:/work/initrd-usb.cpio.gz" \
	--file "$s5u_tmp/stick.raw:/work/stick.raw" --file "$s5u_tmp/stick.qcow2:/work/stick.qcow2" \
	--file "$s5u_tmp/stick-u.raw:/work/stick-u.raw" --out "stick-u.raw:$s5u_tmp/out-u.raw" \
	--file "$s5u_tmp/stick-uq.raw:/work/stick-uq.raw" --out "stick-uq.raw:$s5u_tmp/out-uq.raw" \
	--file "$s5u_tmp/usb-boot.qcow2:/work/usb-boot.qcow2" \
	--file "$s5u_tmp/usb-data.img:/work/data.img" \
	--file guests/stage5/l1-usb.sh --file guests/stage5/usb-hid.script --out "stick.raw:$s5u_tmp/out.raw" \
	--out "stick.qcow2:$s5u_tmp/out.qcow2" -- sh l1-usb.sh $s5u_full
s5u_log=$CHECK_LOG
for s5u_run in $s5u_runs; do
	case $s5u_run in
	*uhci*) s5u_speed=12 s5u_hub='usb1 1d6b:0001 speed 12 UHCI Host Controller' ;;
	*) s5u_speed=480 s5u_hub='usb2 1d6b:0003 speed 5000 xHCI Host Controller' ;;
	esac
	check "$s5u_run: Linux enumerates the stick (46f4:0001, $s5u_speed Mb/s) and its root hub" 0 \
		"^usb-dev: 1-1 46f4:0001 speed $s5u_speed QEMU USB HARDDRIVE" "^usb-dev: $s5u_hub" \
		'^usb-disk: QEMU +QEMU HARDDISK +65536 sectors' \
		-- tests/nested/section "$s5u_log" $s5u_run
done
check "pc-xhci-raw: files read back with their checksums; a write survives a guest reset" 0 \
	'^a\.bin: OK' '^b\.txt: OK' '^usb-test: wrote, rebooting' \
	'minivisor: guest reset: the machine starts again' \
	'^usb-test: after reboot: guest\.bin: OK' 'minivisor-test-exit: 0' '^vmm-exit: 0' \
	'!^xhci:' '!usb-storage:' -- tests/nested/section "$s5u_log" pc-xhci-raw
for s5u_run in ${s5u_runs#pc-xhci-raw }; do
	check "$s5u_run: files read back with their checksums; a write read back (cache dropped)" 0 \
		'^a\.bin: OK' '^b\.txt: OK' '^usb-test: read back: guest\.bin: OK' \
		'minivisor-test-exit: 0' '^vmm-exit: 0' '!^xhci:' '!^uhci:' '!usb-storage:' \
		-- tests/nested/section "$s5u_log" $s5u_run
done
for s5u_run in pc-xhci-hid q35-uhci-hid; do
	check "$s5u_run: Linux binds usbhid to the keyboard and tablet (full speed)" 0 \
		'^usb-dev: [0-9]-1 0627:0001 speed 12 QEMU USB Keyboard' \
		'^usb-dev: [0-9]-2 0627:0001 speed 12 QEMU USB Tablet' \
		'^usb-hid: keyboard /dev/input/event[0-9]+ tablet /dev/input/event[0-9]+' \
		-- tests/nested/section "$s5u_log" $s5u_run
	check "$s5u_run: the script's key reaches the keyboard's event device, the move the tablet's" 0 \
		'^hid-event: kbd 1 30 1[[:cntrl:]]?$' '^hid-event: kbd 1 30 0[[:cntrl:]]?$' \
		'^hid-event: tablet 3 0 16483[[:cntrl:]]?$' \
		'^hid-event: tablet 3 1 16583[[:cntrl:]]?$' '^hid-event: tablet 1 272 1[[:cntrl:]]?$' \
		'^vmm-exit: 0' '!^xhci:' '!^uhci:' -- tests/nested/section "$s5u_log" $s5u_run
done
# MSI-X: Linux's xhci_hcd takes it on both machines (msi_irqs/N of 00:0d.0 says msix); UHCI
# stays on its INTx line through the IOAPIC.
for s5u_run in pc-xhci-raw q35-xhci-qcow2; do
	check "$s5u_run: xhci_hcd interrupts by MSI-X (no INTx)" 0 \
		'^usb-msi: 0000:00:0d\.0 msix' '^usb-irq: .*MSI.*xhci_hcd' '!^usb-irq: .*IO-APIC.*xhci_hcd' \
		-- tests/nested/section "$s5u_log" $s5u_run
done
check "q35-uhci-raw: uhci_hcd on its INTx line (IOAPIC, level)" 0 \
	'^usb-irq: .*IO-APIC.*uhci_hcd' -- tests/nested/section "$s5u_log" q35-uhci-raw

# The boot chains: firmware, the stick's boot loader, Linux, init, the test checking the stick.
for s5u_run in pc-usb-boot q35-usb-boot; do
	check "$s5u_run: SeaBIOS -> USB stick on xHCI (MBR, SYSLINUX) -> Linux -> init -> storage test" 0 \
		'SeaBIOS \(version' 'SYSLINUX' 'minivisor-init: up' '^usb-boot: sd[a-z] is a USB disk' \
		'storage: partition sd[a-z]1: MD5SUMS ok' 'storage: all ok' 'minivisor-test-exit: 0' \
		'minivisor: guest powered off' '^vmm-exit: 0' '!^xhci:' '!usb-storage:' \
		-- tests/nested/section "$s5u_log" $s5u_run
done

# VNC -> tablet: the guest's absolute events are where the client put the pointer, scaled to
# 0..32767 over the framebuffer the client saw (usb_hid_pointer: x * 32767 / (W - 1)).
s5u_vnc() {
	tests/nested/section "$1" pc-xhci-hid | tr -d '\r' | awk '
		BEGIN { ax = 0; ay = 0 }   # where the kernel starts
		/^vnc-pointer: move/ { n++; x[n] = int($3 * 32767 / ($6 - 1)); y[n] = int($4 * 32767 / ($7 - 1)) }
		/^hid-event: tablet 3 0 / { ax = $5; seen[ax, ay] = 1 }
		/^hid-event: tablet 3 1 / { ay = $5; seen[ax, ay] = 1 }
		{ print }
		END { for (i = 1; i <= n; i++)
			print "vnc-tablet: point " i " " x[i] "," y[i] ((x[i], y[i]) in seen ? " reached" : " missed") }'
}
check "pc-xhci-hid: then a VNC client (LibVNCClient) moves the pointer; the guest's tablet reports each place" 0 \
	'^vnc-pointer: done' 'vnc-pointer-exit: 0' '^usb-vnc: ready' \
	'^vnc-tablet: point 1 32767,0 reached' '^vnc-tablet: point 2 0,32767 reached' \
	'^vnc-tablet: point 3 [0-9]+,[0-9]+ reached' '^hid-event: tablet 1 272 1' '^vmm-exit: 0' \
	'!missed' -- bash -c "$(declare -f s5u_vnc); s5u_vnc $s5u_log"
s5u_image() {   # the guest's files, read on this side; the qcow2 converted first
	set -e
	cd "$1"
	shift
	qemu-img check out.qcow2
	qemu-img convert -O raw out.qcow2 out-q.raw
	for img in "$@"; do
		debugfs -R 'cat /guest.txt' $img 2>/dev/null | sed "s/^/$img: /"
		debugfs -R 'dump /guest.bin guest.bin' $img 2>/dev/null
		echo "$img: $(md5sum guest.bin | cut -d' ' -f1) $(debugfs -R 'cat /guest.md5' $img 2>/dev/null | cut -d' ' -f1)"
		rm -f guest.bin
	done
}
check "on this side: the guest's writes are in the images (same md5), the qcow2 is clean" 0 \
	'No errors were found on the image' '^out\.raw: written by the guest through usb-storage' \
	'^out-q\.raw: written by the guest through usb-storage' \
	'^out-uq\.raw: written by the guest through usb-storage' '^out-uq\.raw: ([0-9a-f]{32}) \1$' \
	'^out\.raw: ([0-9a-f]{32}) \1$' '^out-q\.raw: ([0-9a-f]{32}) \1$' \
	-- bash -c "$(declare -f s5u_image); s5u_image $s5u_tmp $s5u_imgs"
rm -rf "$s5u_tmp"
