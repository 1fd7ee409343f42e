# tests/unit/stage5_machine.mk - unit tests of the stage 5 machine's pure parts: fw_cfg items
# and DMA requests, PAM decoding, the chipset's config space, YAML configs, the ACPI loader.
# Sources via stage1.mk, stage4.mk and stage5-full-machine/machine.mk.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_machine

test_stage5_machine: test_stage5_machine.c $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) \
		$(STAGE1_HDRS) $(STAGE4_HDRS) $(MACHINE_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ \
		test_stage5_machine.c $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) -lcmocka \
		$(MACHINE_LIBS)
