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
#   stage5/multiboot-test.elf  a Multiboot kernel (ELF, at 1 MiB) that prints its command line,
#                           its modules and the memory map, and powers off (minivisor -kernel)
#   stage5/multiboot-*.elf  the same kernel with a bad header: a wrong checksum, an a.out kludge
#                           without ELF, a segment in the PCI hole (bad-input checks)
#   stage5/ide-hole.img, stage5/ahci-hole.img  ide-hostile and ahci-hostile whose "outside RAM"
#                           address lies in the PCI hole of a 5 GiB machine (pc: 0xd0000000,
#                           q35: 0x90000000), where RAM was before the split: DMA there is refused
#   stage5/memtouch         a static Linux program: writes and checks a pattern over most of
#                           the guest's RAM (the RAM above 4 GiB check, tests/checks/stage5-memory.sh)
#   stage5/xhci-hostile.img a disk whose boot sector hands the xHCI controller bad rings, contexts,
#                           buffers and a bad CBW (a USB stick on port 1), then a good transfer
#   stage5/uhci-hostile.img a disk whose boot sector hands the UHCI controller a QH loop and
#                           pointers outside RAM, then a good control transfer by TDs
#   stage5/reset-test.img   a disk whose boot sector resets the machine a different way each boot
#                           (0xcf9, 0x92, 8042, triple fault), then pokes the HPET and powers off
#   stage5/edu-test.elf     a Multiboot kernel (C) that drives QEMU's edu device passed through
#                           with -device vfio-pci: ident, inversion, MSI, DMA, a hostile DMA
#   stage5/edu-rom.bin      a 2 KiB PCI option ROM for that edu (L0's QEMU: romfile=): it prints
#                           a line when SeaBIOS runs it (the passthrough's ROM path)
#   stage5/count-test.img   a disk whose boot sector counts on COM1, rewrites RAM (112 pages) and a
#                           disk sector as it goes, and answers the console (migration checks)
#   stage5/cr8-test.elf     a Multiboot kernel that writes CR8 with IF=0 while IRQ0 waits: what
#                           makes the nested host's QEMU 7.2 abort under OVMF (see
#                           tests/nested/README.md); cr8-test-nocr8.elf: the same loop without
#                           the CR8 write (the control)
# Debian packages: nasm, xorriso.

STAGE5 = stage5/ide-hostile.img stage5/cdboot.iso stage5/ahci-boot.bin stage5/ahci-hostile.img \
	stage5/vga-hostile.img stage5/vga-bench.img stage5/vga-idle.img stage5/input-test.img \
	stage5/multiboot-test.elf stage5/multiboot-badsum.elf stage5/multiboot-aout.bin \
	stage5/multiboot-hole.elf stage5/memtouch stage5/ide-hole.img stage5/ahci-hole.img \
	stage5/reset-test.img stage5/e1000-hostile.img stage5/edu-test.elf stage5/edu-rom.bin \
	stage5/count-test.img stage5/xhci-hostile.img stage5/uhci-hostile.img stage5/cr8-test.elf \
	stage5/cr8-test-nocr8.elf
ALL_GUESTS += stage5

stage5: $(STAGE5)

# A disk image: the boot sector (nasm -f bin pads it to its own size) plus a few sectors.
# boot-sector.inc and guest-lib.inc: the code the multi-sector guests share (%include);
# verdict.inc: the USB hostile guests' verdict lines.
STAGE5_INC = stage5/boot-sector.inc stage5/guest-lib.inc stage5/verdict.inc
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

# The Multiboot test kernel: an ELF32 linked at 1 MiB (explicit rules: the generic %.elf rule
# of ../Makefile builds 64-bit guests). The bad variants are the same source: a checksum off by
# one (-DBAD_CHECKSUM); the a.out kludge flag in a flat binary (-DAOUT_KLUDGE); text linked at
# 3.5 GiB, inside the PCI hole.
MB_LD = $(LD) -m elf_i386 -N -z noexecstack --no-warn-rwx-segments -e start
stage5/multiboot-test.elf: stage5/multiboot-test.asm
	$(NASM) -f elf32 -o stage5/multiboot-test.o $<
	$(MB_LD) -Ttext 0x100000 -o $@ stage5/multiboot-test.o
stage5/multiboot-badsum.elf: stage5/multiboot-test.asm
	$(NASM) -f elf32 -DBAD_CHECKSUM -o stage5/multiboot-badsum.o $<
	$(MB_LD) -Ttext 0x100000 -o $@ stage5/multiboot-badsum.o
stage5/cr8-test.elf: stage5/cr8-test.asm
	$(NASM) -f elf32 -o stage5/cr8-test.o $<
	$(MB_LD) -Ttext 0x100000 -o $@ stage5/cr8-test.o
stage5/cr8-test-nocr8.elf: stage5/cr8-test.asm
	$(NASM) -f elf32 -DWITHOUT_CR8 -o stage5/cr8-test-nocr8.o $<
	$(MB_LD) -Ttext 0x100000 -o $@ stage5/cr8-test-nocr8.o
stage5/multiboot-hole.elf: stage5/multiboot-test.asm
	$(NASM) -f elf32 -o stage5/multiboot-hole.o $<
	$(MB_LD) -Ttext 0xe0000000 -o $@ stage5/multiboot-hole.o
stage5/multiboot-aout.bin: stage5/multiboot-test.asm
	$(NASM) -f bin -DAOUT_KLUDGE -o $@ $<

stage5/ide-hole.img: stage5/ide-hostile.asm $(STAGE5_INC)
	$(NASM) -f bin -I stage5/ -DNOWHERE=0xd0000000 -o $@ $<
stage5/ahci-hole.img: stage5/ahci-hostile.asm $(STAGE5_INC)
	$(NASM) -f bin -I stage5/ -DNOWHERE=0x90000000 -o $@ $<

# A static program for the Linux test guest (its initramfs has no C library).
stage5/memtouch: stage5/memtouch.c
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -static -o $@ $<

# The edu test kernel: freestanding C (its entry and interrupt stubs are inline asm), 32-bit,
# linked at 1 MiB as an ELF, the form minivisor's Multiboot loader takes.
stage5/edu-test.elf: stage5/edu-test.c stage4/serial.h
	$(CC) $(GUEST_CFLAGS) -m32 -fno-builtin -c -o stage5/edu-test.o $<
	$(MB_LD) -Ttext 0x100000 -o $@ stage5/edu-test.o

# The option ROM: nasm, then its last byte set so that all bytes sum to 0 mod 256 (od and awk
# add them up; printf writes the byte in octal).
stage5/edu-rom.bin: stage5/edu-rom.asm
	$(NASM) -f bin -o $@.tmp $<
	sum=$$(od -An -v -tu1 $@.tmp | awk '{ for (i = 1; i <= NF; i++) s += $$i } END { print (256 - s % 256) % 256 }') && \
		printf "\\$$(printf %o $$sum)" | dd of=$@.tmp bs=1 seek=2047 conv=notrunc status=none
	mv $@.tmp $@
