-- Span attributes and events stored before 0023 read back in the form of
-- fresh ones (issue 16). 0023 turned the jsonb columns into text with
-- jsonb's own output, which differs from what exptrackd writes since then
-- (jansson's compact text) in one way the readers do not smooth over:
-- numbers. exptrackd writes a real with 17 significant digits, with an
-- exponent outside 1e-4 .. 1e17 ("1.0000000000000001e300",
-- "-2.5000000000000002e-10"); jsonb had kept the exact decimal of that
-- text and prints it without exponent (301 digits; "-0.00000000025000000000
-- 000002"). Both are the same double, but traces/get, batchGet and
-- traces.json copy number text as it is stored, so a span stored before
-- 0023 read differently from the same span stored after it
-- (tests/api/traces_span_text_migration.test.mjs). This rewrites such rows
-- in exptrackd's form: compact, keys in jsonb's order (as before), reals
-- with an exponent where %.17g would use one.
--
-- Rows stored before 0023 are told apart by jsonb's separator: its text
-- has '": ' after every key, exptrackd's compact text never does. Only
-- those with a run of 18 digits or a "0.0000" (the shapes of a number that
-- jsonb printed out of exponent form) are rewritten. Lost to jsonb before
-- this migration and not recovered: the sign of -0.0 (jsonb has no
-- negative zero) and whether an integral number that fits in int64 (such
-- as 1e18) was a real (it reads back as an int_value, as it did before
-- 0023).

-- jsonb's text of one number -> exptrackd's.
CREATE FUNCTION pg_temp.span_number_0030(t text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    neg boolean := left(t, 1) = '-';
    body text := ltrim(t, '-');
    int_part text := split_part(body, '.', 1);
    frac text := split_part(body, '.', 2);
    digits text;
    e integer;
BEGIN
    IF strpos(body, '.') = 0 AND t::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
        RETURN t; -- an integer: jsonb printed it as it was given
    END IF;
    IF ltrim(int_part, '0') <> '' THEN
        int_part := ltrim(int_part, '0');
        e := length(int_part) - 1;
        digits := int_part || frac;
    ELSIF ltrim(frac, '0') <> '' THEN
        e := -(length(frac) - length(ltrim(frac, '0')) + 1);
        digits := ltrim(frac, '0');
    ELSE
        RETURN t; -- zero
    END IF;
    IF e >= -4 AND e < 17 THEN
        RETURN t; -- %.17g writes no exponent: jsonb kept the text as given
    END IF;
    digits := rtrim(digits, '0');
    RETURN CASE WHEN neg THEN '-' ELSE '' END || left(digits, 1)
        || CASE WHEN length(digits) > 1 THEN '.' || substr(digits, 2) ELSE '' END
        || 'e' || e::text;
END
$$;

-- A jsonb value as exptrackd's compact text.
CREATE FUNCTION pg_temp.span_json_0030(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(to_jsonb(m.key)::text || ':'
                                                  || pg_temp.span_json_0030(m.value), ',' ORDER BY m.n)
                                FROM jsonb_each(j) WITH ORDINALITY AS m(key, value, n)), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(pg_temp.span_json_0030(a.value), ',' ORDER BY a.n)
                                FROM jsonb_array_elements(j) WITH ORDINALITY AS a(value, n)), '') || ']';
    WHEN 'number' THEN
        RETURN pg_temp.span_number_0030(j::text);
    ELSE
        RETURN j::text;
    END CASE;
END
$$;

UPDATE trace_spans
SET attributes = pg_temp.span_json_0030(attributes::jsonb)
WHERE attributes ~ '^\{"([^"\\]|\\.)*": ' AND attributes ~ '[0-9]{18}|0\.0000';

UPDATE trace_spans
SET events = pg_temp.span_json_0030(events::jsonb)
WHERE events ~ '^\[\{"([^"\\]|\\.)*": ' AND events ~ '[0-9]{18}|0\.0000';

DROP FUNCTION pg_temp.span_json_0030(jsonb);
DROP FUNCTION pg_temp.span_number_0030(text);
