/**
 * The CA's officers and the signatures of a revocation under dual control.
 *
 * An officer is enrolled in the index (`step: "officer"`) with an Ed25519
 * public key (RFC 8032; the operator key format of
 * `src/protocol/operator_key.ts`, made by `deno task op keygen`), and the
 * enrolment is signed by the root key (RSASSA-PKCS1-v1_5 SHA-256, RFC 8017),
 * so only the holder of the root passphrase can enrol one: a line added to
 * the index by hand does not verify.
 *
 * A revocation is two lines: a request (`revoke-requested`) signed by one
 * officer, then its approval (`revoked`) signed by a second, different one.
 * {@link revocationState} replays the index and verifies every signature;
 * only approved revocations count, and a line that does not verify stops
 * every step that reads the index, naming the line.
 *
 * @module
 */
import type { CryptoCore, RsaPrivateKey } from "../src/core/mod.ts";
import { fromHex, pkcs1v15Sign, pkcs1v15Verify, toHex } from "../src/crypto/mod.ts";
import { parseCertificate, type RevocationReason } from "../src/pki/mod.ts";
import { importOperatorKey, OPERATOR_ID } from "../src/protocol/operator_key.ts";
import { CaError } from "./_ca_common.ts";
import type { ChainEntry } from "./_chain.ts";

const enc = new TextEncoder();

/** An enrolled officer. */
export interface Officer {
  id: string;
  name: string;
  /** Ed25519 public key, 32 bytes as uppercase hex. */
  publicKey: string;
  addedAt: string;
}

/** A revocation asked for by one officer, waiting for a second. */
export interface RevocationRequest {
  requestId: string;
  serial: string;
  reason: RevocationReason;
  requestedBy: string;
  requestedAt: string;
}

/** A revocation approved by a second officer. */
export interface Revocation extends RevocationRequest {
  approvedBy: string;
  revokedAt: string;
}

/** The officers and revocations of an index, every signature verified. */
export interface RevocationState {
  officers: Map<string, Officer>;
  /** Requests not yet approved, by request id. */
  pending: Map<string, RevocationRequest>;
  /** Approved revocations, by certificate serial. */
  revoked: Map<string, Revocation>;
}

const NAME = /^\P{Cc}{1,100}$/u;
const PUBLIC_KEY = /^[0-9A-F]{64}$/;

/** Checks an officer's id, name and public key; each problem one line. */
export function officerProblems(id: unknown, name: unknown, publicKey: unknown): string[] {
  const out: string[] = [];
  if (typeof id !== "string" || !OPERATOR_ID.test(id)) {
    out.push("--id must be 2-32 characters a-z 0-9 . _ - starting with a letter");
  }
  if (typeof name !== "string" || !NAME.test(name)) {
    out.push("--name must be 1-100 printable characters");
  }
  if (typeof publicKey !== "string" || !PUBLIC_KEY.test(publicKey.toUpperCase())) {
    out.push("--public-key must be an Ed25519 public key: 64 hex digits (deno task op keygen)");
  }
  return out;
}

function officerText(rootSerial: string, o: Officer): Uint8Array {
  return enc.encode(
    ["TMK-CA-OFFICER", rootSerial, o.id, o.name, o.publicKey, o.addedAt].join("\n"),
  );
}

function requestText(rootSerial: string, r: RevocationRequest): Uint8Array {
  return enc.encode(
    ["TMK-CA-REVOKE", rootSerial, r.requestId, r.serial, r.reason, r.requestedBy, r.requestedAt]
      .join("\n"),
  );
}

function approvalText(rootSerial: string, r: Revocation): Uint8Array {
  return enc.encode(
    [
      "TMK-CA-APPROVE",
      rootSerial,
      r.requestId,
      r.serial,
      r.reason,
      r.requestedBy,
      r.requestedAt,
      r.approvedBy,
      r.revokedAt,
    ].join("\n"),
  );
}

/**
 * The index step that enrols an officer, signed by the root key.
 *
 * @param root the root's certificate and private key.
 * @param o the officer.
 * @param core the crypto core.
 * @returns the step's fields.
 */
export async function officerStep(
  root: { certificate: string; privateKey: RsaPrivateKey },
  o: Officer,
  core: CryptoCore,
): Promise<Record<string, unknown>> {
  const serial = parseCertificate(root.certificate).serialNumber;
  const sig = await pkcs1v15Sign(root.privateKey, officerText(serial, o), { core });
  return { step: "officer", ...o, rootSig: toHex(sig) };
}

/** An officer's signing key, from a key file that must hold the enrolled officer's key. */
export async function officerKey(
  officers: Map<string, Officer>,
  id: string,
  keyText: string,
  keyPath: string,
): Promise<CryptoKey> {
  const officer = officers.get(id);
  if (!officer) {
    throw new CaError(`${id} is not an enrolled officer of this CA (deno task ca officer list)`);
  }
  const key = await importOperatorKey(keyText);
  if (key.publicKey !== officer.publicKey) {
    throw new CaError(`${keyPath} is not the key enrolled for officer ${id}`);
  }
  return key.privateKey;
}

