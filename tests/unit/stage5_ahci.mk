# stage5_ahci.mk - unit tests of the stage 5 ICH9 AHCI controller (ahci.c) with the drive core
# (ata.c, atapi.c) behind it, on a fake guest RAM. Sources via stage1.mk, stage4.mk and
# stage5-full-machine/machine.mk.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_ahci

test_stage5_ahci: test_stage5_ahci.c fake_ram.h $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) \
		$(STAGE1_HDRS) $(STAGE4_HDRS) $(MACHINE_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ \
		test_stage5_ahci.c $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) -lcmocka \
		$(MACHINE_LIBS)
