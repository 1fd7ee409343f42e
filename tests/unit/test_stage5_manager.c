/*
 * test_stage5_manager.c - unit tests of the VM manager (stage5-full-machine/manager): how a
 * request line is split and checked (hostile lines included), quoting round trips, which VM
 * names pass, the console's detach keys, the scrollback ring buffer at and past its size, and
 * which socket directories the manager trusts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgr_socket.h"
#include "protocol.h"
#include "ring.h"

/* ---- splitting and parsing ---- */

static int split(const char *text, char *argv[], int max, const char **why)
{
	static char line[MGR_LINE_MAX];

	snprintf(line, sizeof(line), "%s", text);
	return proto_split(line, argv, max, why);
}

static void test_split_words(void **state)
{
	char *argv[8];
	const char *why = NULL;

	(void)state;
	assert_int_equal(split("  list  ", argv, 8, &why), 1);
	assert_string_equal(argv[0], "list");
	assert_int_equal(split("create vm1 \"/a dir/x.yaml\" -m 1G", argv, 8, &why), 5);
	assert_string_equal(argv[2], "/a dir/x.yaml");
	assert_string_equal(argv[4], "1G");
	assert_int_equal(split("a\"b c\"d \"q\\\"\\\\\"", argv, 8, &why), 2);
	assert_string_equal(argv[0], "ab cd");
	assert_string_equal(argv[1], "q\"\\");
	assert_int_equal(split("", argv, 8, &why), 0);
}

static void test_split_hostile(void **state)
{
	char *argv[4];
	const char *why = NULL;

	(void)state;
	assert_int_equal(split("create \"open", argv, 4, &why), -1);
	assert_string_equal(why, "unterminated quote");
	assert_int_equal(split("list\tx", argv, 4, &why), -1);
	assert_string_equal(why, "control character in request");
	assert_int_equal(split("a b c d e", argv, 4, &why), -1);
	assert_string_equal(why, "too many words");
	assert_int_equal(split("\"ends in backslash\\", argv, 4, &why), -1);
}

static int parse(const char *text, struct request *r, char *why)
{
	static char line[MGR_LINE_MAX];

	snprintf(line, sizeof(line), "%s", text);
	return proto_parse(line, r, why, 200);
}

static void test_parse_commands(void **state)
{
	struct request r;
	char why[200];

	(void)state;
	assert_int_equal(parse("list", &r, why), 0);
	assert_int_equal(r.cmd, CMD_LIST);
	assert_null(r.name);
	assert_int_equal(parse("create web /c.yaml -m 1G -smp 2", &r, why), 0);
	assert_int_equal(r.cmd, CMD_CREATE);
	assert_string_equal(r.name, "web");
	assert_string_equal(r.config, "/c.yaml");
	assert_int_equal(r.nextra, 4);
	assert_string_equal(r.extra[0], "-m");
	assert_string_equal(r.extra[3], "2");
	assert_int_equal(parse("wait web 5 output \"No bootable\"", &r, why), 0);
	assert_int_equal(r.wait, WAIT_OUTPUT);
	assert_int_equal(r.timeout_s, 5);
	assert_string_equal(r.text, "No bootable");
	assert_int_equal(parse("wait web 30 stopped", &r, why), 0);
	assert_int_equal(r.wait, WAIT_STOPPED);
	assert_int_equal(parse("destroy web", &r, why), 0);
	assert_int_equal(r.cmd, CMD_DESTROY);
	assert_int_equal(parse("shutdown", &r, why), 0);
}

