# block.mk - the disk backends, for qcow2-tool, the unit tests and the stage 5 machine.
# Include it, then compile $(BLOCK_SRCS) with -I$(BLOCK_DIR) and link with $(BLOCK_LIBS).
# Debian packages: zlib1g-dev (deflate for compressed clusters); qemu-utils for the tests.
BLOCK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BLOCK_SRCS := $(addprefix $(BLOCK_DIR)/,block.c raw.c qcow2.c)
BLOCK_HDRS := $(addprefix $(BLOCK_DIR)/,block.h qcow2.h)
BLOCK_LIBS := -lz

# As one of the machine's families (../machine.mk includes this file), the same lists join the
# machine's: once, even when a unit test fragment includes this file again afterwards.
ifdef MACHINE_DIR
ifeq ($(filter $(BLOCK_SRCS),$(MACHINE_SRCS)),)
MACHINE_SRCS += $(BLOCK_SRCS)
MACHINE_HDRS += $(BLOCK_HDRS)
MACHINE_LIBS += $(BLOCK_LIBS)
endif
endif
