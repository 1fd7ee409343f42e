/*
 * stamp.c - time when marker strings first appear in a stream (the boot benchmarks' clock).
 *
 *   VMM ... 2>&1 | stamp NAME=TEXT [NAME=TEXT...] > console.txt
 *
 * Copies stdin to stdout and, at the end, prints "stamp: NAME=SECONDS" for each marker (or
 * NAME=none), seconds since stamp started, then "stamp: total=SECONDS" (the end of the stream:
 * the VMM has exited). Why a program and not a shell loop: a console line is not always ended
 * before the next event (SeaBIOS's "Booting from Hard Disk..." waits for the guest's first
 * line), so reading lines measures the wrong moment, and polling a file with grep forks
 * processes all the time, which slows the very guest being measured (inside the nested host
 * every fork is emulated). This blocks in read() and looks at bytes as they come.
 * Built statically by the bench (tests/bench.d/stage5-machine.sh) for the nested host.
 */
#define _GNU_SOURCE   /* memmem */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKERS 8
#define TAIL 256   /* bytes kept from the last read, so a marker split across reads is found */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *name[MAX_MARKERS], *text[MAX_MARKERS];
	double seen[MAX_MARKERS];
	int n = 0;
	for (int i = 1; i < argc && n < MAX_MARKERS; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq[1] == '\0' || strlen(eq + 1) >= TAIL) {
			fprintf(stderr, "stamp: want NAME=TEXT (TEXT under %d bytes): %s\n", TAIL,
				argv[i]);
			return 2;
		}
		*eq = '\0';
		name[n] = argv[i];
		text[n] = eq + 1;
		seen[n++] = -1;
	}
	double t0 = now();
	char buf[TAIL + 4096];
	size_t kept = 0;
	ssize_t got;
	while ((got = read(STDIN_FILENO, buf + kept, sizeof(buf) - kept - 1)) > 0) {
		double t = now() - t0;
		fwrite(buf + kept, 1, got, stdout);
		size_t len = kept + got;
		buf[len] = '\0';
		for (int i = 0; i < n; i++)   /* NUL bytes in the stream only hide a marker */
			if (seen[i] < 0 && memmem(buf, len, text[i], strlen(text[i])))
				seen[i] = t;
		kept = len < TAIL ? len : TAIL;
		memmove(buf, buf + len - kept, kept);
	}
	fflush(stdout);
	for (int i = 0; i < n; i++)
		seen[i] < 0 ? fprintf(stderr, "stamp: %s=none\n", name[i])
			    : fprintf(stderr, "stamp: %s=%.2f\n", name[i], seen[i]);
	fprintf(stderr, "stamp: total=%.2f\n", now() - t0);
	return 0;
}
