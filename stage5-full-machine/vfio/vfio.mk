# vfio.mk - the vfio family: PCI passthrough of a host device with VFIO (README.md here).
# Included by ../machine.mk, which lists the families. No library: the kernel's VFIO and KVM
# interfaces are ioctls (linux/vfio.h, linux/kvm.h).
# VFIO_UNIT_SRCS (the option parser, pure) is what the unit tests link (tests/unit/stage5_vfio.mk).
VFIO_DIR := $(MACHINE_DIR)/vfio
VFIO_UNIT_SRCS := $(VFIO_DIR)/vfio_config.c
MACHINE_SRCS += $(VFIO_UNIT_SRCS) $(VFIO_DIR)/vfio.c
MACHINE_HDRS += $(VFIO_DIR)/vfio.h
