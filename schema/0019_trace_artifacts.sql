-- Files of traces (mlflow-models-api.md 3.3): the proxy path
-- <experiment_id>/traces/<trace_id>/artifacts/<path> names them; clients
-- upload traces.json there. The same content-addressed blobs as run and
-- model files; gc keeps a blob while any of the three tables points at it.
-- The files go with their trace (delete-traces), unlike MLflow, which
-- leaves the trace's files in the artifact store.
CREATE TABLE trace_artifact_files (
    trace_id text NOT NULL REFERENCES traces ON DELETE CASCADE,
    path     text COLLATE "C" NOT NULL,
    blob_id  bigint NOT NULL REFERENCES artifact_blobs,
    size     bigint NOT NULL,
    created  bigint NOT NULL, -- milliseconds since the epoch
    PRIMARY KEY (trace_id, path)
);
COMMENT ON INDEX trace_artifact_files_pkey IS
    'download and stat by (trace, path); listing a directory as a key range';
CREATE INDEX trace_artifact_files_blob ON trace_artifact_files (blob_id);
COMMENT ON INDEX trace_artifact_files_blob IS 'gc: is a blob still referenced';
