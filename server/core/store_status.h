/* The outcome codes of the store layer: what db.c and every store_* function
 * return, and what the api layer turns into the wire's errors
 * (reply_store.h). Here in core/ so that auth and every domain share one
 * mapping without including db/. */
#ifndef ET_SERVER_STORE_STATUS_H
#define ET_SERVER_STORE_STATUS_H

/* Outcome of a database call, mapped by api code onto the wire's errors. */
enum db_status {
    DB_OK = 0,
    DB_NOT_FOUND = -1,   /* the row the caller asked about does not exist */
    DB_EXISTS = -2,      /* unique violation */
    DB_INVALID = -3,     /* the data broke a constraint (value too long, bad reference) */
    DB_UNAVAILABLE = -4, /* no connection, or it broke: retry later (503) */
    DB_TIMEOUT = -5,     /* statement timeout */
    DB_ERROR = -6,       /* anything else; logged with its SQLSTATE */
    DB_RETRY = -7,       /* serialization failure or deadlock: run the transaction again */
    DB_STATE = -8,       /* the row exists but is deleted (or, for a restore, not deleted) */
    DB_DISK_FULL = -9,   /* the database ran out of disk space (SQLSTATE 53100, or a
                          * relation that cannot grow): nothing was written (507) */
};

#endif
