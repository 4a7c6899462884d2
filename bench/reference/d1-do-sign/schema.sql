-- The reference's own local D1: one tiny table and the one row every request reads.
CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL);
INSERT OR REPLACE INTO clients (id, name, scopes) VALUES ('bench-client', 'Bench client', 'openid profile');
