# tests/unit/stage5_ata.mk - unit tests of the ATA drive (ata.c) and the PIIX3 IDE controller
# (ide.c): IDENTIFY, reads and writes on a temporary raw image, the task-file registers
# through the I/O ports (48-bit HOB bytes, PIO, ATAPI packets), bus master PRD walks on fake
# guest RAM (good and hostile tables). Sources via stage1.mk, stage4.mk and machine.mk.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_ata

test_stage5_ata: test_stage5_ata.c fake_ram.h $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) \
		$(STAGE1_HDRS) $(STAGE4_HDRS) $(MACHINE_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ \
		test_stage5_ata.c $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) -lcmocka \
		$(MACHINE_LIBS)
