/* SPDX-License-Identifier: MIT */
/*
 * mgr_socket.h - where the manager listens, shared by the manager and its CLI so that both
 * agree on the default without being told, and the checks that keep other users out.
 */
#ifndef MANAGER_MGR_SOCKET_H
#define MANAGER_MGR_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

const char *default_socket_path(void);

/*
 * The socket's directory may be used only when this user owns it and nobody else can write
 * to it. 0, or -1 with one line in WHY naming the directory and errno set (EPERM: refused;
 * ENOENT: no such directory). make_socket_dir creates it (0700) first when it does not exist.
 */
int check_socket_dir(const char *path, char *why, size_t len);
int make_socket_dir(const char *path, char *why, size_t len);

/* The user on the other end of a connected unix socket (SO_PEERCRED). 0, or -1 with errno. */
int peer_uid(int fd, uid_t *uid);

int connect_manager(const char *path);

#endif
