-- Migration 9: every run has a UUID besides its integer id.  The integer id
-- is local to one store (two stores trained apart both have a run 1); the
-- UUID names the run everywhere, so that bin/merge can copy runs from
-- several stores into one, recognise a run it has already copied (merging
-- a store twice adds nothing) and refuse a run whose content differs under
-- the same UUID.  New runs get a random (version 4) UUID from the operating
-- system's random source when they are created (store_create_run); the
-- runs already in a store get one here, from SQLite's randomblob() (itself
-- seeded from the operating system).  Lower-case text, 8-4-4-4-12 hex digits.
ALTER TABLE runs ADD COLUMN uuid TEXT;

UPDATE runs SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
                             substr(hex(randomblob(2)), 2) || '-' ||
                             substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' ||
                             hex(randomblob(6)));

CREATE UNIQUE INDEX runs_uuid ON runs(uuid);
