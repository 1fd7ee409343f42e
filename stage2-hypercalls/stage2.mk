# stage2.mk - stage 2's library sources, for this stage, the unit tests and later stages.
# Include stage1.mk first; compile with -I$(STAGE2_DIR) -I$(STAGE1_DIR) -I$(STAGE2_GUEST_INC).
STAGE2_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# Pure: no KVM inside, unit-tested in tests/unit/test_stage2.c on synthetic page tables.
STAGE2_PURE_SRCS := $(addprefix $(STAGE2_DIR)/,page_walk.c guest_virt.c)
STAGE2_SRCS := $(STAGE2_PURE_SRCS) $(addprefix $(STAGE2_DIR)/,vcpu_paging.c hypercall_host.c)
STAGE2_HDRS := $(STAGE2_SRCS:.c=.h)
STAGE2_GUEST_INC := $(STAGE2_DIR)/../guests/include
