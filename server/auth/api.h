/* Handlers of server/auth/: users, permissions, tokens, sessions, audit. */
#ifndef ET_SERVER_AUTH_API_H
#define ET_SERVER_AUTH_API_H

#include "routes.h"

/* api_auth.c: MLflow's user and experiment-permission API (mlflow-api.md
 * section 12), the token extension (exptrack/tokens/create|revoke|list: a
 * token is shown once), the audit log (admins) and the route table with each
 * route's permission rule (exptrack/routes, for the authorization tests). */
void api_users_create(const struct request *req, struct reply *r);
void api_users_get(const struct request *req, struct reply *r);
void api_users_update_password(const struct request *req, struct reply *r);
void api_users_update_admin(const struct request *req, struct reply *r);
void api_users_delete(const struct request *req, struct reply *r);
void api_permissions_create(const struct request *req, struct reply *r);
void api_permissions_get(const struct request *req, struct reply *r);
void api_permissions_update(const struct request *req, struct reply *r);
void api_permissions_delete(const struct request *req, struct reply *r);
/* registered-models/permissions/{create,get,update,delete} {name, username,
 * permission}: MANAGE on the model (mlflow-models-api.md 6.1). */
void api_model_permissions_create(const struct request *req, struct reply *r);
void api_model_permissions_get(const struct request *req, struct reply *r);
void api_model_permissions_update(const struct request *req, struct reply *r);
void api_model_permissions_delete(const struct request *req, struct reply *r);
void api_tokens_create(const struct request *req, struct reply *r);
void api_tokens_revoke(const struct request *req, struct reply *r);
void api_tokens_list(const struct request *req, struct reply *r);
void api_audit_list(const struct request *req, struct reply *r);
void api_routes_list(const struct request *req, struct reply *r);
/* The dashboard's sign-in: GET /signin (the page), POST exptrack/session/login
 * {username, password} (sets the session and CSRF cookies), and
 * POST exptrack/session/logout (clears them). */
void api_signin_page(const struct request *req, struct reply *r);
void api_session_login(const struct request *req, struct reply *r);
void api_session_logout(const struct request *req, struct reply *r);
/* GET exptrack/users/current: who the request's sender is, for the dashboard
 * (its name on the feedback it records). {"authentication": true, "user":
 * {"username", "is_admin"}} with --auth; {"authentication": false} without
 * (every request is anonymous then). Takes no parameters. */
void api_users_current(const struct request *req, struct reply *r);

#endif
