# tests/unit/stage5_devstate.mk - unit tests of the device sections of the migration stream
# (stage5-full-machine/migration/devstate.c): e1000, virtio-net, pflash, xHCI, UHCI, the USB
# keyboard/tablet and stick, each saved, loaded and compared, then refused when damaged. The
# sections touch only the device structs: devstate.c alone is linked (no KVM, no bus).
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_devstate

# virtio-net's loader asks stage 4's virtqueue.c whether a live queue is valid (its RAM
# lookups are stage 1's guest_memory.c).
S5D_LINKED := $(MIGRATION_DEVSTATE_SRCS) $(STAGE4_DIR)/virtqueue.c $(STAGE1_DIR)/guest_memory.c

test_stage5_devstate: test_stage5_devstate.c $(S5D_LINKED) $(MIGRATION_DIR)/devstate.h
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -o $@ $< \
		$(S5D_LINKED) -lcmocka
