-- Search pages of 1,000 runs (issue 21): the latest metrics' primary key
-- carries their step, timestamp and value, so that what a search reads of
-- latest_metrics by (run_id, key_id) comes from the index alone: a metric
-- filter's probe of each candidate run (metrics.m3 > 0.1 walking the order's
-- index) and the page's load of every run's latest values, without a heap
-- fetch per run and key once the pages are all-visible. No index is added:
-- the key stays (run_id, key_id), ON CONFLICT (run_id, key_id) still finds
-- it, and since latest_metrics_key_value (0002) indexes the value, an
-- update that changes it was never a HOT one anyway.
ALTER TABLE latest_metrics
    DROP CONSTRAINT latest_metrics_pkey,
    ADD CONSTRAINT latest_metrics_pkey PRIMARY KEY (run_id, key_id) INCLUDE (step, timestamp, value);
