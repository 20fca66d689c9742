-- Campaigns, and hamlet logs rolled over to a successor at the end of one: each old log saved
-- whole under its generation, and each hamlet's history (the visits and walk-ins of
-- its old logs, notes left out; client-core `History`, as JSON) for all-time figures.
CREATE TABLE archived_logs (
    hamlet TEXT NOT NULL,
    generation BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (hamlet, generation)
);
CREATE TABLE hamlet_history (
    hamlet TEXT PRIMARY KEY,
    history TEXT NOT NULL
);
-- A commune's campaigns (đợt, chiến dịch), numbered from 1 (`records::Campaign`).
CREATE TABLE campaigns (
    commune TEXT NOT NULL,
    number BIGINT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (commune, number)
);
