-- The rest of each day's work beside its visits and first coverings (the day's
-- report): guided visits, people helped, dossiers filed online, walk-ins at the
-- counters, and accounts per kind, in the day rows themselves. A hamlet's are written
-- whole with its row; a commune's and a province's move by the same
-- INSERT … ON CONFLICT DO UPDATE arithmetic as their visits, in the same statement
-- (the accounts summed key by key), so a sync adds no statement for them.
ALTER TABLE coverage_days ADD COLUMN guided BIGINT NOT NULL DEFAULT 0, ADD COLUMN people BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkins BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_people BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkin_accounts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN accounts JSONB NOT NULL DEFAULT '{}';
ALTER TABLE commune_days ADD COLUMN guided BIGINT NOT NULL DEFAULT 0, ADD COLUMN people BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkins BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_people BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkin_accounts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN accounts JSONB NOT NULL DEFAULT '{}';
ALTER TABLE province_days ADD COLUMN guided BIGINT NOT NULL DEFAULT 0, ADD COLUMN people BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkins BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_people BIGINT NOT NULL DEFAULT 0, ADD COLUMN walkin_accounts BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN walkin_filed BIGINT NOT NULL DEFAULT 0, ADD COLUMN accounts JSONB NOT NULL DEFAULT '{}';
