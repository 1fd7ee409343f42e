# tests/unit/stage5_net.mk - unit tests of the stage 5 network family (stage5-full-machine/net/):
# the e1000's rings, EEPROM and offloads, and the -netdev/-device/-nic parser. Links
# NET_UNIT_SRCS (net/net.mk) with stage 4's bus, interrupt lines and PCI (no KVM) and stage 1's
# guest memory.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_net

test_stage5_net: test_stage5_net.c fake_ram.h $(NET_UNIT_SRCS) $(NET_HDRS) $(STAGE4_DIR)/bus.c \
		$(STAGE4_DIR)/irq.c $(STAGE4_DIR)/pci.c
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ $< \
		$(NET_UNIT_SRCS) $(STAGE4_DIR)/bus.c $(STAGE4_DIR)/irq.c $(STAGE4_DIR)/pci.c \
		$(STAGE1_DIR)/guest_memory.c -lcmocka
