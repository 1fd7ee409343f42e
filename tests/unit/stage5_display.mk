# tests/unit/stage5_display.mk - unit tests of the display family (stage5-full-machine/display/):
# the VGA registers and memory modes, the VBE checks, the renderer, -vnc parsing, screendumps.
# Only the family's KVM-free sources are linked (no bus, no PCI): the tests play the VGA BIOS.
# Stage 4's folder is on the include path for state_check.h (vga_state_valid's bool check).
include ../../stage4-devices/stage4.mk
include ../../stage5-full-machine/machine.mk

TESTS += test_stage5_display
DISPLAY_TEST_SRCS := $(addprefix $(DISPLAY_DIR)/,vga.c vga_render.c screendump.c vnc.c)

test_stage5_display: test_stage5_display.c $(DISPLAY_TEST_SRCS) $(MACHINE_HDRS)
	$(CC) $(CFLAGS) $(MACHINE_CPPFLAGS) -I$(STAGE4_DIR) -o $@ test_stage5_display.c \
		$(DISPLAY_TEST_SRCS) \
		-lcmocka -lvncserver -lpng -lz -lm
