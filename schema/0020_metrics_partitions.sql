-- The points table, hash-partitioned by run (issue 20, point 5).
--
-- At billions of points one metrics table means one primary key of hundreds
-- of GB that every vacuum walks and every purge and index rebuild touches.
-- Sixteen partitions by hash of run_id keep each heap and index a sixteenth
-- of the whole, so autovacuum works on them one at a time and in parallel
-- workers, and nothing needs creating as data grows (no partition per range
-- to add ahead of time, no default partition to split).
--
-- Why the run, and why hash:
--   * every statement on metrics names its run (history reads, writes,
--     purge), so each one is pruned to the single partition that holds the
--     run's points;
--   * the run is the distribution column that a sharded PostgreSQL would use
--     (docs/scaling.md), so the partitions are the shape the shards take;
--   * run ids are a sequence, so range partitions would put every live run
--     in the newest partition and leave the old ones idle: hash spreads the
--     writes and the vacuum work evenly instead.
-- The primary key (which includes run_id, as a partitioned table's unique
-- keys must) keeps deduplicating re-sent points in each partition.
--
-- The autovacuum settings of 0007 move to each partition: a partitioned
-- table's own storage parameters do not reach its partitions.
ALTER TABLE metrics RENAME TO metrics_unpartitioned;
ALTER INDEX metrics_pkey RENAME TO metrics_unpartitioned_pkey;

CREATE TABLE metrics (
    run_id    bigint NOT NULL,
    key_id    integer NOT NULL,
    step      bigint NOT NULL,
    timestamp bigint NOT NULL,
    value     float8 NOT NULL,
    PRIMARY KEY (run_id, key_id, step, timestamp, value)
) PARTITION BY HASH (run_id);
COMMENT ON TABLE metrics IS
    'every logged point, in 16 partitions by hash of run_id (metrics_p00 .. metrics_p15)';
COMMENT ON INDEX metrics_pkey IS
    'dedup of identical points; get-history of one run and key in step order';

DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format(
            'CREATE TABLE metrics_p%s PARTITION OF metrics'
            ' FOR VALUES WITH (MODULUS 16, REMAINDER %s)'
            ' WITH (autovacuum_vacuum_insert_scale_factor = 0.01,'
            '       autovacuum_vacuum_insert_threshold = 100000,'
            '       autovacuum_analyze_scale_factor = 0.02)',
            lpad(i::text, 2, '0'), i);
    END LOOP;
END
$$;

INSERT INTO metrics SELECT run_id, key_id, step, timestamp, value FROM metrics_unpartitioned;
DROP TABLE metrics_unpartitioned;
