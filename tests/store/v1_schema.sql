-- Frozen copy of the triage store's schema version 1, as first shipped (engine/store/schema.py).
-- Never edit: it stands for stores already in the field; test_store_migration.py builds a v1 store
-- from this file and checks it migrates to the latest schema without losing data.

CREATE TABLE schema_history (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE alerts (
    alert_id          TEXT PRIMARY KEY NOT NULL CHECK (length(alert_id) > 0),
    ward_id           TEXT NOT NULL CHECK (length(ward_id) > 0),
    scope             TEXT NOT NULL CHECK (scope IN ('ward', 'indicator')),
    indicator         TEXT,
    method            TEXT,
    level             TEXT NOT NULL,
    direction         TEXT,
    opened            TEXT NOT NULL,
    onset_estimate    TEXT,
    last_seen         TEXT,
    closed            TEXT,
    statistic         REAL,
    threshold         REAL,
    explanation       TEXT NOT NULL DEFAULT '',
    first_scored_at   TEXT NOT NULL,
    last_scored_at    TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'acknowledged', 'investigating', 'closed')),
    outcome           TEXT CHECK (outcome IN ('no_concern', 'action_taken', 'escalated_safeguarding')),
    assignee          TEXT,
    reopened_reason   TEXT,
    status_changed_at TEXT,
    CHECK ((status = 'closed') = (outcome IS NOT NULL))
);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL REFERENCES alerts (alert_id),
    author     TEXT NOT NULL CHECK (length(author) > 0),
    created_at TEXT NOT NULL,
    text       TEXT NOT NULL CHECK (length(text) > 0)
);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL REFERENCES alerts (alert_id),
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL CHECK (length(actor) > 0),
    action   TEXT NOT NULL,
    field    TEXT,
    old      TEXT,
    new      TEXT
);

CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    TEXT NOT NULL REFERENCES alerts (alert_id),
    scored_at   TEXT NOT NULL,
    level       TEXT NOT NULL,
    statistic   REAL,
    threshold   REAL,
    last_seen   TEXT,
    closed      TEXT,
    explanation TEXT NOT NULL DEFAULT ''
);

CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes
BEGIN SELECT RAISE(ABORT, 'notes is append-only: UPDATE refused'); END;

CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
BEGIN SELECT RAISE(ABORT, 'notes is append-only: DELETE refused'); END;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused'); END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE refused'); END;

CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only: UPDATE refused'); END;

CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN SELECT RAISE(ABORT, 'evidence is append-only: DELETE refused'); END;

CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are never deleted: close them instead'); END;

PRAGMA user_version = 1;
