# stage4.mk - stage 4's library sources, for this stage and later ones (stage 5, unit tests).
# Include it after stage1.mk; compile $(STAGE4_SRCS) with -I$(STAGE4_DIR) -I$(STAGE1_DIR).
STAGE4_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
STAGE4_SRCS := $(addprefix $(STAGE4_DIR)/,bus.c irq.c uart.c power.c rtc.c pci.c msi.c virtqueue.c \
	virtio_pci.c virtio_blk.c virtio_net.c virtio_rng.c boot.c acpi.c terminal.c machine.c)
STAGE4_HDRS := $(STAGE4_SRCS:.c=.h) $(STAGE4_DIR)/state_check.h
