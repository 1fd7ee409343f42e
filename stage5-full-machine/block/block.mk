# block.mk - the disk backends, for qcow2-tool, the unit tests and the stage 5 machine.
# Include it, then compile $(BLOCK_SRCS) with -I$(BLOCK_DIR) and link with $(BLOCK_LIBS).
# Debian packages: zlib1g-dev (deflate for compressed clusters); qemu-utils for the tests.
BLOCK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BLOCK_SRCS := $(addprefix $(BLOCK_DIR)/,block.c raw.c qcow2.c)
BLOCK_HDRS := $(addprefix $(BLOCK_DIR)/,block.h qcow2.h)
BLOCK_LIBS := -lz
