# tests/unit/stage5_vfio.mk - unit tests of the stage 5 vfio family (stage5-full-machine/vfio/):
# the -device vfio-pci option parser and PCI addresses. Links VFIO_UNIT_SRCS (vfio/vfio.mk);
# the rest of the family needs a host IOMMU and is tested in the nested host
# (tests/checks/stage5-vfio.sh).
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_vfio

test_stage5_vfio: test_stage5_vfio.c $(VFIO_UNIT_SRCS) $(MACHINE_DIR)/vfio/vfio.h
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -o $@ $< \
		$(VFIO_UNIT_SRCS) -lcmocka
