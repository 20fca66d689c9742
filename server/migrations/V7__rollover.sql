-- Hamlet logs rolled over to a successor at the end of a campaign: each old log saved
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
