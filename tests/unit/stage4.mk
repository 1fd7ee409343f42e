# tests/unit/stage4.mk - stage 4's unit tests (included by tests/unit/Makefile).
# Linked with stage 1's and stage 4's library sources, listed in their own .mk files.
include ../../stage4-devices/stage4.mk

TESTS += test_stage4

test_stage4: test_stage4.c fake_ram.h $(STAGE1_SRCS) $(STAGE1_HDRS) $(STAGE4_SRCS) $(STAGE4_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE1_DIR) -I$(STAGE4_DIR) -pthread -o $@ test_stage4.c \
		$(STAGE1_SRCS) $(STAGE4_SRCS) -lcmocka
