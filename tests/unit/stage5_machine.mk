# tests/unit/stage5_machine.mk - unit tests of the stage 5 machine, one binary per part:
#   test_stage5_machine   fw_cfg items and DMA requests, PAM decoding, the chipset's config
#                         space, YAML configs and flags (drives too), the ACPI loader
#   test_stage5_firmware  the DSDT compiled from ASL (iasl), SMBIOS, bootorder
#   test_stage5_ata       the ATA drive (ata.c) and the PIIX3 IDE controller (ide.c): IDENTIFY,
#                         reads and writes on a temporary raw image, the task-file registers
#                         (48-bit HOB bytes, PIO, ATAPI packets), good and hostile PRD tables
#   test_stage5_atapi     the ATAPI CD-ROM command set (atapi.c), without a controller
#   test_stage5_ahci      the ICH9 AHCI controller with the drive behind it
#   test_stage5_memory    RAM above 4 GiB (the split, e820, DSDT values, guest addresses in two
#                         ranges, fw_cfg DMA into the hole) and the Multiboot loader
#   test_stage5_reset     the HPET's registers and timers, the reset's power-on states, the
#                         FADT reset register, -no-reboot
#   test_stage5_pflash    the CFI parallel flash (UEFI's code and variables): commands, query,
#                         read-only chips, image files
# Guest RAM is fake (fake_ram.h). Each binary links the whole machine - stage 1's and stage 4's
# sources and those of every family stage5-full-machine/machine.mk lists (board/board.mk also
# generates the DSDT's C file); only its main() differs. Tests include a stage 5 header by its
# family folder ("storage/ata.h"), as the machine's own sources do.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

STAGE5_MACHINE_TESTS := test_stage5_machine test_stage5_firmware test_stage5_ata \
	test_stage5_atapi test_stage5_ahci test_stage5_memory \
	test_stage5_reset test_stage5_pflash
TESTS += $(STAGE5_MACHINE_TESTS)

$(STAGE5_MACHINE_TESTS): %: %.c fake_ram.h $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) \
		$(STAGE1_HDRS) $(STAGE4_HDRS) $(MACHINE_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) $(MACHINE_CPPFLAGS) -pthread -o $@ \
		$< $(STAGE1_SRCS) $(STAGE4_SRCS) $(MACHINE_SRCS) -lcmocka $(MACHINE_LIBS)
