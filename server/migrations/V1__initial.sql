-- The server's records, hamlet logs and figures on PostgreSQL (store/postgres.rs).
-- Records are JSON text beside the columns their scoped reads and locks need; plain
-- SQL only (no extensions), so PostgreSQL-compatible distributed databases take it.

CREATE TABLE provinces (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE communes (id TEXT PRIMARY KEY, province TEXT, record TEXT NOT NULL);
CREATE INDEX communes_by_province ON communes (province, id);
CREATE TABLE commune_totals (commune TEXT PRIMARY KEY, totals TEXT NOT NULL);
CREATE TABLE commune_days (
    commune TEXT NOT NULL, day TEXT NOT NULL, visits BIGINT NOT NULL, covered BIGINT NOT NULL,
    PRIMARY KEY (commune, day));
CREATE TABLE province_days (
    province TEXT NOT NULL, day TEXT NOT NULL, visits BIGINT NOT NULL, covered BIGINT NOT NULL,
    PRIMARY KEY (province, day));
CREATE TABLE hamlets (id TEXT PRIMARY KEY, commune TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX hamlets_by_commune ON hamlets (commune, id);

CREATE TABLE users (id TEXT PRIMARY KEY, commune TEXT, record TEXT NOT NULL);
CREATE INDEX users_by_commune ON users (commune, id);
CREATE TABLE assignments (user_id TEXT NOT NULL, hamlet TEXT NOT NULL, PRIMARY KEY (user_id, hamlet));
CREATE INDEX assignments_by_hamlet ON assignments (hamlet, user_id);

CREATE TABLE teams (id TEXT PRIMARY KEY, commune TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX teams_by_commune ON teams (commune, id);
CREATE TABLE team_members (user_id TEXT NOT NULL, team TEXT NOT NULL, PRIMARY KEY (user_id, team));
CREATE TABLE commune_members (commune TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE last_syncs (
    commune TEXT NOT NULL, user_id TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (commune, user_id));

CREATE TABLE devices (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE INDEX devices_by_user ON devices (user_id, id);
CREATE TABLE enrol_codes (code_hash TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, commune TEXT, record TEXT NOT NULL);
CREATE INDEX audit_by_commune ON audit (commune, id);

-- A hamlet log is its chunks: a snapshot at seq 0, then raw changes. `log_heads` holds
-- the next chunk number; a write locks its row, which serialises work on one hamlet
-- across server instances.
CREATE TABLE log_heads (hamlet TEXT PRIMARY KEY, next_seq BIGINT NOT NULL);
CREATE TABLE logs (hamlet TEXT NOT NULL, seq BIGINT NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (hamlet, seq));
CREATE TABLE coverage (hamlet TEXT PRIMARY KEY, headline TEXT NOT NULL);
CREATE TABLE coverage_days (
    hamlet TEXT NOT NULL, day TEXT NOT NULL, visits BIGINT NOT NULL, covered BIGINT NOT NULL,
    PRIMARY KEY (hamlet, day));
CREATE TABLE sync_states (device TEXT NOT NULL, hamlet TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (device, hamlet));
CREATE TABLE listed (user_id TEXT NOT NULL, day TEXT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (user_id, day));
CREATE TABLE reviewed (hamlet TEXT NOT NULL, household TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (hamlet, household));
