-- Authentication and authorization: users with salted slow password hashes,
-- bearer tokens stored only as their SHA-256, per-experiment permissions as
-- MLflow's basic-auth app defines them, and an audit log of changes.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 255),
    -- "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>"
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    created_time  bigint NOT NULL
);

CREATE TABLE experiment_permissions (
    experiment_id bigint NOT NULL REFERENCES experiments ON DELETE CASCADE,
    user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    permission    text NOT NULL
                  CHECK (permission IN ('READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')),
    PRIMARY KEY (experiment_id, user_id)
);
CREATE INDEX experiment_permissions_user ON experiment_permissions (user_id);
COMMENT ON INDEX experiment_permissions_user IS
    'users/get: the experiment permissions of one user';

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    name         text NOT NULL DEFAULT '',
    created_time bigint NOT NULL,
    revoked_time bigint
);
COMMENT ON INDEX api_tokens_token_sha256_key IS
    'bearer authentication: the token row by the SHA-256 of the presented token';

CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time      bigint NOT NULL,
    username  text NOT NULL, -- '' for anonymous (authentication off)
    action    text NOT NULL, -- "POST /api/2.0/mlflow/users/create"
    target    text NOT NULL DEFAULT '',
    status    integer NOT NULL
);

-- Server-wide secrets shared by every exptrackd on this database (the key
-- that signs dashboard session cookies), created by the first one to start.
CREATE TABLE auth_secrets (
    name   text PRIMARY KEY,
    secret bytea NOT NULL CHECK (length(secret) >= 32)
);
