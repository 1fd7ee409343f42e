/*
 * fuzz_uart.c - stage 4's 16550A UART (uart.c): its eight registers (DLAB, FIFO control,
 * loopback, scratch), with host input arriving between accesses (op 3).
 *
 * Teaches: even a byte-wide register file has state that indexes memory: the receive FIFO's
 * head and count must stay in range whatever order the guest and the host act in.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_ops.h"
#include "uart.h"

#define RAM_SIZE 4096

static void input(void *ctx, struct fuzz_input *in)
{
	uint8_t bytes[300];
	unsigned len = fi_bytes(in, bytes, fi_u16(in) % sizeof(bytes));
	uart_input(ctx, bytes, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uart uart;
	static struct io_bus bus;
	static int sink = -1;
	struct fuzz_input in = { data, size };

	if (sink < 0 && (sink = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (uart_attach(&uart, &bus, -1, COM1_PORT, COM1_IRQ, sink))
		abort();
	fuzz_ops_run(&bus, mem, &in, input, &uart, 4096);
	fuzz_ram_free(mem);
	return 0;
}
