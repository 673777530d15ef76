/* Applies the schema migrations compiled into the binary (schema/NNNN_*.sql),
 * in order, each in its own transaction, recorded in schema_migrations.
 * A session advisory lock serializes concurrent starts on one database. */
#ifndef ET_SERVER_STORE_SCHEMA_H
#define ET_SERVER_STORE_SCHEMA_H

/* Brings the database on the calling thread's connection up to date. Returns
 * 0 when every migration is applied (now or before), -1 (logged) otherwise. */
int store_schema_migrate(void);

#endif
