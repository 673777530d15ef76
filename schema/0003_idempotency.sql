-- Idempotency keys of applied log-batch requests (libexptrack sends an
-- Idempotency-Key header with each one). A key is inserted in the same
-- transaction as the batch it guards, so a key is stored iff its batch is;
-- a repeat finds the key and is answered without being applied again.
-- Keys are kept at least 24 hours, then deleted by the write path.
CREATE TABLE idempotency_keys (
    key        text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
COMMENT ON INDEX idempotency_keys_created IS
    'cleanup: DELETE FROM idempotency_keys WHERE created_at < now() - interval ''24 hours''';
