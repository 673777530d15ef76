/* The database's health as the operator's endpoints (/health, /ready) ask
 * for it, so that they need neither libpq nor db.h. */
#ifndef ET_SERVER_STORE_HEALTH_H
#define ET_SERVER_STORE_HEALTH_H

/* Whether the database answers a trivial query on the calling thread's
 * connection (opened if needed). Returns 1 when it does, 0 when it does not
 * (unreachable, timed out, failed). Never sets a reply. */
int store_health_ok(void);

#endif
