-- Files of logged models (mlflow-models-api.md 2.6): the proxy path
-- <experiment_id>/models/<model_id>/artifacts/<path> names them. The same
-- content-addressed blobs as run files (0004_artifacts.sql), so a file a run
-- and a model both hold is stored once; gc keeps a blob while either table
-- points at it. Directories are implicit, paths compare bytewise, as there.
CREATE TABLE logged_model_artifact_files (
    model_id text NOT NULL REFERENCES logged_models ON DELETE CASCADE,
    path     text COLLATE "C" NOT NULL,
    blob_id  bigint NOT NULL REFERENCES artifact_blobs,
    size     bigint NOT NULL,
    created  bigint NOT NULL, -- milliseconds since the epoch
    PRIMARY KEY (model_id, path)
);
COMMENT ON INDEX logged_model_artifact_files_pkey IS
    'download and stat by (model, path); listing and deleting a directory as a key range';
CREATE INDEX logged_model_artifact_files_blob ON logged_model_artifact_files (blob_id);
COMMENT ON INDEX logged_model_artifact_files_blob IS 'gc: is a blob still referenced';
