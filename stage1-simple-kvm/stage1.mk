# stage1.mk - stage 1's library sources, for this stage and every later one.
# Include it, then compile $(STAGE1_SRCS) with -I$(STAGE1_DIR).
STAGE1_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
STAGE1_SRCS := $(addprefix $(STAGE1_DIR)/,guest_memory.c kvm.c cpu_modes.c run_loop.c runner.c)
STAGE1_HDRS := $(STAGE1_SRCS:.c=.h)