const ed25519 = (publicKey: string) =>
  crypto.subtle.importKey("raw", fromHex(publicKey), { name: "Ed25519" }, false, ["verify"]);

async function verifiesBy(officer: Officer, text: Uint8Array, sigHex: unknown): Promise<boolean> {
  if (typeof sigHex !== "string" || !/^[0-9A-F]{128}$/.test(sigHex)) return false;
  return await crypto.subtle.verify(
    "Ed25519",
    await ed25519(officer.publicKey),
    fromHex(sigHex) as Uint8Array<ArrayBuffer>,
    text as Uint8Array<ArrayBuffer>,
  );
}

async function sign(key: CryptoKey, text: Uint8Array): Promise<string> {
  return toHex(
    new Uint8Array(await crypto.subtle.sign("Ed25519", key, text as Uint8Array<ArrayBuffer>)),
  );
}

/** The index step of a revocation request, signed by its officer. */
export async function requestStep(
  rootPem: string,
  r: RevocationRequest,
  key: CryptoKey,
): Promise<Record<string, unknown>> {
  const serial = parseCertificate(rootPem).serialNumber;
  return { step: "revoke-requested", ...r, sig: await sign(key, requestText(serial, r)) };
}

/** The index step of an approved revocation, signed by the approving officer. */
export async function approvalStep(
  rootPem: string,
  r: Revocation,
  key: CryptoKey,
): Promise<Record<string, unknown>> {
  const serial = parseCertificate(rootPem).serialNumber;
  return { step: "revoked", ...r, sig: await sign(key, approvalText(serial, r)) };
}

const str = (e: ChainEntry, k: string) => typeof e[k] === "string" ? e[k] as string : "";

/**
 * Replays the index: enrolled officers (root signature checked), pending
 * requests and approved revocations (both officers' signatures checked, two
 * different officers).
 *
 * @param path the index (for messages).
 * @param entries its entries.
 * @param rootPem the root certificate.
 * @param core the crypto core.
 * @throws {CaError} at the first line that does not verify, naming it.
 */
export async function revocationState(
  path: string,
  entries: ChainEntry[],
  rootPem: string,
  core: CryptoCore,
): Promise<RevocationState> {
  const root = parseCertificate(rootPem);
  const state: RevocationState = { officers: new Map(), pending: new Map(), revoked: new Map() };
  for (const e of entries) {
    const refuse = (why: string) => {
      throw new CaError(`${path} line ${e.seq}: ${why} (the index was changed, or forged)`);
    };
    if (e.step === "officer") {
      const o = {
        id: str(e, "id"),
        name: str(e, "name"),
        publicKey: str(e, "publicKey"),
        addedAt: str(e, "addedAt"),
      };
      const sig = fromHex(/^[0-9A-F]+$/.test(str(e, "rootSig")) ? str(e, "rootSig") : "");
      if (
        !(await pkcs1v15Verify(root.publicKey, officerText(root.serialNumber, o), sig, { core }))
      ) {
        refuse(`officer ${o.id} is not signed by the root key`);
      }
      if (state.officers.has(o.id)) refuse(`officer ${o.id} is enrolled twice`);
      state.officers.set(o.id, o);
    } else if (e.step === "revoke-requested") {
      const r: RevocationRequest = {
        requestId: str(e, "requestId"),
        serial: str(e, "serial"),
        reason: str(e, "reason") as RevocationReason,
        requestedBy: str(e, "requestedBy"),
        requestedAt: str(e, "requestedAt"),
      };
      const by = state.officers.get(r.requestedBy);
      if (!by) {
        refuse(`revocation request ${r.requestId} names no enrolled officer (${r.requestedBy})`);
      }
      if (!(await verifiesBy(by!, requestText(root.serialNumber, r), e.sig))) {
        refuse(
          `the signature of officer ${r.requestedBy} on request ${r.requestId} does not verify`,
        );
      }
      state.pending.set(r.requestId, r);
    } else if (e.step === "revoked") {
      const r = state.pending.get(str(e, "requestId"));
      if (!r) refuse(`revocation of ${str(e, "serial")} without a pending request of an officer`);
      const approvedBy = str(e, "approvedBy");
      const a: Revocation = { ...r!, approvedBy, revokedAt: str(e, "revokedAt") };
      if (str(e, "serial") !== r!.serial || str(e, "reason") !== r!.reason) {
        refuse(`revocation of request ${r!.requestId} differs from the request`);
      }
      const by = state.officers.get(approvedBy);
      if (!by) refuse(`request ${r!.requestId} approved by no enrolled officer (${approvedBy})`);
      if (approvedBy === r!.requestedBy) {
        refuse(`request ${r!.requestId} approved by its requester`);
      }
      if (!(await verifiesBy(by!, approvalText(root.serialNumber, a), e.sig))) {
        refuse(`the signature of officer ${approvedBy} on request ${r!.requestId} does not verify`);
      }
      state.pending.delete(r!.requestId);
      state.revoked.set(r!.serial, a);
    }
  }
  return state;
}
