-- Each household's key (client-core `sealed`), numbered within its hamlet by `seq`,
-- the event number devices ask after. A deleted row's bytes stay in the table's file
-- as a dead tuple until VACUUM FULL rewrites the table (`compact_erased`).
CREATE TABLE household_keys (
    hamlet TEXT NOT NULL,
    household TEXT NOT NULL,
    key BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (hamlet, household)
);
-- Households whose personal data was erased: their key is gone; the event number
-- tells devices to delete theirs.
CREATE TABLE erased_households (
    hamlet TEXT NOT NULL,
    household TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (hamlet, household)
);
