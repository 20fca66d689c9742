-- Sign-in attempts per person, counted in the database so that every server instance
-- sharing it throttles the same count (service::accounts::reserve_attempt).
CREATE TABLE sign_ins (user_id TEXT PRIMARY KEY, count INT NOT NULL, since BIGINT NOT NULL);
