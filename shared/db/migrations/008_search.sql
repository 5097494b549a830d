-- compatible: yes (extensions, a function and an index)
-- Search: every word must match, in any field or in the recorded year and
-- month ("lantern 2003", "paradiso march"), accents ignored ("koln" finds
-- "Köln"), small typos forgiven. One normalised document per recording,
-- lower-cased and unaccented, indexed with trigrams: a word matches as a
-- substring or by word similarity, both served by the index.
--
-- The extensions live in a schema of their own, so that they are shared
-- by every schema of the database (the tests give each test one) and no
-- schema's drop takes them along; the lock orders concurrent migrations.
SELECT pg_advisory_xact_lock(hashtext('bandarchive:extensions'));
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;

-- Normalises text for search. unaccent is only STABLE (its dictionary could
-- change); the archive never changes it, which makes this IMMUTABLE and so
-- usable in an index.
CREATE FUNCTION search_normalise(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(extensions.unaccent('extensions.unaccent'::regdictionary, t)) $$;

-- The document names only what pg_restore, which empties search_path, still
-- finds: pg_catalog's functions and the extensions schema's.
CREATE FUNCTION recording_search_document(title text, venue text, source text, notes text,
        filename text, recorded date) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower(extensions.unaccent('extensions.unaccent'::regdictionary, concat_ws(' ',
        title, venue, source, notes, filename,
        extract(year FROM recorded)::int::text,
        (ARRAY['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august',
               'september', 'october', 'november', 'december'])[extract(month FROM recorded)::int]))) $$;

CREATE INDEX recordings_search_idx ON recordings USING gin
    (recording_search_document(title, venue, source, notes, original_filename, recorded_date) extensions.gin_trgm_ops);
