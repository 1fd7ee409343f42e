# tests/unit/stage2.mk - stage 2's unit tests (included by tests/unit/Makefile).
# test_stage2: the page walker and the guest-virtual copies on synthetic page tables:
# stage2.mk's pure sources, plus stage 1's (gpa_to_hva). test_stage2_hypercall: below.

# This file is read before the Makefile's `all`: keep `all` the default goal.
.DEFAULT_GOAL := all

include ../../stage2-hypercalls/stage2.mk

TESTS += test_stage2

test_stage2: test_stage2.c $(STAGE2_PURE_SRCS) $(STAGE2_HDRS) $(STAGE1_SRCS) $(STAGE1_HDRS)
	$(CC) $(CFLAGS) -I$(STAGE2_DIR) -I$(STAGE1_DIR) -o $@ test_stage2.c $(STAGE2_PURE_SRCS) \
		$(STAGE1_SRCS) -lcmocka

# The hypercall decoder on a kvm_run page in plain memory: all of stage 2's library (the
# calls used do not reach KVM), and the guest-side header for the ABI's numbers.
TESTS += test_stage2_hypercall

test_stage2_hypercall: test_stage2_hypercall.c $(STAGE2_SRCS) $(STAGE2_HDRS) $(STAGE1_SRCS) \
		$(STAGE1_HDRS) $(STAGE2_GUEST_INC)/hypercall.h
	$(CC) $(CFLAGS) -I$(STAGE2_DIR) -I$(STAGE1_DIR) -I$(STAGE2_GUEST_INC) -o $@ \
		test_stage2_hypercall.c $(STAGE2_SRCS) $(STAGE1_SRCS) -lcmocka
