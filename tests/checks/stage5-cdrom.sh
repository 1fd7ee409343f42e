# tests/checks/stage5-cdrom.sh - stage 5: the ATAPI CD-ROM (storage/atapi.c) behind both
# transports, IDE on the pc machine and AHCI on q35, booted the way a PC boots an install CD:
# SeaBIOS finds the drive, reads the El Torito boot catalog through ATAPI READ(10)s and runs the
# boot image (guests/stage5/cdboot.asm), which reads the ISO 9660 volume descriptor back through
# int 13h and powers off. Sourced by tests/grade. Real mode and SeaBIOS run on this host's KVM (PVM
# included), so no nested host is needed.

S5=stage5-full-machine
MV="$S5/minivisor -no-reboot"   # these guests end with a reset
CD=guests/stage5/cdboot.iso
CD_BOOTED=('cdboot: booted from CD drive 0x[0-9A-F]{2}' 'cdboot: volume descriptor CD001'
	'guest powered off' '!cdboot: int 13h read failed' '!cdboot: sector 16 is no ISO')

check "build minivisor and the El Torito test CD (nasm, xorriso)" 0 -- \
	bash -c "make -s -C $S5 minivisor minivisor.static && make -s -C guests stage5/cdboot.iso"

check "pc: SeaBIOS boots the CD from the IDE ATAPI drive, int 13h reads 2048-byte sectors" 0 \
	'Booting from DVD/CD' "${CD_BOOTED[@]}" -- $MV -M pc -cdrom $CD -boot order=d
check "q35: SeaBIOS boots the CD from the AHCI ATAPI drive, int 13h reads 2048-byte sectors" 0 \
	'Booting from DVD/CD' "${CD_BOOTED[@]}" -- $MV -M q35 -cdrom $CD -boot order=d
# SeaBIOS's log names each drive it finds; a CD drive is "DVD/CD" after the model string.
check "pc: SeaBIOS's log finds the CD drive on the IDE bus (IDENTIFY PACKET DEVICE)" 0 \
	'ata[01]-[01]: .*DVD/CD' "${CD_BOOTED[@]}" -- $MV -M pc -cdrom $CD -boot order=d -debugcon stdio
check "q35: SeaBIOS's log finds the CD drive on an AHCI port" 0 \
	'AHCI/[0-9]+: .*DVD/CD' "${CD_BOOTED[@]}" -- $MV -M q35 -cdrom $CD -boot order=d -debugcon stdio

# A "CD" that is four sectors of zeros: SeaBIOS asks for the Boot Record at sector 17, past the
# disc's end. The drive refuses (ILLEGAL REQUEST, LBA OUT OF RANGE) and says so; SeaBIOS gives
# up on the CD, finds nothing else and resets, which ends the VMM.
s5cd_tmp=$(mktemp -d)
head -c 8192 /dev/zero >"$s5cd_tmp/blank.iso"
check "pc: a CD too short for a boot record: the drive refuses the read, SeaBIOS moves on" 0 \
	'past the disc.s end' 'Boot failed' 'No bootable device' '!cdboot' \
	-- $MV -M pc -cdrom "$s5cd_tmp/blank.iso" -boot order=d
check "q35: a CD too short for a boot record: the drive refuses the read, SeaBIOS moves on" 0 \
	'past the disc.s end' 'Boot failed' 'No bootable device' '!cdboot' \
	-- $MV -M q35 -cdrom "$s5cd_tmp/blank.iso" -boot order=d
rm -rf "$s5cd_tmp"

# ---- Linux's CD-ROM driver (libata ata_piix, sr) on the IDE drive: a hardware KVM (nested) ----
# Linux asks far more than SeaBIOS (INQUIRY, MODE SENSE page 2Ah, GET CONFIGURATION, READ TOC,
# GET EVENT STATUS NOTIFICATION, READ(10) by DMA): it mounts the ISO 9660 file system, and
# reads the whole disc, whose md5 must be the image's. (Linux on q35's AHCI CD: the boot chains
# of stage5-boot.sh.)
guests/linux/build.sh >/dev/null 2>&1
s5cd_tmp=$(mktemp -d)
cat >"$s5cd_tmp/cd-linux.sh" <<'SCRIPT'
./minivisor -no-reboot -M pc -m 512 -bios bios-256k.bin -linuxboot linuxboot_dma.bin -kernel vmlinuz \
	-initrd initrd.cpio.gz -cdrom cdboot.iso -append 'console=ttyS0 panic=-1 quiet mv.test="mkdir -p /cd; mount -t iso9660 -o ro /dev/sr0 /cd && ls -1 /cd && dd if=/dev/sr0 of=/disc bs=64k && md5sum /disc && dmesg | grep sr0"'
SCRIPT
s5cd_md5=$(md5sum <$CD | cut -d' ' -f1)
CHECK_TIMEOUT=300 check "Linux (ata_piix, sr) mounts the CD and reads it whole, md5 as the image (nested)" 0 \
	'sr0\] scsi3-mmc drive' 'Attached scsi CD-ROM sr0' '^cdboot\.bin' "^$s5cd_md5  /disc" \
	'minivisor-test-exit: 0' 'guest powered off' '!ATAPI command 0x' -- \
	tests/nested/run-nested --file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz --file $CD \
	--file "$s5cd_tmp/cd-linux.sh:/work/cd-linux.sh" -- sh cd-linux.sh
rm -rf "$s5cd_tmp"
