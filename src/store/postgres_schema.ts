/**
 * The PostgreSQL schema as a versioned list of migrations, the same tables
 * and constraints as {@link ./sqlite_schema.ts} in PostgreSQL's types:
 * identifiers and key blocks are `text COLLATE "C"` (byte order, so keyset
 * paging by SN walks exactly as on SQLite), times are `timestamptz`.
 *
 * The audit log is append-only in the database: a trigger raises on every
 * UPDATE and DELETE row and on TRUNCATE.
 *
 * Each migration runs in its own transaction under an advisory lock, with
 * its row in `schema_version`, so KMS instances starting together on one
 * database migrate it once and a crash leaves it at the previous version.
 * Append a migration to change the schema; never edit one that has shipped.
 *
 * @module
 */
import type { Migration } from "./migration.ts";

/** Every PostgreSQL migration, in order (same versions as the SQLite ones). */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "orders, MTMS TK collection, KMS terminals and batches, challenges, nonces",
    sql: `
CREATE TABLE orders (
  order_id   text COLLATE "C" PRIMARY KEY,
  state      text NOT NULL CHECK (state IN ('collecting', 'transferred', 'imported')),
  terminals  integer NOT NULL DEFAULT 0 CHECK (terminals >= 0),
  created_at timestamptz NOT NULL
);

CREATE TABLE collected_tks (
  sn          text COLLATE "C" PRIMARY KEY,
  order_id    text COLLATE "C" NOT NULL REFERENCES orders (order_id),
  tk_block    text,
  tk_kcv      text,
  tk_hash     text,
  mac         text,
  uploaded_at timestamptz,
  CHECK ((tk_block IS NULL) = (tk_hash IS NULL) AND (tk_block IS NULL) = (uploaded_at IS NULL))
);
CREATE INDEX collected_tks_order ON collected_tks (order_id, sn);

CREATE TABLE tk_batches (
  order_id    text COLLATE "C" PRIMARY KEY REFERENCES orders (order_id),
  body_hash   text NOT NULL,
  tks         integer NOT NULL,
  received_at timestamptz NOT NULL
);

CREATE TABLE terminals (
  sn                 text COLLATE "C" PRIMARY KEY,
  order_id           text COLLATE "C" REFERENCES orders (order_id),
  state              text NOT NULL CHECK (state IN
                       ('registered', 'hsm_key_issued', 'tk_received', 'tmk_issued', 'tmk_sent', 'delivered')),
  tk_block           text,
  tk_hash            text,
  tk_kcv             text,
  tmk_block          text,
  tmk_under_tk       text,
  tmk_kcv            text,
  tmk_issued_at      timestamptz,
  tmk_sent_at        timestamptz,
  delivered_at       timestamptz,
  pu_hsm_cert        text,
  pr_hsm_block       text,
  auk_block          text,
  pu_tek             text,
  auth_failures      integer NOT NULL DEFAULT 0 CHECK (auth_failures >= 0),
  locked_at          timestamptz,
  session_expires_at timestamptz,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  CHECK ((tmk_block IS NULL) = (tmk_kcv IS NULL)),
  CHECK (delivered_at IS NULL OR tmk_block IS NOT NULL)
);
CREATE INDEX terminals_order ON terminals (order_id, sn);

CREATE TABLE challenges (
  id         text COLLATE "C" PRIMARY KEY,
  sn         text COLLATE "C" NOT NULL REFERENCES terminals (sn),
  rnd        text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);

CREATE TABLE nonces (
  scope      text COLLATE "C" NOT NULL,
  nonce      text COLLATE "C" NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);
`,
  },
  {
    version: 2,
    description: "append-only audit log (UPDATE, DELETE and TRUNCATE raise)",
    sql: `
CREATE TABLE audit_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL,
  actor    text NOT NULL,
  event    text NOT NULL,
  subject  text COLLATE "C",
  key_id   text,
  kcv      text,
  outcome  text NOT NULL CHECK (outcome IN ('success', 'failure')),
  detail   text
);
CREATE INDEX audit_subject ON audit_log (subject, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`,
  },
  {
    version: 3,
    description: "terminals leave room on each page for their rows' later versions (HOT updates)",
    // A flow A row is about 300 bytes when its TK is imported and about 500 once its TMK is
    // issued; at fillfactor 30 a page keeps room for the new version of every row it holds, so
    // issuing a TMK (and sending, delivering) updates in place: no new entries in the two
    // indexes, one WAL record per row instead of four. Pages written before stay as they are.
    sql: `ALTER TABLE terminals SET (fillfactor = 30);`,
  },
  {
    version: 4,
    description: "KMS: TKs of streamed batches staged under their upload until the MAC is checked",
    sql: `
CREATE TABLE tk_staging (
  upload_id text COLLATE "C" NOT NULL,
  seq       integer NOT NULL CHECK (seq >= 0),
  sn        text COLLATE "C" NOT NULL,
  tk_block  text NOT NULL,
  tk_kcv    text NOT NULL,
  tk_hash   text NOT NULL,
  staged_at timestamptz NOT NULL,
  PRIMARY KEY (upload_id, seq),
  UNIQUE (upload_id, sn)
);
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
  name       text COLLATE "C" PRIMARY KEY,
  key_block  text NOT NULL,
  kcv        text NOT NULL,
  created_at timestamptz NOT NULL
);
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
ALTER TABLE terminals ADD COLUMN session_context text;
ALTER TABLE challenges ADD COLUMN rnd1 text;
`,
  },
  {
    version: 8,
    description:
      "operators and their roles, dual-control approvals, the audit hash chain and checkpoints",
    sql: `
ALTER TABLE audit_log ADD COLUMN operator text;
ALTER TABLE audit_log ADD COLUMN prev_hash bytea;
CREATE TABLE audit_chain_start (
  id           integer PRIMARY KEY CHECK (id = 1),
  chained_from bigint NOT NULL
);
INSERT INTO audit_chain_start (id, chained_from)
  SELECT 1, coalesce(max(id), 0) + 1 FROM audit_log;

CREATE TABLE audit_checkpoints (
  seq     bigint PRIMARY KEY,
  hash    text NOT NULL,
  at      timestamptz NOT NULL,
  key_kcv text NOT NULL,
  mac     text NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE operators (
  id          text COLLATE "C" PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('operator', 'supervisor', 'custodian', 'auditor')),
  public_key  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  disabled_at timestamptz,
  disabled_by text
);

CREATE TABLE approvals (
  id           text COLLATE "C" PRIMARY KEY,
  operation    text NOT NULL,
  method       text NOT NULL,
  path         text NOT NULL,
  body         text,
  requested_by text NOT NULL,
  requested_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  state        text NOT NULL CHECK (state IN ('pending', 'approved', 'done')),
  approved_by  text,
  approved_at  timestamptz,
  status       integer,
  CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
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
CREATE TABLE kms_ca (
  version         integer PRIMARY KEY CHECK (version >= 1),
  certificate     text NOT NULL,
  key_block       text NOT NULL,
  key_fingerprint text NOT NULL,
  installed_at    timestamptz NOT NULL,
  requested_by    text NOT NULL,
  approved_by     text,
  CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
CREATE FUNCTION kms_ca_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kms_ca is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END
$$;
CREATE TRIGGER kms_ca_no_change BEFORE UPDATE OR DELETE ON kms_ca
  FOR EACH ROW EXECUTE FUNCTION kms_ca_append_only();
CREATE TRIGGER kms_ca_no_truncate BEFORE TRUNCATE ON kms_ca
  FOR EACH STATEMENT EXECUTE FUNCTION kms_ca_append_only();
`,
  },
  {
    version: 11,
    description:
      "versions of the keys the MTMS and the KMS share (PK, MAK), rotated under dual control",
    sql: `
CREATE TABLE server_key_versions (
  name         text COLLATE "C" NOT NULL CHECK (name IN ('PK', 'MAK')),
  version      integer NOT NULL CHECK (version >= 1),
  key_block    text NOT NULL,
  kcv          text NOT NULL,
  previous_kcv text,
  created_at   timestamptz NOT NULL,
  created_by   text NOT NULL,
  PRIMARY KEY (name, version),
  CHECK ((version = 1) = (previous_kcv IS NULL))
);
`,
  },
];
