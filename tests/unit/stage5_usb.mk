# tests/unit/stage5_usb.mk - unit tests of the stage 5 USB family (stage5-full-machine/usb/):
# the xHCI ring walker and controller through its registers, the Bulk-Only Transport state
# machine of the USB stick with SCSI on a raw image, and the option parser. Links
# USB_UNIT_SRCS (usb/usb.mk) with the block layer, stage 4's bus, interrupt lines and PCI (no
# KVM) and stage 1's guest memory (fake_ram.h).
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_usb

S5U_STAGE4 := $(addprefix $(STAGE4_DIR)/,bus.c irq.c pci.c msi.c)
# How the devices report a guest's mistakes (stage5-full-machine/guest_error.h).
S5U_SHARED := $(MACHINE_DIR)/guest_error.c

test_stage5_usb: test_stage5_usb.c fake_ram.h $(USB_UNIT_SRCS) $(USB_HDRS) $(BLOCK_SRCS) \
		$(S5U_STAGE4) $(S5U_SHARED)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ $< \
		$(USB_UNIT_SRCS) $(BLOCK_SRCS) $(S5U_STAGE4) $(S5U_SHARED) $(STAGE1_DIR)/guest_memory.c \
		-lcmocka $(BLOCK_LIBS)
