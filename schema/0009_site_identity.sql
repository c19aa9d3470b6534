-- The site's id in Home Assistant (unique ids, entity ids, the device): fixed at the first start
-- that has this table, from site.name as it was then, so that an install's entities keep the ids
-- they had before; a later rename of the site changes its name in Home Assistant, never its ids.
CREATE TABLE site_identity (
  singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
  site_id    TEXT NOT NULL CHECK (length(site_id) BETWEEN 1 AND 64 AND site_id NOT GLOB '*[^a-z0-9_]*'),
  named_from TEXT NOT NULL,                            -- site.name when the id was fixed
  fixed_at   TEXT NOT NULL                             -- UTC, ISO 8601
) STRICT;
