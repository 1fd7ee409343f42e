# migration.mk - the migration family: the stream format, the machine's state as sections,
# snapshots, restore and live migration (README.md here). Included by ../machine.mk.
# MIGRATION_UNIT_SRCS (the stream and the snapshot's RAM image) is what the unit tests link
# (tests/unit/stage5_migration.mk). Debian package: zlib1g-dev (crc32), as block/.
MIGRATION_DIR := $(MACHINE_DIR)/migration
MIGRATION_UNIT_SRCS := $(addprefix $(MIGRATION_DIR)/,stream.c ramfile.c)
# The devices' sections alone (no KVM, no bus): tests/unit/stage5_devstate.mk.
MIGRATION_DEVSTATE_SRCS := $(MIGRATION_DIR)/devstate.c
MACHINE_SRCS += $(MIGRATION_UNIT_SRCS) $(MIGRATION_DEVSTATE_SRCS) $(addprefix $(MIGRATION_DIR)/,vmstate.c migrate.c)
MACHINE_HDRS += $(addprefix $(MIGRATION_DIR)/,stream.h ramfile.h devstate.h vmstate.h migrate.h)
