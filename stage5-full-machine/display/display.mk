# display.mk - the display family: the standard VGA, the picture drawn from it, VNC, screendumps
# (README.md here). Included by ../machine.mk, which lists the families.
# Debian packages: libvncserver-dev, libpng-dev (and zlib, which libpng needs).
DISPLAY_DIR := $(MACHINE_DIR)/display
MACHINE_SRCS += $(addprefix $(DISPLAY_DIR)/,vga.c vga_render.c std_vga.c screendump.c display.c \
	vnc.c)
MACHINE_HDRS += $(addprefix $(DISPLAY_DIR)/,vga.h vga_render.h std_vga.h screendump.h display.h \
	vnc.h)
MACHINE_LIBS += -lvncserver -lpng -lz -lm

# Debian ships libvncserver as a shared library only: minivisor.static is built with
# vnc_none.c in vnc.c's place (-vnc is refused there in one line; screendumps work).
MACHINE_STATIC_OUT += $(DISPLAY_DIR)/vnc.c -lvncserver
MACHINE_STATIC_IN += $(DISPLAY_DIR)/vnc_none.c
