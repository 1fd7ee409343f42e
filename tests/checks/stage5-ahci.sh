# tests/checks/stage5-ahci.sh - stage 5: the ICH9 AHCI controller (storage/ahci.c, machine q35,
# 00:1f.2). Sourced by tests/grade, which defines check, build and record.
#
# On this host's KVM (SeaBIOS runs on any KVM): SeaBIOS's own AHCI driver finds the disks
# (raw and QCOW2, on any port, and a CD-ROM), and boots one whose boot sector reads through
# INT 13h; a second boot sector hands the controller hostile tables and checks that each one
# fails with the error status AHCI defines while the VMM keeps running. Then Linux's ahci
# driver in the nested host (one run).
#
# The boot sectors are guests/stage5/ahci-boot.asm and ahci-hostile.asm (make -C guests stage5).

S5=stage5-full-machine
MV="$S5/minivisor -no-reboot"   # these guests end with a reset
check "build minivisor (for the AHCI checks)" 0 -- make -s -C $S5 minivisor minivisor.static
check "AHCI unit tests: registers, IDENTIFY, DMA through PRDTs, resets, hostile tables" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_ahci && tests/unit/test_stage5_ahci'

s5a_tmp=$(mktemp -d)

# The disks: the boot sector + a message in sector 1 (raw, 64 MiB, and the same as qcow2), the
# hostile boot sector (1 MiB: SeaBIOS boots no smaller disk), an empty 2 MiB "CD".
s5a_disks() {
	set -e
	make -s -C guests stage5/ahci-boot.bin stage5/ahci-hostile.img
	cp guests/stage5/ahci-boot.bin guests/stage5/ahci-hostile.img "$1/"
	cd "$1"
	mv ahci-hostile.img hostile.img
	{ cat ahci-boot.bin; printf '\r\nahci-boot: sector 1 read through AHCI\r\n\0'; } >disk.raw
	truncate -s 64M disk.raw
	qemu-img convert -O qcow2 disk.raw disk.qcow2
	truncate -s 1M hostile.img
	truncate -s 2M cd.raw
}
check "AHCI test disks: two boot sectors (nasm), raw and qcow2 images" 0 \
	-- bash -c "$(declare -f s5a_disks); s5a_disks $s5a_tmp"

check "q35 AHCI: SeaBIOS finds a raw disk on port 0 and boots it (INT 13h reads by AHCI)" 0 \
	'AHCI controller at 00:1f\.2' \
	'AHCI/0: registering: "AHCI/0: [A-Z ]+ ATA-[0-9]+ Hard-Disk \(64 MiBytes\)"' \
	'Booting from Hard Disk' 'ahci-boot: sector 1 read through AHCI' 'guest reset' \
	'!read failed' -- $MV -M q35 -debugcon stdio -drive "file=$s5a_tmp/disk.raw,format=raw"
check "q35 AHCI: a qcow2 disk on port 3 boots, beside a CD-ROM on port 0" 0 \
	'AHCI/3: registering: "AHCI/3: [A-Z ]+ ATA-[0-9]+ Hard-Disk \(64 MiBytes\)"' \
	'AHCI/0: registering: "DVD/CD \[AHCI/0: [A-Z -]+ ATAPI-[0-9]+ DVD/CD\]"' \
	'ahci-boot: sector 1 read through AHCI' 'guest reset' '!read failed' \
	-- $MV -M q35 -debugcon stdio -boot order=c \
	-drive "file=$s5a_tmp/cd.raw,format=raw,media=cdrom,index=0" \
	-drive "file=$s5a_tmp/disk.qcow2,index=3"
check "q35 AHCI: hostile tables fail with HBFS/TFES/HBDS, one line each, the VMM goes on" 0 \
	'ahci-hostile: list outside RAM: ok' 'ahci-hostile: PRD outside RAM: ok' \
	'ahci-hostile: FIS length 0: ok' 'ahci-hostile: no drive: ok' \
	'ahci-hostile: good command: ok' 'ahci-hostile: done' '!FAILED' \
	'ahci: port ahci\.0: slot 0: command list at 0xfff00000 is outside RAM' \
	'ahci: port ahci\.0: PRDT entry 0: 512 bytes at 0xfff00000 are outside RAM' \
	'ahci: port ahci\.1: slot 0: command 0x25 to a port without a drive' 'guest reset' \
	-- $MV -M q35 -drive "file=$s5a_tmp/hostile.img,format=raw"

# ---- Linux's ahci driver, on a hardware KVM (nested host): one run -------------------------
check "the guest kernel has Linux's ahci driver (build/linux/modules.txt)" 0 \
	'^ahci (module|built-in)' -- sh -c 'guests/linux/build.sh >/dev/null && cat build/linux/modules.txt'
CHECK_TIMEOUT=300 check "Linux's ahci driver finds the q35 disk and reads it (nested)" 0 \
	'ahci 0000:00:1f\.2: AHCI [0-9.]+ 32 slots 6 ports' 'ata1: SATA link up' \
	'sd 0:0:0:0: \[sda\] 131072 512-byte logical blocks' \
	'^ahci-boot: sector 1 read through AHCI' 'minivisor-test-exit: 0' \
	-- tests/nested/run-nested \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
	--file "$s5a_tmp/disk.qcow2:/work/disk.qcow2" -- \
	'./minivisor -no-reboot -M q35 -bios bios-256k.bin -linuxboot linuxboot_dma.bin' \
	'-kernel vmlinuz -initrd initrd.cpio.gz -drive file=disk.qcow2' \
	'-append "console=ttyS0 panic=-1 mv.test=\"dmesg | grep -E ahci\|ata1\|sda;' \
	'dd if=/dev/sda bs=512 skip=1 count=1 2>/dev/null | head -c 39; echo\""'
rm -rf "$s5a_tmp"
