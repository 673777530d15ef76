-- The points of a step block that the downsample serves (issue 17: the
-- experiment chart view ready in under 1.5 s).
--
-- A bucket of the downsample made of whole 256-step blocks serves four
-- points: its first and last point and the first point at its lowest and
-- its highest non-NaN value. With only each block's lowest and highest value
-- kept (schema/0009), the lowest and highest points were found by walking
-- the metrics primary key through the block that holds the value, up to 256
-- index entries a probe (1.27 ms a bucket, cold). Each block now also keeps
-- those four points, so such a bucket is answered from its block rows alone:
--   - vmin/vmax stay the lowest and highest non-NaN value; min_step/min_ts
--     and max_step/max_ts are the point that carries it: of the points at
--     that value (-0 and 0 are equal), the one first by (step, timestamp).
--     vmin and vmax are now that point's own value (the sign of a zero
--     included). All four NULL, with vmin and vmax, in a block of NaN only.
--   - first_* and last_* are the block's first and last point in the
--     primary key's order (step, timestamp, value; NaN above every number).
-- Every write that raises a block raises these with it (store_metrics_sql.h):
-- a point replaces the kept one only when it comes first in these orders, so
-- a block filled by several requests, in any order, ends the same.
--
-- The blocks are rebuilt from metrics in one statement: one scan of metrics
-- and a sort by (run, key, block), with metric_blocks locked against writes
-- for that time (9,000,000 points took 45 s on a loaded 2-core machine:
-- docs/benchmarks.md, "Experiment chart view, round 3"). Adding the columns
-- alone is a catalog change.
ALTER TABLE metric_blocks
    ADD COLUMN min_step    bigint,
    ADD COLUMN min_ts      bigint,
    ADD COLUMN max_step    bigint,
    ADD COLUMN max_ts      bigint,
    ADD COLUMN first_step  bigint,
    ADD COLUMN first_ts    bigint,
    ADD COLUMN first_value float8,
    ADD COLUMN last_step   bigint,
    ADD COLUMN last_ts     bigint,
    ADD COLUMN last_value  float8;

-- The extremes are picked with min() and max() of float8 arrays, which
-- compare element by element (NaN above every number): a step within its
-- block (0..255) and a timestamp cut into two 32-bit halves are exact in a
-- float8, and so is every value. Negating the step and timestamp parts
-- makes max() prefer the earliest point of the highest value.
DELETE FROM metric_blocks;
INSERT INTO metric_blocks (run_id, key_id, block, n, vmin, vmax, min_step, min_ts,
                           max_step, max_ts, first_step, first_ts, first_value,
                           last_step, last_ts, last_value)
SELECT run_id, key_id, block, n, lo[1], hi[1],
       (block << 8) + lo[2]::bigint, (lo[3]::bigint << 32) + lo[4]::bigint,
       (block << 8) + (-hi[2])::bigint, ((-hi[3])::bigint << 32) + (-hi[4])::bigint,
       (block << 8) + f[1]::bigint, (f[2]::bigint << 32) + f[3]::bigint, f[4],
       (block << 8) + l[1]::bigint, (l[2]::bigint << 32) + l[3]::bigint, l[4]
FROM (SELECT run_id, key_id, step >> 8 AS block, count(*) AS n,
             min(ARRAY[value, (step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS lo,
             max(ARRAY[value, -(step & 255)::float8, -(timestamp >> 32)::float8,
                       -(timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS hi,
             min(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8, value]) AS f,
             max(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,
                       (timestamp & 4294967295)::float8, value]) AS l
      FROM metrics GROUP BY 1, 2, 3) g;

ALTER TABLE metric_blocks
    ALTER COLUMN first_step SET NOT NULL,
    ALTER COLUMN first_ts SET NOT NULL,
    ALTER COLUMN first_value SET NOT NULL,
    ALTER COLUMN last_step SET NOT NULL,
    ALTER COLUMN last_ts SET NOT NULL,
    ALTER COLUMN last_value SET NOT NULL;

COMMENT ON TABLE metric_blocks IS
    'per run, key and 256-step block: point count, lowest/highest non-NaN value and the points'
    ' that carry them, first and last point, for downsampling';
