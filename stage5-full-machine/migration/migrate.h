/*
 * migrate.h - snapshot, restore and live migration of a running PC (the migration family).
 *
 * Teaches: how a VMM moves a running machine. The guest runs on while its RAM is copied
 * (pre-copy); KVM's dirty log says which pages it wrote meanwhile, and those go again, round
 * after round, until what is left fits the downtime budget; then the vCPUs stop, the last
 * pages and every device's state go, the destination says it has them, and it runs on.
 *
 *   minivisor ... -control SOCKET       a unix socket taking one request a connection:
 *        snapshot FILE                  pause, write the machine to FILE, resume
 *        migrate tcp:HOST:PORT [downtime=MS] [rounds=N]
 *                                       live migration; the source ends when it succeeded
 *      answered with progress lines, then one "ok ..." or "error: ..." line
 *   minivisor ... -incoming file:PATH   start from a snapshot (same command line and disks)
 *   minivisor ... -incoming tcp:HOST:PORT   wait for one migration, then run
 *
 * Disks are shared storage: both ends open the same image files. The destination opens them
 * without a lock and takes the lock only when the source, paused and flushed, has let go
 * (QEMU's inactive/active images); a failed migration gives the source its disks back and
 * its guest runs on.
 */
#ifndef MIGRATION_MIGRATE_H
#define MIGRATION_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

struct pc;
struct migration;

/* Open the -control socket and start its thread. 0 or a negative errno and why. */
int migration_control_open(struct pc *pc, const char *path, char *why, size_t why_len);
/* Stop the thread (a migration in flight fails) and remove the socket. NULL: nothing. */
void migration_control_close(struct migration *mig);

/*
 * pc_run's side, between machine runs: machine_run() ended with END_PAUSE, the vCPUs are
 * stopped. Waits while the migration thread works; true when the guest was handed over (the
 * VMM ends), false when it must resume.
 */
bool migration_paused(struct migration *mig);
/* The machine ended or is about to be rebuilt (reset): a migration in flight fails. */
void migration_machine_gone(struct migration *mig);

/*
 * -incoming URI: before the machine first runs, load it from a snapshot file or one TCP
 * migration. 0, or a negative errno with one line in why (the VMM exits 2; the guest has
 * not run).
 */
int migration_incoming(struct pc *pc, const char *uri, char *why, size_t why_len);

#endif
