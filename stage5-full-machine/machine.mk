# machine.mk - stage 5's machine sources, for the Makefile beside it and the unit tests.
# Include it after stage1.mk and stage4.mk; compile with $(MACHINE_CPPFLAGS), link
# $(MACHINE_LIBS). Several unit test fragments include it: the second time is a no-op.
#
# The machine is built from device families, one folder each (as MVisor's devices/<family>/).
# Each folder has a fragment <family>/<family>.mk that appends its sources and headers to
# MACHINE_SRCS and MACHINE_HDRS (and, if it has any, its libraries to MACHINE_LIBS and its
# generated files to MACHINE_GENERATED). A new family is one new folder plus its name below.
# Include paths: this folder is the machine's one -I (beside stage 1's and stage 4's). A source
# names a header of another family by its folder (#include "storage/ata.h"), one of its own
# family or of this folder (config.h, byteorder.h) by its name.
ifndef MACHINE_DIR
MACHINE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MACHINE_FAMILIES := board storage block display input net vfio usb migration

# What is not in a family: the machine's description (flags, YAML) and two shared helpers
# (big-endian bytes; how a device reports a guest's mistakes).
MACHINE_SRCS := $(MACHINE_DIR)/config.c $(MACHINE_DIR)/guest_error.c
MACHINE_HDRS := $(addprefix $(MACHINE_DIR)/,config.h byteorder.h guest_error.h)
MACHINE_CPPFLAGS := -I$(MACHINE_DIR)
MACHINE_LIBS := -lyaml
MACHINE_GENERATED :=
# A family whose library has no static build names, for minivisor.static, the sources and
# libraries to leave out (MACHINE_STATIC_OUT) and the stand-ins to use (MACHINE_STATIC_IN).
MACHINE_STATIC_OUT :=
MACHINE_STATIC_IN :=

# A family's rules (board's DSDT) must never become the default goal of whoever includes this.
machine_default_goal := $(.DEFAULT_GOAL)
include $(foreach f,$(MACHINE_FAMILIES),$(MACHINE_DIR)/$(f)/$(f).mk)
.DEFAULT_GOAL := $(machine_default_goal)
endif
