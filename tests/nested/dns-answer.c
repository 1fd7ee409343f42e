/*
 * dns-answer.c - the smallest DNS server a test needs: one name, one IPv4 address, on loopback.
 *
 *   dns-answer NAME ADDR [PORT]     (PORT 53 by default; listens on 127.0.0.1 only)
 *
 * What it teaches: a DNS query is one UDP datagram, a 12-byte header (an id, flags, four
 * counts) and a question (the name as length-prefixed labels, a type, a class); the answer is
 * the same datagram with the response bit set and a resource record appended, whose name may
 * be a 2-byte pointer back to the question (0xc00c: offset 12). An A question for NAME gets
 * ADDR; any other question for NAME gets no record (NOERROR: the name exists); any other name
 * gets NXDOMAIN. Each query prints one line on stdout, so a test can see who asked what.
 *
 * Used by the network check (guests/stage5/l1-net.sh) inside the nested host's L1, which has no
 * resolver: with "nameserver 127.0.0.1" in L1's /etc/resolv.conf and minivisor's
 * `-netdev user,dns=on`, libslirp forwards the guest's queries to 10.0.2.3 here. busybox's dnsd
 * would do, but Debian's busybox is built without it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Decode the question's name (labels, no compression in a question) into "a.b.c".
 * Returns the offset just after it, or 0 when malformed. */
static size_t read_name(const unsigned char *q, size_t len, size_t off, char *out, size_t out_len)
{
	size_t n = 0;
	while (off < len && q[off]) {
		size_t l = q[off++];
		if (l > 63 || off + l > len || n + l + 2 > out_len)
			return 0;
		if (n)
			out[n++] = '.';
		memcpy(out + n, q + off, l);
		n += l;
		off += l;
	}
	if (off >= len)
		return 0;
	out[n] = 0;
	return off + 1;
}

/* Turn the query in buf (len bytes) into the answer, in place; returns its length or 0. */
static size_t answer(unsigned char *buf, size_t len, size_t cap, const char *name,
		     struct in_addr addr, char *asked, size_t asked_len, unsigned *qtype)
{
	if (len < 12 || (buf[2] & 0x80) || buf[4] != 0 || buf[5] != 1)   /* one question */
		return 0;
	size_t end = read_name(buf, len, 12, asked, asked_len);
	if (!end || end + 4 > len)
		return 0;
	*qtype = buf[end] << 8 | buf[end + 1];
	end += 4;                                   /* type and class */
	int known = !strcasecmp(asked, name);
	buf[2] = 0x84 | (buf[2] & 0x01);            /* response, authoritative, keep RD */
	buf[3] = known ? 0 : 3;                     /* NOERROR or NXDOMAIN */
	memset(buf + 6, 0, 6);                      /* no answer, authority or additional yet */
	if (!known || *qtype != 1 || end + 16 > cap)
		return end;
	static const unsigned char rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };
	memcpy(buf + end, rr, sizeof(rr));          /* name -> the question, A, IN, TTL 60 */
	memcpy(buf + end + sizeof(rr), &addr, 4);
	buf[7] = 1;
	return end + sizeof(rr) + 4;
}

int main(int argc, char **argv)
{
	struct in_addr addr;
	if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[2], &addr) != 1) {
		fprintf(stderr, "usage: dns-answer NAME IPV4-ADDR [PORT]\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(argc == 4 ?
						atoi(argv[3]) : 53) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("dns-answer: bind 127.0.0.1");
		return 2;
	}
	printf("dns-answer: %s -> %s on 127.0.0.1:%d\n", argv[1], argv[2], ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		unsigned char buf[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		char asked[256];
		unsigned qtype = 0;
		size_t out = answer(buf, (size_t)n, sizeof(buf), argv[1], addr, asked, sizeof(asked),
				    &qtype);
		if (!out)
			continue;
		printf("dns-answer: query %s type %u: %s\n", asked, qtype,
		       buf[7] ? argv[2] : buf[3] ? "NXDOMAIN" : "no record");
		fflush(stdout);
		sendto(fd, buf, out, 0, (struct sockaddr *)&from, fl);
	}
}
