# tests/unit/stage5_net.mk - unit tests of the stage 5 network family (stage5-full-machine/net/):
# the e1000's rings, EEPROM and offloads, stage 4's virtio-net behind a stage 5 back end, and
# the -netdev/-device/-nic parser. Links NET_UNIT_SRCS (net/net.mk) with stage 4's bus,
# interrupt lines, PCI and virtio (no KVM) and stage 1's guest memory.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_net

S5N_STAGE4 := $(addprefix $(STAGE4_DIR)/,bus.c irq.c pci.c msi.c virtio_net.c virtio_pci.c virtqueue.c)
# How the card reports a guest's mistakes (stage5-full-machine/guest_error.h).
S5N_SHARED := $(MACHINE_DIR)/guest_error.c

test_stage5_net: test_stage5_net.c fake_ram.h $(NET_UNIT_SRCS) $(NET_HDRS) $(S5N_STAGE4) $(S5N_SHARED)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ $< \
		$(NET_UNIT_SRCS) $(S5N_STAGE4) $(S5N_SHARED) $(STAGE1_DIR)/guest_memory.c -lcmocka
