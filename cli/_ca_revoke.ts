/**
 * The CA tool's officers and revocation under dual control: `officer add`
 * and `officer list`, `revoke` (one officer asks), `approve` (a second,
 * different officer approves: the certificate is revoked), `pending`. The
 * signatures and their checks are `_ca_officers.ts`; every step is a line
 * of the chained index.
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import { REVOCATION_REASONS, type RevocationReason } from "../src/pki/mod.ts";
import {
  CaError,
  DIR,
  issuedOf,
  now,
  openRoot,
  PASSPHRASE,
  paths,
  readText,
  rootCertificate,
} from "./_ca_common.ts";
import {
  approvalStep,
  officerKey,
  officerProblems,
  officerStep,
  requestStep,
  type RevocationState,
  revocationState,
} from "./_ca_officers.ts";
import { appendChained, readChain } from "./_chain.ts";
import type { CommandSpec, FlagSpec, Invocation } from "./flags.ts";

const OFFICER: FlagSpec = {
  name: "officer",
  type: "string",
  required: true,
  env: "CA_OFFICER",
  help: "your officer id (as enrolled with officer add)",
  metavar: "ID",
};
const KEY_FILE: FlagSpec = {
  name: "key-file",
  type: "string",
  required: true,
  env: "CA_OFFICER_KEY_FILE",
  help: "your Ed25519 private key (PKCS#8 PEM, from deno task op keygen; mode 0600)",
  metavar: "FILE",
};
const JSON_FLAG: FlagSpec = {
  name: "json",
  type: "bool",
  default: false,
  help: "one JSON object a line",
};

/** The steps of this module and their flags. */
export const REVOKE_SPECS: Record<string, CommandSpec> = {
  "officer add": {
    name: "deno task ca officer add",
    summary: "Enrolls a CA officer with an Ed25519 public key; the root key signs the enrolment.",
    flags: [
      DIR,
      PASSPHRASE,
      { name: "id", type: "string", required: true, help: "the officer's id", metavar: "ID" },
      { name: "name", type: "string", required: true, help: "the officer's name", metavar: "NAME" },
      {
        name: "public-key",
        type: "string",
        required: true,
        help: "the officer's Ed25519 public key (64 hex digits, from deno task op keygen)",
        metavar: "HEX",
      },
    ],
    check: (v) =>
      v.id === undefined || v.name === undefined || v["public-key"] === undefined
        ? []
        : officerProblems(v.id, v.name, v["public-key"]),
  },
  "officer list": {
    name: "deno task ca officer list",
    summary: "Lists the CA officers, their keys and when each was enrolled.",
    flags: [DIR, JSON_FLAG],
  },
  revoke: {
    name: "deno task ca revoke",
    summary: "Asks for a certificate's revocation as one officer (signed); a second officer " +
      "approves it with approve before a CRL lists it.",
    flags: [
      DIR,
      {
        name: "serial",
        type: "string",
        required: true,
        help: "the certificate's serial number (hex, as list shows it)",
        metavar: "HEX",
      },
      {
        name: "reason",
        type: "string",
        default: "unspecified",
        choices: Object.keys(REVOCATION_REASONS),
        help: "the RFC 5280 CRLReason",
        metavar: "REASON",
      },
      OFFICER,
      KEY_FILE,
    ],
  },
  approve: {
    name: "deno task ca approve",
    summary: "Approves a pending revocation as a second, different officer (signed): the " +
      "certificate is revoked and the next CRL lists it.",
    flags: [
      DIR,
      {
        name: "request",
        type: "string",
        required: true,
        help: "the request id that revoke printed (pending lists them)",
        metavar: "ID",
      },
      OFFICER,
      KEY_FILE,
    ],
  },
  pending: {
    name: "deno task ca pending",
    summary: "Lists the revocations asked for and not yet approved.",
    flags: [DIR, JSON_FLAG],
  },
};

/** The index, its certificates and its verified officers and revocations. */
export async function readIndex(dir: string) {
  const p = paths(dir);
  const entries = await readChain(p.index);
  // An empty index is a CA not made yet: nothing issued, nobody enrolled.
  const rootPem = entries.length === 0 ? "" : await rootCertificate(dir);
  const state: RevocationState = entries.length === 0
    ? { officers: new Map(), pending: new Map(), revoked: new Map() }
    : await revocationState(p.index, entries, rootPem, await loadCore());
  return { p, rootPem, ...issuedOf(entries), state };
}

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) {
    console.log(r.map((x, i) => i === r.length - 1 ? x : x.padEnd(widths[i])).join("  "));
  }
}

