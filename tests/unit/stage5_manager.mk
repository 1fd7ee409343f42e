# tests/unit/stage5_manager.mk - unit tests of the VM manager's pure parts: the request
# parser and quoting, VM names, the detach keys, the scrollback ring buffer.
# Sources via stage5-full-machine/manager/manager.mk.
include ../../stage5-full-machine/manager/manager.mk

TESTS += test_stage5_manager

test_stage5_manager: test_stage5_manager.c $(MANAGER_SRCS) $(MANAGER_HDRS)
	$(CC) $(CFLAGS) -I$(MANAGER_DIR) -o $@ test_stage5_manager.c $(MANAGER_SRCS) -lcmocka
