-- Metric history reads at a million points per series.
--
-- No new index: every history read is served by metrics_pkey
-- (run_id, key_id, step, timestamp, value), index-only:
--   * get-history of a whole series: keyset pages, each an ordered range scan
--     that starts where the last page stopped;
--   * exptrack/metrics/history (downsample): first and last step by two
--     probes, one aggregate per step bucket over an index range, then at most
--     four probes per bucket;
--   * get-history-bulk-interval: the distinct steps of one run straight off
--     the index in order, then one probe per sampled step and run.
-- A second index on (run_id, key_id, value) would only serve the min/max
-- probes, which already read one bucket's range, and would cost every write.
--
-- What the reads do need is a visibility map and statistics that keep up
-- with bulk loads. metrics is insert-mostly: by default autovacuum visits it
-- after 20% new rows (autovacuum_vacuum_insert_scale_factor) and analyzes it
-- after 10%, so on a table of 100M points a freshly logged million-point
-- series is read before its pages are all-visible (an index-only scan then
-- fetches every heap tuple, and the first reader also sets every hint bit).
-- Visiting after 1% (plus a fixed 100,000 rows) spreads the same vacuum work
-- (only pages not yet all-visible are read) in smaller, earlier steps;
-- ANALYZE samples a fixed 30,000 rows whatever the size, so analyzing after
-- 2% is cheap. The read statements do not depend on these statistics for
-- their plans (they run with sorts disabled, which leaves the ordered primary
-- key scans as the only plans), so a table never analyzed yet reads at the
-- same speed, only with heap fetches until autovacuum has set the
-- visibility map.
ALTER TABLE metrics SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_analyze_scale_factor = 0.02
);
