# guests/stage4/guests.mk - stage 4's small test guests, each a 64-bit program packed as a
# bzImage (1 KiB header + the program) so minivisor-lite boots it exactly as it boots Linux:
#   hostile.bzImage  a virtio driver that breaks the rules (hostile.c)
#   echo.bzImage     echoes the serial console's input (echo.c)
# Included by guests/Makefile.

ALL_GUESTS += stage4
STAGE4 = stage4/hostile.bzImage stage4/echo.bzImage

stage4: $(STAGE4)

stage4/bzimage-header.bin: stage4/bzimage-header.asm
	$(NASM) -f bin -o $@ $<

stage4/entry64.o: stage4/entry64.asm
	$(NASM) -f elf64 -o $@ $<

stage4/%.o: stage4/%.c stage4/serial.h
	$(CC) -m64 $(GUEST_CFLAGS) -c -o $@ $<

stage4/%.elf: stage4/entry64.o stage4/%.o stage4/bzguest.ld
	$(LD) -z noexecstack --no-warn-rwx-segments -m elf_x86_64 -T stage4/bzguest.ld -o $@ \
		stage4/entry64.o stage4/$*.o

stage4/%.bzImage: stage4/bzimage-header.bin stage4/%.bin
	cat $^ > $@
