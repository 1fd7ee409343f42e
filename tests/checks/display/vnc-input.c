/*
 * vnc-input.c - a VNC client that only types and moves the mouse: for the display check's
 * nested session (tests/checks/stage5-display.sh), where L1 has no VNC client of its own.
 * Built statically (L1's initramfs has no libc).
 *
 *   vnc-input HOST PORT TEXT   connect (RFC 6143: protocol 3.8, security "None", shared),
 *                              move the pointer in a few steps, type TEXT (each byte a
 *                              KeyEvent down and up with its keysym: printable ASCII is its own
 *                              keysym; '\n' in TEXT, two characters, is Return), move it again
 *
 * Teaches nothing of its own; it is the client half of what display/vnc.c serves. Exit 0
 * when every event was sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define XK_RETURN 0xff0d

static int fd;

static void die(const char *what)
{
	fprintf(stderr, "vnc-input: %s\n", what);
	exit(1);
}

static void get(void *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t got = read(fd, (char *)buf + done, n - done);
		if (got <= 0)
			die("the server closed the connection");
		done += got;
	}
}

static void put(const void *buf, size_t n)
{
	if (write(fd, buf, n) != (ssize_t)n)
		die("cannot write to the server");
}

static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&t, NULL);
}

static void key(uint32_t keysym, int down)
{
	uint8_t m[8] = { 4, (uint8_t)down, 0, 0, keysym >> 24, keysym >> 16, keysym >> 8, keysym };
	put(m, sizeof(m));
}

static void pointer(unsigned x, unsigned y, unsigned buttons)
{
	uint8_t m[6] = { 5, (uint8_t)buttons, x >> 8, x, y >> 8, y };
	put(m, sizeof(m));
}

int main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: vnc-input HOST PORT TEXT");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		die("HOST: an IPv4 address");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("cannot connect");
	char version[12];
	get(version, 12);
	put("RFB 003.008\n", 12);
	uint8_t n, types[255], none = 1, shared = 1;
	get(&n, 1);
	if (n == 0)
		die("the server refused the connection");
	get(types, n);
	if (!memchr(types, 1, n))
		die("the server wants a password");
	put(&none, 1);
	uint8_t result[4], init[24];
	get(result, 4);
	if (result[3] != 0)
		die("security handshake failed");
	put(&shared, 1);
	get(init, 24);   /* width, height, pixel format, name length */
	uint32_t name_len = (uint32_t)init[20] << 24 | init[21] << 16 | init[22] << 8 | init[23];
	char name[256];
	while (name_len) {
		uint32_t chunk = name_len > sizeof(name) ? sizeof(name) : name_len;
		get(name, chunk);
		name_len -= chunk;
	}
	/* The mouse: an absolute position, then steps to the right and down. */
	for (unsigned i = 0; i <= 8; i++) {
		pointer(100 + 20 * i, 100 + 10 * i, 0);
		pause_ms(50);
	}
	for (const char *p = argv[3]; *p; p++) {
		uint32_t sym = (uint8_t)*p;
		if (p[0] == '\\' && p[1] == 'n') {
			sym = XK_RETURN;
			p++;
		}
		key(sym, 1);
		pause_ms(40);
		key(sym, 0);
		pause_ms(40);
	}
	/* And the mouse once more, for a reader that opened its device late. */
	for (unsigned i = 0; i <= 8; i++) {
		pointer(300 - 20 * i, 200 - 10 * i, 0);
		pause_ms(50);
	}
	pause_ms(200);
	close(fd);
	return 0;
}
