# stage5_block.mk - unit tests of the stage 5 disk backends (raw, QCOW2); sources via block.mk.
include ../../stage5-full-machine/block/block.mk

TESTS += test_stage5_block

test_stage5_block: test_stage5_block.c $(BLOCK_SRCS) $(BLOCK_HDRS)
	$(CC) $(CFLAGS) -I$(BLOCK_DIR) -o $@ test_stage5_block.c $(BLOCK_SRCS) -lcmocka $(BLOCK_LIBS)
