# tests/unit/stage5_input.mk - unit tests of the stage 5 keyboard controller and PS/2 devices
# (stage5-full-machine/input/): test_stage5_input links only that family's sources, through
# input/input.mk, with stage 4's bus and interrupt lines (no KVM: lines without a VM).
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_input

test_stage5_input: test_stage5_input.c $(INPUT_SRCS) $(INPUT_HDRS) $(STAGE4_DIR)/bus.c \
		$(STAGE4_DIR)/irq.c
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ $< \
		$(INPUT_SRCS) $(STAGE4_DIR)/bus.c $(STAGE4_DIR)/irq.c -lcmocka
