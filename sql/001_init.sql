-- aurid schema version 1.
--
-- Applied once by store_open() inside its own transaction, then recorded as
-- PRAGMA user_version = 1.  A released migration is never edited: changes go
-- into a new file, 002_*.sql.  Tables are STRICT so a wrong type is an error
-- rather than a silently stored string.

-- The HTTP allow list.  "provisioned" rows mirror the config file and are
-- replaced at every start; "admin" rows are added with aurictl / the web UI.
-- Patterns are stored in canonical text (see trust.c).
CREATE TABLE trust (
	pattern TEXT NOT NULL,
	origin  TEXT NOT NULL CHECK (origin IN ('provisioned', 'admin')),
	created INTEGER NOT NULL,
	UNIQUE (pattern, origin)
) STRICT;

-- Sources whose consent prompt was answered OK on the phone.
CREATE TABLE consent (
	source    TEXT PRIMARY KEY,
	granted   INTEGER NOT NULL,
	transport TEXT NOT NULL
) STRICT;

-- Password hashes only: params names the algorithm and its cost
-- ("scrypt:N=16384,r=8,p=1") so a later build can raise the cost and still
-- verify older rows.
CREATE TABLE users (
	name    TEXT PRIMARY KEY,
	role    TEXT NOT NULL CHECK (role IN ('admin', 'user')),
	hash    BLOB NOT NULL,
	salt    BLOB NOT NULL,
	params  TEXT NOT NULL,
	created INTEGER NOT NULL,
	changed INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT
) STRICT;

-- The audit log.  AUTOINCREMENT so a seq is never reused, even after the
-- pruner has deleted every row: X-Request-Id values stay unique for the life
-- of the database.
CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	time_us    INTEGER NOT NULL,
	transport  TEXT NOT NULL,
	source     TEXT NOT NULL,
	user       TEXT,
	request    TEXT NOT NULL,
	items      TEXT NOT NULL DEFAULT '[]',   -- JSON array of {item, outcome}
	status     INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	latency_us INTEGER NOT NULL
) STRICT;
-- Queries walk seq (time grows with it), so time needs no index: each
-- index is one more page written by every insert on the hot path.
CREATE INDEX audit_by_source ON audit (source);

-- The retention pruner's gate: exactly one row, enabled only between the
-- pruner's own statements inside one transaction (a crash rolls it back).
CREATE TABLE audit_prune_flag (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
) STRICT;
INSERT INTO audit_prune_flag (id, enabled) VALUES (1, 0);

-- Append-only: no row is ever rewritten ...
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;

-- ... and none deleted except by the pruner.  A missing flag row reads as
-- NULL, which also refuses: the gate fails closed.
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN (SELECT enabled FROM audit_prune_flag WHERE id = 1) IS NOT 1
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;

CREATE TRIGGER audit_prune_flag_keep BEFORE DELETE ON audit_prune_flag
BEGIN
	SELECT RAISE(ABORT, 'audit_prune_flag is permanent');
END;
