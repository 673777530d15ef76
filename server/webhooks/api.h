/* Handlers of server/webhooks/: the six webhook endpoints
 * (mlflow-models-api.md 5.1), admin-only in the route table. Each decodes
 * and validates its input, calls the store (or, for test, sends once), and
 * encodes the reply; none writes SQL. */
#ifndef ET_SERVER_WEBHOOKS_API_H
#define ET_SERVER_WEBHOOKS_API_H

#include "routes.h"

/* POST /webhooks */
void api_webhooks_create(const struct request *req, struct reply *r);
/* GET /webhooks */
void api_webhooks_list(const struct request *req, struct reply *r);
/* GET /webhooks/{webhook_id} */
void api_webhooks_get(const struct request *req, struct reply *r);
/* PATCH /webhooks/{webhook_id} */
void api_webhooks_update(const struct request *req, struct reply *r);
/* DELETE /webhooks/{webhook_id} */
void api_webhooks_delete(const struct request *req, struct reply *r);
/* POST /webhooks/{webhook_id}/test */
void api_webhooks_test(const struct request *req, struct reply *r);

#endif
