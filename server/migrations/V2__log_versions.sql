-- A hamlet log's version moves with every write of it, so a server instance whose
-- cached log is behind another's write finds out before it writes (store/postgres.rs).
ALTER TABLE log_heads ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
