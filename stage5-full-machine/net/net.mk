# net.mk - the network family: the e1000 card, the back ends (user-mode with libslirp, tap),
# the options and the net thread (README.md here); virtio-net is stage 4's, reused.
# Included by ../machine.mk, which lists the families. Debian package: libslirp-dev.
# NET_UNIT_SRCS (the card and the options, with stage 4's bus.c, irq.c and pci.c) is what the
# unit tests link (tests/unit/stage5_net.mk).
NET_DIR := $(MACHINE_DIR)/net
NET_UNIT_SRCS := $(addprefix $(NET_DIR)/,net_config.c e1000.c)
NET_HDRS := $(addprefix $(NET_DIR)/,net_config.h e1000.h net.h)
MACHINE_SRCS += $(NET_UNIT_SRCS) $(addprefix $(NET_DIR)/,net.c user.c)
MACHINE_HDRS += $(NET_HDRS)
MACHINE_LIBS += -lslirp

# Debian ships libslirp as a shared library only: minivisor.static is built with user_none.c
# in user.c's place (-netdev user is refused there in one line; tap and the cards work).
MACHINE_STATIC_OUT += $(NET_DIR)/user.c -lslirp
MACHINE_STATIC_IN += $(NET_DIR)/user_none.c
