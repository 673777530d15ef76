/* The database check behind /health and /ready (store_health.h). */
#include "store_health.h"

#include "db.h"

int store_health_ok(void)
{
    return db_ping() == DB_OK;
}
