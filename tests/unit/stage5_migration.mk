# tests/unit/stage5_migration.mk - unit tests of the migration stream's parser
# (stage5-full-machine/migration/stream.c): a good stream read back, then truncated streams, a
# flipped byte, an unknown version, a section of the wrong size, RAM beyond the configured
# size, a configuration that differs. Sources via stage5-full-machine/migration/migration.mk.
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_migration

test_stage5_migration: test_stage5_migration.c $(MIGRATION_UNIT_SRCS) $(MIGRATION_DIR)/stream.h \
	$(MIGRATION_DIR)/ramfile.h
	$(CC) $(CFLAGS) -I$(MIGRATION_DIR) -o $@ $< $(MIGRATION_UNIT_SRCS) -lz -lcmocka
