// SPDX-License-Identifier: MIT
/*
 * mgr_socket.c - the manager's unix socket: its default path and connecting to it.
 *
 * A unix socket is a file: who may manage the VMs is decided by the file's permissions, the
 * way it is for /dev/kvm itself. The default lives in the user's private runtime directory.
 */
#define _GNU_SOURCE
#include "mgr_socket.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* $MINIVISOR_SOCKET, else $XDG_RUNTIME_DIR/minivisor/manager.sock, else /tmp/minivisor-UID/. */
const char *default_socket_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("MINIVISOR_SOCKET");
	const char *run = getenv("XDG_RUNTIME_DIR");

	if (env && *env)
		return env;
	if (run && *run)
		snprintf(path, sizeof(path), "%s/minivisor/manager.sock", run);
	else
		snprintf(path, sizeof(path), "/tmp/minivisor-%u/manager.sock", (unsigned)getuid());
	return path;
}

/* Create the socket's directory (one level), private to this user. */
int make_socket_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
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
