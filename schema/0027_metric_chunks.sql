-- The points of finished runs, packed (issue 20: at most 22 bytes a point).
--
-- A live run writes narrow rows into metrics (one index entry per point,
-- 128 bytes with it). Once a run has ended, `exptrackd compact` or the
-- server's compaction worker (server/storage/) moves each of its series into
-- chunks of up to 4,096 points in (step, timestamp, value) order, in one
-- transaction: the narrow rows are deleted and the chunks inserted together.
-- A chunk keeps its values as a float8 array and its steps and timestamps as
-- offsets from the chunk's first step and lowest timestamp:
--   - soff and sraw both NULL: the chunk's steps are first_step,
--     first_step + 1, ..., last_step, one point each (the usual series), so
--     they take no space at all and a step range is an array slice;
--   - soff: step - first_step as int4 when last_step - first_step < 2^31;
--   - sraw: the steps themselves otherwise;
--   - toff: timestamp - t0 as int4 when the chunk's timestamps span less
--     than 2^31 ms (24 days); traw: the timestamps otherwise.
-- The arrays are TOASTed (a chunk row is ~50 KB) and compressed with
-- PostgreSQL's default method; offsets of steady timestamps compress to a
-- byte or two a point, and values stay 8 bytes (docs/benchmarks.md).
--
-- A point logged to a run after its series was compacted goes into metrics
-- as usual; the next compaction pass merges it into the series' chunks
-- (rebuilding them), dropping it if the chunks hold the same point already.
-- Readers read both through metric_points() below.
CREATE TABLE metric_chunks (
    run_id     bigint NOT NULL,
    key_id     integer NOT NULL,
    chunk      integer NOT NULL,
    first_step bigint NOT NULL,
    last_step  bigint NOT NULL,
    n          integer NOT NULL,
    t0         bigint NOT NULL,
    soff       integer[],
    sraw       bigint[],
    toff       integer[],
    traw       bigint[],
    vals       float8[] NOT NULL,
    PRIMARY KEY (run_id, key_id, chunk)
);
COMMENT ON TABLE metric_chunks IS
    'the points of compacted series, up to 4,096 a row in (step, timestamp, value) order';
COMMENT ON INDEX metric_chunks_pkey IS
    'a series'' chunks in order, for metric_points()';

-- Every point of series (run, key) with lo <= step <= hi, narrow rows and
-- chunks alike, in no particular order (callers sort). lim (NULL: no limit)
-- is the number of points a caller will read from the start of the range
-- (past its keyset at step lo), or with a minus sign from its end (the last
-- point at or before hi): only the chunks needed for that many are
-- unpacked, so a page of a compacted series, or its first or last step,
-- does not unpack the rest of it. Chunks whose steps are consecutive are
-- sliced to the range rather than unpacked whole. An SQL function the
-- planner inlines: its conditions reach the metrics primary key as before.
CREATE FUNCTION metric_points(bigint, integer, bigint, bigint, bigint)
RETURNS TABLE (step bigint, "timestamp" bigint, value float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT m.step, m.timestamp, m.value FROM metrics m
 WHERE m.run_id = $1 AND m.key_id = $2 AND m.step BETWEEN $3 AND $4
UNION ALL
SELECT coalesce(u.sr, c.first_step + coalesce(u.so, r.a + u.j - 2)),
       coalesce(u.tr, c.t0 + u.tof), u.v
  FROM (SELECT c.*, coalesce(sum(CASE WHEN c.first_step > $3 THEN c.n ELSE 0 END)
                 OVER (ORDER BY c.chunk ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                 AS before,
               coalesce(sum(CASE WHEN c.last_step < $4 THEN c.n ELSE 0 END)
                 OVER (ORDER BY c.chunk ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0)
                 AS behind
          FROM metric_chunks c
         WHERE c.run_id = $1 AND c.key_id = $2 AND c.last_step >= $3 AND c.first_step <= $4) c
 CROSS JOIN LATERAL (SELECT
        CASE WHEN c.soff IS NULL AND c.sraw IS NULL
             THEN (greatest($3, c.first_step) - c.first_step + 1)::integer ELSE 1 END AS a,
        CASE WHEN c.soff IS NULL AND c.sraw IS NULL
             THEN (least($4, c.last_step) - c.first_step + 1)::integer ELSE c.n END AS b) r
 CROSS JOIN LATERAL unnest(c.soff[r.a:r.b], c.sraw[r.a:r.b], c.toff[r.a:r.b], c.traw[r.a:r.b],
                           c.vals[r.a:r.b]) WITH ORDINALITY AS u(so, sr, tof, tr, v, j)
 WHERE ($5 IS NULL OR ($5 >= 0 AND c.before < $5) OR ($5 < 0 AND c.behind < -$5))
   AND coalesce(u.sr, c.first_step + coalesce(u.so, r.a + u.j - 2)) BETWEEN $3 AND $4
$$;
