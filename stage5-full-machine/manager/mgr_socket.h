/* SPDX-License-Identifier: MIT */
/*
 * mgr_socket.h - where the manager listens, shared by the manager and its CLI so that both
 * agree on the default without being told.
 */
#ifndef MANAGER_MGR_SOCKET_H
#define MANAGER_MGR_SOCKET_H

const char *default_socket_path(void);
int make_socket_dir(const char *path);
int connect_manager(const char *path);

#endif
