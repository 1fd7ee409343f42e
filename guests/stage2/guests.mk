# guests/stage2/guests.mk - the stage 2 guests (included by guests/Makefile).
#
# All long mode: entry.asm + lib.c (console, checks, the test map) + one C file each.
#   demo               every hypercall once, printing what it got       (./run stage2)
#   map                builds the test map and halts                    (translate-check)
#   bench              one hypercall in a loop, chosen by the host      (bench-hypercall)
#   one-exit           the calls by registers: one OUT each (port 0x506)
#   bad-unmapped       pointers to nothing, at every level of the tables
#   bad-no-nul         strings that run to the end of RAM or past the bound
#   bad-noncanonical   addresses with bits 63..48 not copies of bit 47
#   bad-pt-buffer      buffers over page tables, and a read-only one
#   bad-unknown-call   call numbers nobody has, wrong access sizes

# This file is read before guests/Makefile's `all`: keep `all` the default goal.
.DEFAULT_GOAL := all

STAGE2_GUESTS = demo map bench one-exit bad-unmapped bad-no-nul bad-noncanonical bad-pt-buffer \
	bad-unknown-call
STAGE2 = $(addprefix stage2/,$(addsuffix .bin,$(STAGE2_GUESTS)))
ALL_GUESTS += stage2

stage2: $(STAGE2)

stage2/%.elf: stage2/entry.o stage2/lib.o stage2/%.o guest.ld
	$(LD) -z noexecstack -m elf_x86_64 -T guest.ld -o $@ stage2/entry.o stage2/lib.o stage2/$*.o

stage2/entry.o: stage2/entry.asm
	$(NASM) -f elf64 -o $@ $<

stage2/%.o: stage2/%.c stage2/guest.h include/hypercall.h
	$(CC) -m64 $(GUEST_CFLAGS) -c -o $@ $<

.PRECIOUS: stage2/%.o stage2/%.elf
