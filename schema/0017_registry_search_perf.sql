-- model-versions/search at 100,000 versions (tests/bench/registry.sh,
-- docs/benchmarks.md): the indexes its common shapes need.

-- The default order, spelled as the search renders it (DESC NULLS LAST,
-- ASC NULLS FIRST): 0010's model_versions_updated has the default null
-- placement, which the planner cannot use for this ORDER BY, so every
-- unfiltered page sorted all versions (400 ms at offset 98,000). Live
-- versions only, as every search asks, and (name, version) in the key, so
-- that the page's keys come from an index-only scan that skips the offset
-- without reading the table (store_registry_search.c).
CREATE INDEX model_versions_search_order
    ON model_versions (last_updated_time DESC NULLS LAST, name ASC NULLS FIRST,
                       version DESC NULLS LAST)
    WHERE current_stage <> 'Deleted_Internal';
DROP INDEX model_versions_updated;

-- filter "run_id = '...'" (and IN lists): the client's lookup of the
-- versions registered from one run. run_id is at most 32 characters.
CREATE INDEX model_versions_run_id ON model_versions (run_id);

-- A tag filter "tags.k = 'v'": values may be 100,000 characters, too long
-- for a b-tree entry, so a hash index on the value (equality only); the
-- key is checked on the rows it finds.
CREATE INDEX model_version_tags_value ON model_version_tags USING hash (value);

-- Every search that does not ask for prompts excludes the names of which
-- any version carries mlflow.prompt.is_prompt = 'true'; the primary key
-- (name, version, key) cannot find that tag without reading every tag of
-- the name, once per candidate row.
CREATE INDEX model_version_tags_prompt ON model_version_tags (name)
    WHERE key = 'mlflow.prompt.is_prompt' AND value = 'true';
