-- Registry webhooks (mlflow-models-api.md section 5): subscriptions, the
-- events each one wants, and a transactional outbox of deliveries.
--
-- A registry change that fires an event inserts one outbox row per ACTIVE
-- webhook subscribed to it in the change's own transaction (see
-- server/registry/store_registry_journal.c), so a rolled-back change sends
-- nothing and a committed one is never lost. The delivery worker
-- (server/webhooks/delivery.c) takes due rows with FOR UPDATE SKIP LOCKED,
-- keeps the attempt count and next attempt time in the row, so retries
-- survive a restart, and keeps delivered and failed rows for inspection.

CREATE TABLE webhooks (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    url               text NOT NULL,
    -- write-only through the API; sealed (AES-256-GCM, secret_sealed) when
    -- the server has --webhook-secret-key-file, else as given (docs/security.md)
    secret            text NOT NULL DEFAULT '',
    secret_sealed     boolean NOT NULL DEFAULT false,
    status            text NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    creation_time     bigint NOT NULL,
    last_updated_time bigint NOT NULL,
    deleted_time      bigint
);
CREATE INDEX webhooks_live ON webhooks (creation_time DESC, id) WHERE deleted_time IS NULL;
COMMENT ON INDEX webhooks_live IS 'webhooks list: live webhooks, newest first';

-- The (entity, action) pairs a webhook wants, lowercase as in payloads
-- ("model_version", "created"); position keeps the order they were given.
CREATE TABLE webhook_events (
    webhook_id uuid NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    entity     text NOT NULL,
    action     text NOT NULL,
    position   integer NOT NULL,
    PRIMARY KEY (webhook_id, entity, action)
);
CREATE INDEX webhook_events_event ON webhook_events (entity, action);
COMMENT ON INDEX webhook_events_event IS 'enqueue: the webhooks subscribed to one event';

CREATE TABLE webhook_outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    uuid NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    entity        text NOT NULL,
    action        text NOT NULL,
    event_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
    payload       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt  timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status   integer,
    last_error    text,
    finished_time timestamptz
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt, id) WHERE state = 'pending';
COMMENT ON INDEX webhook_outbox_due IS 'delivery worker: the pending rows that are due';
