# tests/unit/stage2.mk - stage 2's unit tests (included by tests/unit/Makefile).
# The page walker and the guest-virtual copies on synthetic page tables: stage2.mk's pure
# sources, plus stage 1's (gpa_to_hva).

# This file is read before the Makefile's `all`: keep `all` the default goal.
.DEFAULT_GOAL := all

include ../../stage2-hypercalls/stage2.mk

TESTS += test_stage2

test_stage2: test_stage2.c $(STAGE2_PURE_SRCS) $(STAGE2_HDRS) $(STAGE1_SRCS) $(STAGE1_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE2_DIR) -I$(STAGE1_DIR) -o $@ test_stage2.c $(STAGE2_PURE_SRCS) \
		$(STAGE1_SRCS) -lcmocka