static void test_parse_errors(void **state)
{
	struct request r;
	char why[200];

	(void)state;
	assert_int_equal(parse("", &r, why), -1);
	assert_string_equal(why, "empty request");
	assert_int_equal(parse("reboot web", &r, why), -1);
	assert_non_null(strstr(why, "unknown command 'reboot'"));
	assert_int_equal(parse("destroy", &r, why), -1);
	assert_string_equal(why, "usage: destroy NAME");
	assert_int_equal(parse("list extra", &r, why), -1);
	assert_int_equal(parse("create ../x c.yaml", &r, why), -1);
	assert_non_null(strstr(why, "bad VM name '../x'"));
	assert_int_equal(parse("wait web 0 stopped", &r, why), -1);
	assert_non_null(strstr(why, "bad timeout '0'"));
	assert_int_equal(parse("wait web 5x stopped", &r, why), -1);
	assert_int_equal(parse("wait web 5 running", &r, why), -1);
	assert_int_equal(parse("wait web 5 output", &r, why), -1);
	assert_int_equal(parse("wait web 5 stopped extra", &r, why), -1);
	assert_int_equal(parse("console \"unclosed", &r, why), -1);
	assert_non_null(strstr(why, "malformed request"));
}

/* What proto_quote writes, proto_split reads back word for word. */
static void test_quote_round_trip(void **state)
{
	const char *words[] = {"create", "my vm", "/p/\"q\"\\r.yaml", "plain", ""};
	char line[MGR_LINE_MAX] = "", *argv[8];
	const char *why;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(proto_quote(words[i], line, sizeof(line)), 0);
	assert_int_equal(proto_split(line, argv, 8, &why), 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(argv[i], words[i]);
}

static void test_quote_limits(void **state)
{
	char small[8] = "";

	(void)state;
	assert_int_equal(proto_quote("a\nb", small, sizeof(small)), -1);
	assert_int_equal(proto_quote("abcdef", small, sizeof(small)), 0);
	assert_int_equal(proto_quote("x", small, sizeof(small)), -1); /* "abcdef x" is 8 + NUL */
}

static void test_names(void **state)
{
	(void)state;
	assert_true(vm_name_valid("vm1"));
	assert_true(vm_name_valid("web-01.test_b"));
	assert_true(vm_name_valid("0"));
	assert_true(vm_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
	assert_false(vm_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(vm_name_valid(""));
	assert_false(vm_name_valid("-rf"));
	assert_false(vm_name_valid(".hidden"));
	assert_false(vm_name_valid("a/b"));
	assert_false(vm_name_valid("a b"));
	assert_false(vm_name_valid("caf\xc3\xa9"));
}

/* ---- detach keys ---- */

static int feed(struct detach_keys *k, unsigned char c, unsigned char out[2])
{
	return detach_feed(k, c, out);
}

static void test_detach_keys(void **state)
{
	struct detach_keys k = {0};
	unsigned char out[2];

	(void)state;
	assert_int_equal(feed(&k, 'x', out), 1);
	assert_int_equal(out[0], 'x');
	assert_int_equal(feed(&k, KEY_CTRL_RBRACKET, out), -1);
	assert_int_equal(feed(&k, KEY_CTRL_A, out), 0); /* held back */
	assert_int_equal(feed(&k, 'd', out), -1);
	assert_int_equal(feed(&k, KEY_CTRL_A, out), 0);
	assert_int_equal(feed(&k, 'x', out), 2); /* the VMM's own Ctrl-A x goes through */
	assert_int_equal(out[0], KEY_CTRL_A);
	assert_int_equal(out[1], 'x');
	assert_int_equal(feed(&k, KEY_CTRL_A, out), 0);
	assert_int_equal(feed(&k, KEY_CTRL_A, out), 2);
	assert_int_equal(feed(&k, 'd', out), 1); /* no Ctrl-A pending now: a plain d */
}

/* ---- the scrollback ---- */

/* The ring holds exactly TEXT, oldest byte first. */
static void assert_ring(const struct ring *r, const char *text)
{
	char out[64];

	assert_int_equal(ring_len(r), strlen(text));
	assert_int_equal(ring_copy(r, out, sizeof(out)), strlen(text));
	assert_memory_equal(out, text, strlen(text));
}

static void test_ring_fills(void **state)
{
	char store[8];
	struct ring r;

	(void)state;
	ring_init(&r, store, sizeof(store));
	assert_ring(&r, "");
	ring_write(&r, "abc", 3);
	assert_ring(&r, "abc");
	ring_write(&r, "defgh", 5); /* exactly full */
	assert_ring(&r, "abcdefgh");
}

static void test_ring_wraps(void **state)
{
	char store[8], out[3];
	struct ring r;

	(void)state;
	ring_init(&r, store, sizeof(store));
	ring_write(&r, "0123456", 7);
	ring_write(&r, "789ab", 5); /* wraps: keeps the newest 8 */
	assert_ring(&r, "456789ab");
	assert_int_equal(ring_copy(&r, out, sizeof(out)), 3); /* a short copy: the newest */
	assert_memory_equal(out, "9ab", 3);
	ring_write(&r, "ABCDEFGHIJKLMNOP", 16); /* larger than the ring */
	assert_ring(&r, "IJKLMNOP");
}

static void test_ring_contains(void **state)
{
	char store[8], scratch[8];
	struct ring r;

	(void)state;
	ring_init(&r, store, sizeof(store));
	ring_write(&r, "xxxxxSea", 8);
	ring_write(&r, "BIOS", 4); /* "SeaBIOS" straddles the wrap point */
	assert_true(ring_contains(&r, "SeaBIOS", scratch, sizeof(scratch)));
	assert_false(ring_contains(&r, "xxxxx", scratch, sizeof(scratch))); /* overwritten */
}

/* ---- the socket's directory: whose, and who may write to it ---- */

static void test_socket_dir_trust(void **state)
{
	(void)state;
	char top[] = "/tmp/mgr-unit-XXXXXX", sock[128], link[128], why[512];

	assert_non_null(mkdtemp(top));
	snprintf(sock, sizeof(sock), "%s/d/manager.sock", top);

	/* Missing: the CLI finds no manager (ENOENT); the manager makes it, mode 0700. */
	assert_int_equal(check_socket_dir(sock, why, sizeof(why)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(make_socket_dir(sock, why, sizeof(why)), 0);
	assert_int_equal(check_socket_dir(sock, why, sizeof(why)), 0);

	/* Writable by others: refused, whatever its owner. */
	snprintf(link, sizeof(link), "%s/d", top);
	chmod(link, 0777);
	assert_int_equal(check_socket_dir(sock, why, sizeof(why)), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(why, "writable by others"));
	chmod(link, 0755);
	assert_int_equal(check_socket_dir(sock, why, sizeof(why)), 0);

	/* Another user's (the tests run as root, which may give it away). */
	if (geteuid() == 0) {
		assert_int_equal(chown(link, 65534, 65534), 0);
		assert_int_equal(make_socket_dir(sock, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "belongs to uid 65534"));
		assert_int_equal(chown(link, 0, 0), 0);
	}

	/* A symbolic link in the directory's place is not followed. */
	snprintf(link, sizeof(link), "%s/l", top);
	snprintf(sock, sizeof(sock), "%s/d", top);
	assert_int_equal(symlink(sock, link), 0);
	snprintf(sock, sizeof(sock), "%s/l/manager.sock", top);
	assert_int_equal(check_socket_dir(sock, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a directory"));

	snprintf(why, sizeof(why), "rm -rf %s", top);
	assert_int_equal(system(why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_words),
	    cmocka_unit_test(test_split_hostile),
	    cmocka_unit_test(test_parse_commands),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_quote_round_trip),
	    cmocka_unit_test(test_quote_limits),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_detach_keys),
	    cmocka_unit_test(test_ring_fills),
	    cmocka_unit_test(test_ring_wraps),
	    cmocka_unit_test(test_ring_contains),
	    cmocka_unit_test(test_socket_dir_trust),
	};

	return cmocka_run_group_tests_name("stage5 manager", tests, NULL, NULL);
}
