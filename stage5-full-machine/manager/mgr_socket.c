// SPDX-License-Identifier: MIT
/*
 * mgr_socket.c - the manager's unix socket: its default path, the trust checks on it, and
 * connecting to it.
 *
 * A unix socket is a file: who may manage the VMs is decided by the file's permissions, the
 * way it is for /dev/kvm itself. Three things make that hold against another local user:
 *   - the directory: whoever can write to it can rename our socket away and bind their own in
 *     its place, so a directory is used only when this user owns it and nobody else may write
 *     to it (a /tmp/minivisor-UID that someone else made first is refused, not adopted);
 *   - the socket file: created with mode 0600 (connect() needs write permission on it);
 *   - the peer: both ends ask the kernel who is on the other side (SO_PEERCRED) and talk only
 *     to their own user, so a mode changed by mistake still lets no one else in.
 */
#define _GNU_SOURCE
#include "mgr_socket.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * $MINIVISOR_SOCKET, else $XDG_RUNTIME_DIR/minivisor/manager.sock, else
 * ${TMPDIR:-/tmp}/minivisor-UID/manager.sock.
 */
const char *default_socket_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("MINIVISOR_SOCKET");
	const char *run = getenv("XDG_RUNTIME_DIR");
	const char *tmp = getenv("TMPDIR");

	if (env && *env)
		return env;
	if (run && *run)
		snprintf(path, sizeof(path), "%s/minivisor/manager.sock", run);
	else
		snprintf(path, sizeof(path), "%s/minivisor-%u/manager.sock",
			 tmp && *tmp ? tmp : "/tmp", (unsigned)geteuid());
	return path;
}

static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	errno = EPERM;
	return -1;
}

/* The directory part of PATH ("." when it has none). */
static void socket_dir_of(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
}

int check_socket_dir(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;

	socket_dir_of(path, dir, sizeof(dir));
	/* lstat: a symbolic link planted in the directory's place is not followed. */
	if (lstat(dir, &st) < 0) {
		int err = errno;
		refuse(why, len, "socket directory %s: %s", dir, strerror(err));
		errno = err; /* ENOENT: no such directory, so no manager either */
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return refuse(why, len, "socket directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return refuse(why, len,
			      "socket directory %s belongs to uid %u, not to this user (uid %u): "
			      "another user could replace the socket; remove it or choose -s",
			      dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(why, len,
			      "socket directory %s is writable by others (mode %03o): another "
			      "user could replace the socket; chmod go-w it or choose -s",
			      dir, (unsigned)(st.st_mode & 0777));
	return 0;
}

int make_socket_dir(const char *path, char *why, size_t len)
{
	char dir[PATH_MAX];

	socket_dir_of(path, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return refuse(why, len, "cannot create socket directory %s: %s", dir,
			      strerror(errno));
	return check_socket_dir(path, why, len);
}

int peer_uid(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t n = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) < 0)
		return -1;
	*uid = cred.uid;
	return 0;
}

/* A connected stream socket to the manager at PATH, or -1 with errno set. */
int connect_manager(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = errno;
		close(fd);
		errno = err; /* close() may have changed it */
		return -1;
	}
	return fd;
}
