/* The self-managed PostgreSQL cluster used when no --database-url is given:
 * creates it under the data dir with the machine's initdb, starts it on a Unix
 * socket inside the data dir (no TCP port), stops it on shutdown. Runs the
 * postmaster as an unprivileged user when exptrackd runs as root. It does not
 * apply migrations or open connections for the server; db.c does that. */
#ifndef ET_SERVER_PG_EMBEDDED_H
#define ET_SERVER_PG_EMBEDDED_H

/* Makes sure a cluster exists under data_dir (creating data_dir if needed),
 * recovers from whatever a crash left (a live orphan postmaster of this
 * cluster, a stale postmaster.pid), starts the postmaster and waits until it
 * accepts connections. On success stores a libpq conninfo string (malloc'd,
 * caller frees) in *conninfo and returns 0; on failure logs why and returns -1.
 *
 * Layout: <data_dir>/pg is the cluster (or, when exptrackd runs as root and
 * the PostgreSQL user cannot traverse data_dir's parents, a symlink to
 * /var/lib/exptrack/<hash>/pg); pg.log and the socket dir run/ sit next to
 * the cluster (the socket falls back to /tmp/exptrack-<hash> if that path is
 * too long for a Unix socket). <data_dir>/exptrack.lock is flock'ed until
 * pg_embedded_stop, so a second exptrackd on the same data dir fails here.
 *
 * Call it once, before starting other threads if possible, and from a thread
 * that lives until shutdown: the postmaster gets SIGINT (fast shutdown) when
 * that thread dies, which is how a kill -9 of exptrackd stops it. */
int pg_embedded_start(const char *data_dir, char **conninfo);

/* Stops the postmaster started by pg_embedded_start (fast shutdown, waits for
 * it; escalates to SIGQUIT and SIGKILL after 60 s and 10 s) and releases the
 * data dir lock. Safe to call when nothing was started, and more than once.
 * Not async-signal-safe: call it from the shutdown path, not a handler. */
void pg_embedded_stop(void);

#endif
