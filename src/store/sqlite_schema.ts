/**
 * The SQLite schema as a versioned list of migrations ({@link Migration}):
 * each runs in its own transaction together with its row in
 * `schema_version`, so a crash leaves the database at the previous version,
 * never between two.
 *
 * Append a migration to change the schema; never edit one that has shipped.
 *
 * @module
 */
import type { Migration } from "./migration.ts";

/** Every migration, in order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "orders, MTMS TK collection, KMS terminals and batches, challenges, nonces",
    sql: `
CREATE TABLE orders (
  order_id   TEXT PRIMARY KEY,
  state      TEXT NOT NULL CHECK (state IN ('collecting', 'transferred', 'imported')),
  terminals  INTEGER NOT NULL DEFAULT 0 CHECK (terminals >= 0),
  created_at TEXT NOT NULL
) STRICT;

-- MTMS: one row per terminal of an order; the TK (under PK) once uploaded.
CREATE TABLE collected_tks (
  sn          TEXT PRIMARY KEY,
  order_id    TEXT NOT NULL REFERENCES orders (order_id),
  tk_block    TEXT,
  tk_kcv      TEXT,
  tk_hash     TEXT,
  mac         TEXT,
  uploaded_at TEXT,
  CHECK ((tk_block IS NULL) = (tk_hash IS NULL) AND (tk_block IS NULL) = (uploaded_at IS NULL))
) STRICT;
CREATE INDEX collected_tks_order ON collected_tks (order_id, sn);

-- KMS: one batch per order (idempotency on the order id and body hash).
CREATE TABLE tk_batches (
  order_id    TEXT PRIMARY KEY REFERENCES orders (order_id),
  body_hash   TEXT NOT NULL,
  tks         INTEGER NOT NULL,
  received_at TEXT NOT NULL
) STRICT;

-- KMS: terminals. Keys only as key blocks under the LMK.
CREATE TABLE terminals (
  sn                 TEXT PRIMARY KEY,
  order_id           TEXT REFERENCES orders (order_id),
  state              TEXT NOT NULL CHECK (state IN
                       ('registered', 'hsm_key_issued', 'tk_received', 'tmk_issued', 'tmk_sent', 'delivered')),
  tk_block           TEXT,
  tk_hash            TEXT,
  tk_kcv             TEXT,
  tmk_block          TEXT,
  tmk_under_tk       TEXT,
  tmk_kcv            TEXT,
  tmk_issued_at      TEXT,
  tmk_sent_at        TEXT,
  delivered_at       TEXT,
  pu_hsm_cert        TEXT,
  pr_hsm_block       TEXT,
  auk_block          TEXT,
  pu_tek             TEXT,
  auth_failures      INTEGER NOT NULL DEFAULT 0 CHECK (auth_failures >= 0),
  locked_at          TEXT,
  session_expires_at TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  CHECK ((tmk_block IS NULL) = (tmk_kcv IS NULL)),
  CHECK (delivered_at IS NULL OR tmk_block IS NOT NULL)
) STRICT;
CREATE INDEX terminals_order ON terminals (order_id, sn);

-- KMS flow B: single-use challenges.
CREATE TABLE challenges (
  id         TEXT PRIMARY KEY,
  sn         TEXT NOT NULL REFERENCES terminals (sn),
  rnd        TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at    TEXT
) STRICT;

-- Replay protection: nonces seen, per scope.
CREATE TABLE nonces (
  scope      TEXT NOT NULL,
  nonce      TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (scope, nonce)
) STRICT;
CREATE INDEX nonces_expiry ON nonces (expires_at);
`,
  },
  {
    version: 2,
    description: "append-only audit log (UPDATE and DELETE abort)",
    sql: `
CREATE TABLE audit_log (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at       TEXT NOT NULL,
  actor    TEXT NOT NULL,
  event    TEXT NOT NULL,
  subject  TEXT,
  key_id   TEXT,
  kcv      TEXT,
  outcome  TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  detail   TEXT
) STRICT;
CREATE INDEX audit_subject ON audit_log (subject, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
`,
  },
  {
    version: 3,
    description: "nothing (PostgreSQL's version 3 sets a fillfactor; SQLite has none)",
    sql: `SELECT 1;`,
  },
  {
    version: 4,
    description: "KMS: TKs of streamed batches staged under their upload until the MAC is checked",
    sql: `
-- Never terminals: moved into terminals by one transaction once the upload's MAC verifies,
-- else deleted (a refusal, or at the next start for an upload left by a killed process).
CREATE TABLE tk_staging (
  upload_id TEXT NOT NULL,
  seq       INTEGER NOT NULL CHECK (seq >= 0),
  sn        TEXT NOT NULL,
  tk_block  TEXT NOT NULL,
  tk_kcv    TEXT NOT NULL,
  tk_hash   TEXT NOT NULL,
  staged_at TEXT NOT NULL,
  PRIMARY KEY (upload_id, seq),
  UNIQUE (upload_id, sn)
) STRICT;
CREATE INDEX tk_staging_time ON tk_staging (staged_at);
`,
  },
  {
    version: 5,
    description: "KMS: keys every instance on the database shares, as key blocks under the LMK",
    sql: `
-- Made once by the first instance's HSM (the flow A challenge key, the audit key), with its
-- KCV; never changed.
CREATE TABLE server_keys (
  name       TEXT PRIMARY KEY,
  key_block  TEXT NOT NULL,
  kcv        TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
`,
  },
  {
    version: 6,
    description:
      "one TK per terminal: the TK hashes indexed where the MTMS and the KMS look them up",
    sql: `
-- A TK known by its hash (SHA-256 of the clear key) is refused for another SN: at the MTMS's
-- collection, at the KMS's import (terminals, and the TKs staged by the same upload).
CREATE INDEX collected_tks_tk_hash ON collected_tks (tk_hash) WHERE tk_hash IS NOT NULL;
CREATE INDEX terminals_tk_hash ON terminals (tk_hash) WHERE tk_hash IS NOT NULL;
CREATE INDEX tk_staging_tk_hash ON tk_staging (upload_id, tk_hash);
`,
  },
  {
    version: 7,
    description: "KMS flow B: a session bound to its challenge (id, Rnd1, Rnd2)",
    sql: `
-- The session a passed S5 opened: challenge id || Rnd1 || Rnd2 (hex, public values), the
-- context of the session key the HSM derives from AUK for the MACs of S6 and S7.
ALTER TABLE terminals ADD COLUMN session_context TEXT;
-- The terminal's Rnd1 of each challenge (the KMS's Rnd2 is rnd).
ALTER TABLE challenges ADD COLUMN rnd1 TEXT;
`,
  },
  {
    version: 8,
    description:
      "operators and their roles, dual-control approvals, the audit hash chain and checkpoints",
    sql: `
-- Who acted (an operator id, null for steps no operator started) and the chain: each
-- record's prev_hash is the SHA-256 (32 bytes) of the record before it
-- (src/store/audit_chain.ts). Records from before this migration have none;
-- audit_chain_start.chained_from, written once here, is the first chained id.
ALTER TABLE audit_log ADD COLUMN operator TEXT;
ALTER TABLE audit_log ADD COLUMN prev_hash BLOB;
CREATE TABLE audit_chain_start (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  chained_from INTEGER NOT NULL
) STRICT;
INSERT INTO audit_chain_start (id, chained_from)
  SELECT 1, coalesce(max(id), 0) + 1 FROM audit_log;

-- Checkpoints: the chain's hash at record seq, MAC'd by the HSM under the audit key.
CREATE TABLE audit_checkpoints (
  seq     INTEGER PRIMARY KEY,
  hash    TEXT NOT NULL,
  at      TEXT NOT NULL,
  key_kcv TEXT NOT NULL,
  mac     TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused'); END;


-- Operators: each with one role and an Ed25519 public key (raw, hex).
CREATE TABLE operators (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'custodian', 'auditor')),
  public_key  TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  disabled_at TEXT,
  disabled_by TEXT
) STRICT;

-- Dual control: a sensitive request waits here until a second operator approves it.
CREATE TABLE approvals (
  id           TEXT PRIMARY KEY,
  operation    TEXT NOT NULL,
  method       TEXT NOT NULL,
  path         TEXT NOT NULL,
  body         TEXT,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'done')),
  approved_by  TEXT,
  approved_at  TEXT,
  status       INTEGER,
  CHECK (approved_by IS NULL OR approved_by <> requested_by)
) STRICT;
CREATE INDEX approvals_state ON approvals (state, requested_at);
`,
  },
  {
    version: 9,
    description: "one TK per terminal, enforced: the TK hash indexes made unique",
    sql: `
-- Two requests that give one TK to two SNs at the same instant both pass the services' checks;
-- the unique index refuses the second at its commit. A database that already holds one TK for
-- two terminals stops here: the migration names the index, nothing changes.
DROP INDEX collected_tks_tk_hash;
CREATE UNIQUE INDEX collected_tks_tk_hash ON collected_tks (tk_hash) WHERE tk_hash IS NOT NULL;
DROP INDEX terminals_tk_hash;
CREATE UNIQUE INDEX terminals_tk_hash ON terminals (tk_hash) WHERE tk_hash IS NOT NULL;
`,
  },
  {
    version: 10,
    description: "the KMS CA installed under dual control, each version kept",
    sql: `
-- Each KMS CA installed: its certificate (PEM) and private key as a TR-31 key block under
-- the LMK, who asked and who approved (null: the bootstrap install from the start flags).
-- The highest version is in force; rows are never changed or deleted.
CREATE TABLE kms_ca (
  version         INTEGER PRIMARY KEY CHECK (version >= 1),
  certificate     TEXT NOT NULL,
  key_block       TEXT NOT NULL,
  key_fingerprint TEXT NOT NULL,
  installed_at    TEXT NOT NULL,
  requested_by    TEXT NOT NULL,
  approved_by     TEXT,
  CHECK (approved_by IS NULL OR approved_by <> requested_by)
) STRICT;
CREATE TRIGGER kms_ca_no_update BEFORE UPDATE ON kms_ca
BEGIN SELECT RAISE(ABORT, 'kms_ca is append-only: UPDATE refused'); END;
CREATE TRIGGER kms_ca_no_delete BEFORE DELETE ON kms_ca
BEGIN SELECT RAISE(ABORT, 'kms_ca is append-only: DELETE refused'); END;
`,
  },
  {
    version: 11,
    description:
      "versions of the keys the MTMS and the KMS share (PK, MAK), rotated under dual control",
    sql: `
-- Version 1 is the key formed from the ceremony's components; each later version names the
-- KCV of the one before (a chain from the components). A key block under this server's LMK.
CREATE TABLE server_key_versions (
  name         TEXT NOT NULL CHECK (name IN ('PK', 'MAK')),
  version      INTEGER NOT NULL CHECK (version >= 1),
  key_block    TEXT NOT NULL,
  kcv          TEXT NOT NULL,
  previous_kcv TEXT,
  created_at   TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  PRIMARY KEY (name, version),
  CHECK ((version = 1) = (previous_kcv IS NULL))
) STRICT;
`,
  },
];