async function officerAdd({ values }: Invocation): Promise<void> {
  const dir = values.dir as string;
  const { p, state } = await readIndex(dir);
  const root = await openRoot(dir, values.passphrase as string);
  const o = {
    id: values.id as string,
    name: values.name as string,
    publicKey: (values["public-key"] as string).toUpperCase(),
    addedAt: now().toISOString(),
  };
  if (state.officers.has(o.id)) throw new CaError(`officer ${o.id} is enrolled already`);
  const same = [...state.officers.values()].find((x) => x.publicKey === o.publicKey);
  if (same) throw new CaError(`that public key is officer ${same.id}'s`);
  await appendChained(p.index, await officerStep(root, o, await loadCore()));
  console.log(`officer ${o.id} (${o.name}) enrolled with key ${o.publicKey}`);
}

async function officerList({ values }: Invocation): Promise<void> {
  const officers = [...(await readIndex(values.dir as string)).state.officers.values()];
  if (values.json) {
    for (const o of officers) console.log(JSON.stringify(o));
    return;
  }
  table(
    ["ID", "ENROLLED", "PUBLIC KEY", "NAME"],
    officers.map((o) => [o.id, o.addedAt.slice(0, 10), o.publicKey, o.name]),
  );
}

/** A serial as list shows it, without leading zeros, upper case. */
const bare = (s: string) => s.toUpperCase().replace(/^0+(?=.)/, "");

async function signer(state: RevocationState, values: Invocation["values"]): Promise<CryptoKey> {
  const path = values["key-file"] as string;
  return await officerKey(
    state.officers,
    values.officer as string,
    await readText(path, "your officer key"),
    path,
  );
}

async function revoke({ values }: Invocation): Promise<void> {
  const { p, rootPem, issued, state } = await readIndex(values.dir as string);
  const serial = bare(values.serial as string);
  const c = issued.find((x) => bare(x.serial) === serial);
  if (c === undefined) throw new CaError(`no certificate with serial ${serial} in ${p.index}`);
  if (c.profile === "root-ca") throw new CaError("the root is not revoked by its own CRL");
  const done = state.revoked.get(c.serial);
  if (done) throw new CaError(`${c.serial} was revoked at ${done.revokedAt}`);
  const asked = [...state.pending.values()].find((r) => r.serial === c.serial);
  if (asked) {
    throw new CaError(
      `${c.serial}: officer ${asked.requestedBy} asked already (request ${asked.requestId}); ` +
        "a second officer approves it with deno task ca approve",
    );
  }
  const key = await signer(state, values);
  const r = {
    requestId: crypto.randomUUID().slice(0, 8),
    serial: c.serial,
    reason: values.reason as RevocationReason,
    requestedBy: values.officer as string,
    requestedAt: now().toISOString(),
  };
  await appendChained(p.index, await requestStep(rootPem, r, key));
  console.log(
    `revocation of ${c.serial} (${c.subject}, ${r.reason}) requested by ${r.requestedBy}: ` +
      `request ${r.requestId}; a second officer approves it with ` +
      `deno task ca approve --request ${r.requestId}`,
  );
}

async function approve({ values }: Invocation): Promise<void> {
  const { p, rootPem, state } = await readIndex(values.dir as string);
  const id = values.request as string;
  const r = state.pending.get(id);
  if (!r) {
    const done = [...state.revoked.values()].find((x) => x.requestId === id);
    throw new CaError(
      done
        ? `request ${id} was approved by ${done.approvedBy} at ${done.revokedAt}`
        : `no pending revocation request ${id} (deno task ca pending lists them)`,
    );
  }
  const officer = values.officer as string;
  if (officer === r.requestedBy) {
    throw new CaError(
      `officer ${officer} asked for request ${id}: a second, different officer approves it`,
    );
  }
  const key = await signer(state, values);
  const a = { ...r, approvedBy: officer, revokedAt: now().toISOString() };
  await appendChained(p.index, await approvalStep(rootPem, a, key));
  console.log(
    `${r.serial} revoked (${r.reason}): asked by ${r.requestedBy}, approved by ${officer}; ` +
      "issue a CRL to publish it",
  );
}

async function pending({ values }: Invocation): Promise<void> {
  const requests = [...(await readIndex(values.dir as string)).state.pending.values()];
  if (values.json) {
    for (const r of requests) console.log(JSON.stringify(r));
    return;
  }
  table(
    ["REQUEST", "SERIAL", "REASON", "ASKED BY", "ASKED AT"],
    requests.map((r) => [r.requestId, r.serial, r.reason, r.requestedBy, r.requestedAt]),
  );
}

/** The steps of this module. */
export const REVOKE_STEPS: Record<string, (inv: Invocation) => Promise<void>> = {
  "officer add": officerAdd,
  "officer list": officerList,
  revoke,
  approve,
  pending,
};
