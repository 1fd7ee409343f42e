# tests/checks/stage5-boot.sh - stage 5's boot chains: SeaBIOS boots Linux from a CD-ROM (ISO9660,
# El Torito, ISOLINUX) and from a qcow2 hard disk (MBR, SYSLINUX), on both machine types, through
# the machine's own disk controller (pc: PIIX IDE; q35: ICH9 AHCI). Sourced by tests/grade.
#
# Linux needs a hardware KVM, so the four boots share ONE nested-host session
# (guests/stage5/l1-checks.sh); each check then reads its section of that session's log. Inside,
# the guest runs its storage test (guests/linux/bin/storage): lsblk, a 64 KiB O_DIRECT write and
# read-back on a second disk, every file of the boot medium read and checked by md5, and an ACPI
# power-off. Afterwards the host side checks the bytes on the disks: the pattern in the raw test
# disk, and `qemu-img check` on the qcow2 boot disk the guest had mounted.

S5=stage5-full-machine
LINUX=build/linux
check "build minivisor.static and the Linux boot media" 0 -- \
	sh -c "make -s -C $S5 minivisor.static && guests/linux/build.sh"
s5b_tmp=$(mktemp -d)
cp $LINUX/boot-disk.qcow2 "$s5b_tmp/boot-disk.qcow2"
CHECK_TIMEOUT=480 check "nested session ran (five firmware boots under L1's KVM)" 0 '== end' -- \
	tests/nested/run-nested --timeout 380 --file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/seabios/bios-256k.bin:/usr/share/seabios/bios-256k.bin \
	--file /usr/share/seabios/vgabios-stdvga.bin:/usr/share/seabios/vgabios-stdvga.bin \
	--file $S5/configs/q35.yaml:$S5/configs/q35.yaml \
	--file $LINUX/boot.iso --file "$s5b_tmp/boot-disk.qcow2:build/linux/boot-disk.qcow2" \
	--file $LINUX/data-storage.img:/work/data.img --file guests/stage5/l1-checks.sh \
	--out build/linux/boot-disk.qcow2:"$s5b_tmp/boot-disk-out.qcow2" -- sh l1-checks.sh
s5b_log=$CHECK_LOG
s5b_md5=$(cat $LINUX/storage.md5 2>/dev/null)

# Each check reads one run of the nested session (tests/nested/section).

# What every chain must show: firmware, boot loader, Linux, the disks, the test, power-off.
s5b_chain() {   # s5b_chain NAME DESCRIPTION LOADER-PATTERN CONTROLLER-PATTERN...
	local name=$1 what=$2 loader=$3
	shift 3
	check "$what" 0 'SeaBIOS \(version' "$loader" 'minivisor-init: up' "$@" \
		'storage: pattern ok' 'storage: all ok' 'minivisor-test-exit: 0' \
		'reboot: Power down' 'minivisor: guest powered off' 'vmm-exit: 0' \
		"host-md5: $s5b_md5" -- tests/nested/section "$s5b_log" "$name"
}
s5b_chain pc-cdrom "pc: SeaBIOS -> ATAPI CD (El Torito, ISOLINUX) -> Linux -> storage test" \
	'ISOLINUX' 'ata_piix' 'sr0 +[0-9]+ +[0-9]+ +1 +1 rom' 'storage: cdrom sr0: MD5SUMS ok'
s5b_chain pc-disk "pc: SeaBIOS -> qcow2 IDE disk (MBR, SYSLINUX) -> Linux -> storage test" \
	'SYSLINUX' 'ata_piix' 'sda1 ' 'storage: partition sda1: MD5SUMS ok'
s5b_chain q35-cdrom "q35: SeaBIOS -> AHCI ATAPI CD (El Torito, ISOLINUX) -> Linux -> storage test" \
	'ISOLINUX' 'ahci 0000:00:1f\.2' 'sr0 +[0-9]+ +[0-9]+ +1 +1 rom' \
	'storage: cdrom sr0: MD5SUMS ok'
s5b_chain q35-disk "q35: SeaBIOS -> qcow2 AHCI disk (MBR, SYSLINUX) -> Linux -> storage test" \
	'SYSLINUX' 'ahci 0000:00:1f\.2' 'sda1 ' 'storage: partition sda1: MD5SUMS ok'
s5b_chain default-config "./run stage5's machine (configs/q35.yaml: q35, 2 CPUs, qcow2 on AHCI) boots Linux" \
	'SYSLINUX' 'smp: Brought up 1 node, 2 CPUs' 'ahci 0000:00:1f\.2' 'sda1 '
check "lsblk in the guest lists both disks of a disk boot" 0 '^sda ' '^sdb ' \
	-- tests/nested/section "$s5b_log" q35-disk
check "ACPI in the guest: our DSDT and SMBIOS (sys_vendor minivisor)" 0 \
	'storage: sys_vendor minivisor' 'ACPI: DSDT' -- tests/nested/section "$s5b_log" q35-disk
check "the qcow2 boot disk after five boots: qemu-img check finds no corruption" 0 \
	'No errors were found' -- qemu-img check "$s5b_tmp/boot-disk-out.qcow2"
rm -rf "$s5b_tmp"
