# machine.mk - stage 5's machine sources, for the Makefile beside it and the unit tests.
# Include it after stage1.mk and stage4.mk; compile with -I$(MACHINE_DIR), link $(MACHINE_LIBS).
MACHINE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MACHINE_SRCS := $(addprefix $(MACHINE_DIR)/,fw_cfg.c chipset.c pc_memory.c firmware.c pc.c \
	config.c)
MACHINE_HDRS := $(MACHINE_SRCS:.c=.h)
MACHINE_LIBS := -lyaml
