/*
 * fuzz_manager.c - the management shell's protocol (manager/protocol.c): a request line as a
 * client sends it on the socket, split into words (quotes, escapes), parsed into a request,
 * its words quoted back; the console's detach keys; the scrollback ring and its search.
 *
 * Teaches: the manager is a daemon other programs talk to: every line is untrusted text, and
 * what it quotes back must round-trip through its own splitter.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[MGR_LINE_MAX + 1];
	size_t n = size < MGR_LINE_MAX ? size : MGR_LINE_MAX;
	memcpy(line, data, n);
	line[n] = '\0';

	/* The request, as the daemon reads it. */
	struct request req;
	char why[256];
	static char copy[MGR_LINE_MAX + 1];
	memcpy(copy, line, n + 1);
	if (proto_parse(copy, &req, why, sizeof(why)) == 0) {
		static char quoted[2 * MGR_LINE_MAX + 8];
		/* words[] is not NULL-terminated when the line has MGR_ARGS_MAX + 1 words. */
		for (int i = 0; i <= MGR_ARGS_MAX && req.words[i]; i++) {
			quoted[0] = '\0';   /* proto_quote appends to what out holds */
			if (proto_quote(req.words[i], quoted, sizeof(quoted)) >= 0) {
				/* What was quoted splits back into the same one word. */
				char *argv[MGR_ARGS_MAX + 1];
				const char *err;
				if (proto_split(quoted, argv, MGR_ARGS_MAX, &err) != 1 ||
				    strcmp(argv[0], req.words[i]) != 0)
					abort();
			}
		}
		if (req.name)
			vm_name_valid(req.name);
	}

	/* The CLI's console: every byte through the detach-key filter. */
	struct detach_keys keys = { 0 };
	unsigned char out[2];
	for (size_t i = 0; i < size; i++)
		detach_feed(&keys, data[i], out);

	/* The scrollback: a small ring, written in pieces, searched for the line's tail. */
	static char storage[97], scratch[256], flat[256];
	struct ring ring;
	ring_init(&ring, storage, sizeof(storage));
	for (size_t off = 0; off < size; off += 37)
		ring_write(&ring, data + off, size - off < 37 ? size - off : 37);
	ring_copy(&ring, flat, sizeof(flat));
	ring_contains(&ring, line + (n > 8 ? n - 8 : 0), scratch, sizeof(scratch));
	return 0;
}
