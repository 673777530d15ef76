-- Artifacts stored in PostgreSQL: content-addressed blobs cut into fixed-size
-- bytea chunks, shared by every file with the same bytes, and a per-run table
-- of files that point at them. Written by server/store_artifact_*.c.

-- A blob is the bytes of one or more files, named by their SHA-256. While an
-- upload is in flight its blob is "pending": sha256 is NULL, the chunks are
-- written under the blob's id, and heartbeat moves on with every chunk. The
-- upload's last transaction either names it (sha256 set) or, when a blob with
-- the same hash exists, deletes it and links the file to that one instead.
-- Pending blobs whose heartbeat stopped (a crashed server) are removed by gc.
CREATE TABLE artifact_blobs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256     bytea UNIQUE CHECK (length(sha256) = 32),
    size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    chunk_size integer NOT NULL CHECK (chunk_size > 0),
    created    timestamptz NOT NULL DEFAULT now(),
    heartbeat  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifact_blobs_pending ON artifact_blobs (heartbeat) WHERE sha256 IS NULL;
COMMENT ON INDEX artifact_blobs_pending IS 'gc: pending uploads whose heartbeat stopped';

-- Chunk seq covers bytes [seq * chunk_size, (seq + 1) * chunk_size) of its blob.
CREATE TABLE artifact_chunks (
    blob_id bigint NOT NULL REFERENCES artifact_blobs ON DELETE CASCADE,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
-- Artifacts are mostly compressed already (models, images, archives): store
-- them out of line without trying to compress them.
ALTER TABLE artifact_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- A run's files. Directories are implicit: the prefixes of file paths. Paths
-- compare bytewise (COLLATE "C") so a directory is the key range
-- ['dir/', 'dir0') and listings sort like MLflow's. A permanent deletion of a
-- run takes its files along; gc then removes the blobs nothing points at.
CREATE TABLE artifact_files (
    run_id  bigint NOT NULL REFERENCES runs ON DELETE CASCADE,
    path    text COLLATE "C" NOT NULL,
    blob_id bigint NOT NULL REFERENCES artifact_blobs,
    size    bigint NOT NULL,
    created bigint NOT NULL, -- milliseconds since the epoch
    PRIMARY KEY (run_id, path)
);
COMMENT ON INDEX artifact_files_pkey IS
    'download and stat by (run, path); listing and deleting a directory as a key range';
CREATE INDEX artifact_files_blob ON artifact_files (blob_id);
COMMENT ON INDEX artifact_files_blob IS 'gc and dedup: is a blob still referenced';
