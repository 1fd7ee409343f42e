# guests/stage5/guests.mk - stage 5's test guests: boot sectors that SeaBIOS loads from the
# machine's disks, to drive the disk controllers from inside a guest (on any KVM).
#   stage5/ide-hostile.img  a disk whose boot sector sends the IDE controller bad commands
#   stage5/cdboot.iso       an El Torito CD (no emulation) whose boot image prints and powers off
#   stage5/ahci-boot.bin    a boot sector that reads its disk's sector 1 by INT 13h (AHCI)
#   stage5/ahci-hostile.img a disk whose boot sector hands the AHCI controller bad tables
#   stage5/vga-hostile.img  a disk whose boot sector hands the standard VGA bad modes and indexes
#   stage5/vga-bench.img    a boot sector that repaints a 640x480x32 screen without end
#   stage5/vga-idle.img     the same, one frame, then it halts (the display benchmark's idle case)
#   stage5/e1000-hostile.img a disk whose boot sector hands the e1000 bad rings and frames, and
#                           gets an ARP reply from the user-mode back end
#   stage5/input-test.img   a disk whose boot sector drives the i8042, its keyboard and mouse, and
#                           reads what stage5/input-test.script injects (minivisor -input-script)
# Debian packages: nasm, xorriso.

STAGE5 = stage5/ide-hostile.img stage5/cdboot.iso stage5/ahci-boot.bin stage5/ahci-hostile.img \
	stage5/vga-hostile.img stage5/vga-bench.img stage5/vga-idle.img stage5/input-test.img \
	stage5/e1000-hostile.img
ALL_GUESTS += stage5

stage5: $(STAGE5)

# A disk image: the boot sector (nasm -f bin pads it to its own size) plus a few sectors.
# boot-sector.inc and guest-lib.inc: the code the multi-sector guests share (%include).
STAGE5_INC = stage5/boot-sector.inc stage5/guest-lib.inc
stage5/%.img: stage5/%.asm $(STAGE5_INC)
	$(NASM) -f bin -I stage5/ -o $@ $<

stage5/vga-idle.img: stage5/vga-bench.asm $(STAGE5_INC)
	$(NASM) -f bin -I stage5/ -DIDLE -o $@ $<

stage5/%.bin: stage5/%.asm
	$(NASM) -f bin -o $@ $<

# xorriso's mkisofs mode: the image is loaded at 0x7c0:0, "no emulation", 4 x 512 bytes.
stage5/cdboot.iso: stage5/cdboot.bin
	rm -rf stage5/cdboot.d && mkdir -p stage5/cdboot.d && cp $< stage5/cdboot.d/
	xorriso -as mkisofs -quiet -o $@ -b cdboot.bin -no-emul-boot -boot-load-size 4 \
		-V MINIVISOR_CD stage5/cdboot.d
	rm -rf stage5/cdboot.d
