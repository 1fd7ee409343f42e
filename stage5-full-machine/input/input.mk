# input.mk - the input family: the i8042 keyboard controller, its PS/2 keyboard and mouse, the
# keysym table and the host-side input API (README.md here). Included by ../machine.mk, which
# lists the families. INPUT_SRCS alone (with stage 4's bus.c and irq.c) is what the unit tests
# link.
INPUT_DIR := $(MACHINE_DIR)/input
INPUT_SRCS := $(addprefix $(INPUT_DIR)/,ps2.c keymap.c i8042.c input.c)
INPUT_HDRS := $(addprefix $(INPUT_DIR)/,ps2.h keymap.h i8042.h input.h)
MACHINE_SRCS += $(INPUT_SRCS)
MACHINE_HDRS += $(INPUT_HDRS)
