# guests/stage3/guests.mk - the stage 3 guests (included by guests/Makefile).
#
# All long mode: entry.asm + one C file each, linked with guest.ld, RDI/RSI = index/argument.
#   talk     numbered lines on port 0xE9, then HLT      (matrix-a)
#   compute  an endless loop without I/O               (matrix-b)
#   worker   units of work, reported by hypercall      (matrix)
#   fault    two lines, some work, then a triple fault (a VM taken off the schedule)

# This file is read before guests/Makefile's `all`: keep `all` the default goal.

STAGE3 = $(addprefix stage3/,talk.bin compute.bin worker.bin fault.bin)
ALL_GUESTS += stage3

stage3: $(STAGE3)

stage3/%.elf: stage3/entry.o stage3/%.o guest.ld
	$(LD) -z noexecstack -m elf_x86_64 -T guest.ld -o $@ stage3/entry.o stage3/$*.o

stage3/entry.o: stage3/entry.asm
	$(NASM) -f elf64 -o $@ $<

stage3/%.o: stage3/%.c stage3/matrix-guest.h include/hypercall.h
	$(CC) -m64 $(GUEST_CFLAGS) -c -o $@ $<

.PRECIOUS: stage3/%.o stage3/%.elf
