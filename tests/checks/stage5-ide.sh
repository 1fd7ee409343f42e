# tests/checks/stage5-ide.sh - stage 5: the ATA drive (storage/ata.c) and the PIIX3 IDE
# controller (storage/ide.c, machine pc, 00:01.1). Sourced by tests/grade, which defines check,
# build and record.
#
# On this host's KVM (SeaBIOS runs on any KVM): the unit tests; SeaBIOS's ATA driver finds
# disks (raw and QCOW2, master and slave) and the ATAPI CD on the legacy ports; a boot sector
# (guests/stage5/ide-hostile.asm) hands the bus master bad PRD tables and reads past the end
# of the disk, prints the status bytes it gets, and the VMM must say what was wrong, once
# each, and keep running to the guest's power-off. Then Linux's ata_piix in the nested host
# (one run): DMA mode, interrupts on IRQ 14/15, the storage test (O_DIRECT write + read back,
# the CD read whole).

S5=stage5-full-machine
MV="$S5/minivisor -no-reboot"   # these guests end with a reset
HOSTILE=guests/stage5/ide-hostile.img
check "build minivisor and the IDE test disk (nasm)" 0 -- \
	sh -c "make -s -C $S5 minivisor minivisor.static && make -s -C guests stage5/ide-hostile.img"
check "IDE unit tests: IDENTIFY, reads/writes, HOB registers, PIO, ATAPI, PRD walks" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_ata && tests/unit/test_stage5_ata'

s5i_tmp=$(mktemp -d)
qemu-img create -q -f qcow2 "$s5i_tmp/disk.qcow2" 64M
truncate -s 1M "$s5i_tmp/slave.raw"
truncate -s 2M "$s5i_tmp/cd.raw"

check "pc IDE: SeaBIOS finds a qcow2 master, a raw slave and the ATAPI CD on the legacy ports" 0 \
	'ATA controller 1 at 1f0/3f4/0 \(irq 14 dev 9\)' \
	'ata0-0: MINIVISOR HARDDISK ATA-7 Hard-Disk \(64 MiBytes\)' \
	'ata0-1: MINIVISOR HARDDISK ATA-7 Hard-Disk \(1 MiBytes\)' \
	'DVD/CD \[ata1-0: MINIVISOR DVD-ROM ATAPI-4 DVD/CD\]' '!ata1-1' \
	-- $MV -M pc -debugcon stdio -drive "file=$s5i_tmp/disk.qcow2,format=qcow2" \
	-drive "file=$s5i_tmp/slave.raw,format=raw,index=1" -cdrom "$s5i_tmp/cd.raw"
check "pc IDE: bad PRD tables and a read past the end fail with status bytes, the VMM goes on" 0 \
	'bad-prd-table: status=41 error=04 bm=06' 'bad-prd-entry: status=41 error=04 bm=06' \
	'past-end: status=41 error=10' 'good-dma: status=50 error=00 bm=04 data=ok' \
	'ide-hostile: done' \
	'ide0: bus master DMA: the PRD table at 0xf0000000 is outside RAM' \
	'ide0: bus master DMA: PRD entry 0 points outside RAM \(0xf0000000, 512 bytes\)' \
	'ide0-hd0: READ SECTORS of 1 sector\(s\) at LBA 268435455: past the end of the disk \(2048 sectors\)' \
	'minivisor: guest powered off' \
	-- $MV -M pc -drive "file=$HOSTILE,format=raw"
check "pc IDE: a read-only disk still boots (reads only)" 0 'ide-hostile: done' \
	'guest powered off' -- $MV -M pc -drive "file=$HOSTILE,format=raw,readonly=on"
rm -rf "$s5i_tmp"

# ---- Linux's ata_piix, on a hardware KVM (nested host): one run ----------------------------
guests/linux/build.sh >/dev/null 2>&1
CHECK_TIMEOUT=300 check "Linux's ata_piix drives the disk and the CD by DMA, IRQs 14 and 15 (nested)" 0 \
	'ata1: PATA max MWDMA2 cmd 0x1f0 ctl 0x3f6 bmdma 0x[0-9a-f]+ irq 14' \
	'ata1\.00: ATA-7: MINIVISOR HARDDISK' 'ata2\.00: ATAPI: MINIVISOR DVD-ROM' \
	'dma1\.0: XFER_MW_DMA_2' 'dma2\.0: XFER_MW_DMA_2' \
	'^ *14: +[1-9][0-9]* .*ata_piix' '^ *15: +[1-9][0-9]* .*ata_piix' \
	'storage: pattern ok' 'storage: cdrom sr0: MD5SUMS ok' 'storage: all ok' \
	'minivisor-test-exit: 0' 'minivisor: guest powered off' '!ata[12].*(timeout|failed|error)' \
	-- tests/nested/run-nested --timeout 280 \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
	--file build/linux/data-storage.img:/work/data.img --file build/linux/boot.iso -- \
	'./minivisor -no-reboot -M pc -bios bios-256k.bin -linuxboot linuxboot_dma.bin' \
	'-kernel vmlinuz -initrd initrd.cpio.gz -drive file=data.img,format=raw -cdrom boot.iso' \
	'-append "console=ttyS0 panic=-1 mv.test=\"storage; for d in 1.0 2.0; do' \
	'echo dma\$d: \$(cat /sys/class/ata_device/dev\$d/dma_mode); done; grep ata_piix /proc/interrupts\""'
