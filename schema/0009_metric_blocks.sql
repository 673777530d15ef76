-- Step blocks of every metric series, for downsampling without reading every
-- point (issue 6: a million-point chart drawn in under a second).
--
-- One row per run, key and block of 256 consecutive steps (block = step >> 8,
-- a floor division, so negative steps fall into negative blocks): how many
-- points the block holds and its lowest and highest value, NaN left out
-- (NULL when every point in it is NaN). Every write of metric points updates
-- its blocks in the same transaction (store_metrics.c), counting only points
-- that were really inserted, so a block is always exact.
--
-- exptrack/metrics/history reads a series' point count as the sum of its
-- blocks, and a series whose buckets span at least 1,024 steps is cut on
-- block boundaries: each bucket's count, lowest and highest value come from
-- its blocks, and the lowest and highest point are then found by index
-- probes that start at the first block holding that value. A million
-- consecutive steps are 3,907 block rows instead of a million index entries.
--
-- No foreign key to runs, as for metrics: purging a run deletes its blocks
-- explicitly (store_purge.c).
CREATE TABLE metric_blocks (
    run_id bigint NOT NULL,
    key_id integer NOT NULL,
    block  bigint NOT NULL,
    n      bigint NOT NULL,
    vmin   float8,
    vmax   float8,
    PRIMARY KEY (run_id, key_id, block)
);
COMMENT ON TABLE metric_blocks IS
    'per run, key and 256-step block: point count and lowest/highest non-NaN value, for downsampling';

INSERT INTO metric_blocks (run_id, key_id, block, n, vmin, vmax)
SELECT run_id, key_id, step >> 8, count(*),
       min(value) FILTER (WHERE value <> 'NaN'), max(value) FILTER (WHERE value <> 'NaN')
FROM metrics
GROUP BY 1, 2, 3;
