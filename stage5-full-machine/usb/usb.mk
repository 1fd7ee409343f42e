# usb.mk - the USB family: the xHCI controller, the device core, the USB stick (README.md
# here). Included by ../machine.mk, which lists the families. USB_UNIT_SRCS is what the unit
# tests link (tests/unit/stage5_usb.mk), with stage 1's guest memory and the block layer.
USB_DIR := $(MACHINE_DIR)/usb
USB_UNIT_SRCS := $(addprefix $(USB_DIR)/,usb_core.c usb_storage.c usb_hid.c xhci.c \
	uhci.c usb_config.c)
USB_HDRS := $(addprefix $(USB_DIR)/,usb.h usb_storage.h usb_hid.h xhci.h uhci.h usb_config.h usb_machine.h)
MACHINE_SRCS += $(USB_UNIT_SRCS) $(USB_DIR)/usb_machine.c
MACHINE_HDRS += $(USB_HDRS)
