# manager.mk - the manager's pure sources (protocol, scrollback, socket path), for the
# Makefile beside it and the unit tests. Compile with -I$(MANAGER_DIR).
MANAGER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MANAGER_SRCS := $(addprefix $(MANAGER_DIR)/,protocol.c ring.c mgr_socket.c)
MANAGER_HDRS := $(MANAGER_SRCS:.c=.h)
