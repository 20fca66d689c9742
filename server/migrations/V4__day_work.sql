-- The rest of each day's work beside its visits and first coverings (the day's
-- report): one row per figure ('guided', 'people', 'filed', 'account:<kind>') of one
-- day of one owner in one of the day tables (`scope`: coverage_days, commune_days or
-- province_days). Communes' and provinces' rows move by the same
-- INSERT … ON CONFLICT DO UPDATE arithmetic as their day rows.
CREATE TABLE day_work (
    scope TEXT NOT NULL, owner TEXT NOT NULL, day TEXT NOT NULL, figure TEXT NOT NULL, n BIGINT NOT NULL,
    PRIMARY KEY (scope, owner, day, figure));
