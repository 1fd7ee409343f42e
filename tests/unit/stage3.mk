# tests/unit/stage3.mk - stage 3's unit tests (included by tests/unit/Makefile).
# The scheduler arithmetic and the command line: stage3.mk's pure sources, plus stage 1's
# (options.c reads sizes with stage 1's parse_size).

# This file is read before the Makefile's `all`: keep `all` the default goal.

include ../../stage3-scheduler/stage3.mk

TESTS += test_stage3

test_stage3: test_stage3.c $(STAGE3_PURE_SRCS) $(STAGE3_HDRS) $(STAGE1_SRCS) $(STAGE1_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE3_DIR) -I$(STAGE1_DIR) -o $@ test_stage3.c $(STAGE3_PURE_SRCS) \
		$(STAGE1_SRCS) -lcmocka
