# stage3.mk - stage 3's library sources, for this stage, the unit tests and later stages.
# Include stage1.mk first; compile with -I$(STAGE3_DIR) -I$(STAGE1_DIR) -I$(STAGE3_GUEST_INC).
STAGE3_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# Pure: no KVM inside, unit-tested in tests/unit/test_stage3.c.
STAGE3_PURE_SRCS := $(addprefix $(STAGE3_DIR)/,sched.c options.c)
STAGE3_SRCS := $(STAGE3_PURE_SRCS) $(addprefix $(STAGE3_DIR)/,kick.c vmset.c)
STAGE3_HDRS := $(STAGE3_SRCS:.c=.h)
STAGE3_GUEST_INC := $(STAGE3_DIR)/../guests/include
