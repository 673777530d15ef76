/* `exptrackd gc`: a one-shot garbage collection of artifact storage, run
 * from cron or by hand against the same database as the servers. */
#ifndef ET_SERVER_GC_H
#define ET_SERVER_GC_H

/* Runs the gc subcommand. argv[0] is "gc"; the other arguments are the
 * server's own flags (--database-url, --data-dir, ...; see --help), read
 * with their environment variables. EXPTRACK_GC_GRACE_SECONDS (3600) is how
 * long an upload's heartbeat may stay silent before its pending chunks are
 * removed. Prints what was removed; returns the process exit status. */
int gc_main(int argc, char **argv);

#endif
