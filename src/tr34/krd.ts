/**
 * The key receiving device (KRD) side of TR-34 (ASC X9 TR 34-2019 sections
 * 5.4 and 5.5): open and check key tokens, and apply rebind and unbind
 * tokens. {@link openKeyToken} is the stateless check; {@link Krd} adds what a
 * device keeps: its random numbers (each accepted once), the last 1-pass
 * time, and the KDH it is bound to.
 *
 * Checks run in a fixed order, and the first that fails throws its
 * {@link Tr34Error} code: token structure (`malformed`, `unknown_oid`), signer
 * (`wrong_kdh`), KDH certificate (`kdh_untrusted`, `kdh_not_yet_valid`,
 * `kdh_expired`, `crl_invalid`, `kdh_revoked`), signature
 * (`unsupported_algorithm`, `bad_signature`, `content_altered`), freshness
 * (`attribute_missing`, `nonce_mismatch`, `nonce_replayed`,
 * `timestamp_window`, `timestamp_replayed`), envelope (`wrong_recipient`,
 * `decrypt_failed`), key block (`wrong_kdh`, `header_mismatch`,
 * `header_forbidden`).
 *
 * @module
 */
import { type CryptoCore, loadCore, type RsaPrivateKey } from "../core/mod.ts";
import { zeroize } from "../crypto/mod.ts";
import { octetsOf, sameId, timeOf } from "./_der.ts";
import { type Certificate, checkKdhCertificate, readCertificate } from "./certs.ts";
import { readSignedData, readSignedDataBody, type SignedData, verifySigner } from "./cms.ts";
import { type Crl, readCrls } from "./crl.ts";
import { type KeyTransport, keyTransportOf, openEnvelope } from "./enveloped.ts";
import { Tr34Error } from "./errors.ts";
import {
  decodeKeyBlock,
  enforcePolicy,
  headerText,
  type KeyUsePolicy,
  readHeader,
} from "./keyblock.ts";
import { ATTR, type ContentCipher, CT } from "./oids.ts";
import { innerOf, oneAttr, readBindingContent, tokenKind } from "./tokens.ts";

/** Default 1-pass window: the signing time may differ from the KRD's clock by this much. */
export const DEFAULT_TIMESTAMP_WINDOW_MS = 5 * 60 * 1000;

/** Freshness checks a caller supplies; each throws a {@link Tr34Error} to refuse. */
export interface FreshnessCheck {
  /** Called with a 2-pass token's random number. Absent: a 2-pass token is refused. */
  nonce?: (nonce: Uint8Array) => void;
  /** Called with a 1-pass token's signing time after the window check. Absent: accepted. */
  timestamp?: (time: Date) => void;
}

/** How {@link openKeyToken} checks a token. */
export interface OpenKeyTokenOptions {
  /** The KRD's certificate (PEM or DER). */
  krdCertificate: string | Uint8Array;
  /** The KRD's private key, or a function that does its RSAES-OAEP decryption. */
  krdKey: RsaPrivateKey | KeyTransport;
  /**
   * The KDH certificate expected to sign; absent: the one in the token's certificates, which
   * must then chain to one of `kdhCas`.
   */
  kdhCertificate?: string | Uint8Array;
  /** CA certificates trusted to issue KDH certificates; absent: the KDH certificate is pinned. */
  kdhCas?: (string | Uint8Array)[];
  /** A CRL of the KDH CA held by the KRD (those in the token are checked too). */
  crl?: Uint8Array;
  /** The receiving key slot's policy (default: any header). */
  policy?: KeyUsePolicy;
  /** Time of the checks (default now). */
  at?: Date;
  /** 1-pass window in ms (default {@link DEFAULT_TIMESTAMP_WINDOW_MS}). */
  timestampWindowMs?: number;
  /** Freshness checks. */
  freshness?: FreshnessCheck;
  core?: CryptoCore;
}

/** An opened, checked key token. */
export interface OpenedKeyToken {
  mode: "2-pass" | "1-pass";
  /** The TR-31 key block header. */
  header: string;
  /** The clear key; the caller zeroes it after use. */
  key: Uint8Array;
  /** The KDH that signed. */
  kdh: Certificate;
  /** The content cipher used. */
  cipher: ContentCipher;
  /** The random number (2-pass) or signing time (1-pass). */
  nonce?: Uint8Array;
  timestamp?: Date;
}

interface SignerCheck {
  sd: SignedData;
  signer: Certificate;
  crls: Crl[];
}

/** Finds the signer certificate, checks it and the signature. */
async function checkSigner(
  sd: SignedData,
  opts: Pick<OpenKeyTokenOptions, "kdhCertificate" | "kdhCas" | "crl" | "at">,
  core: CryptoCore,
  role: string,
  caSigner = false,
): Promise<SignerCheck> {
  if (sd.signerInfos.length !== 1) {
    throw new Tr34Error("malformed", `a ${role} token must have exactly one signer`);
  }
  const si = sd.signerInfos[0];
  const given = opts.kdhCertificate === undefined
    ? undefined
    : readCertificate(opts.kdhCertificate, "KDH certificate");
  const signer = given ??
    sd.certificates.map((c, i) => readCertificate(c, `token certificates[${i}]`))
      .find((c) => sameId(c.id, si.sid));
  if (!signer) {
    throw new Tr34Error(
      "wrong_kdh",
      `the ${role} token carries no certificate of its signer and no KDH certificate is given`,
    );
  }
  if (!sameId(signer.id, si.sid)) {
    throw new Tr34Error("wrong_kdh", `the ${role} token is not signed by the expected KDH`);
  }
  const crls = readCrls([...sd.crls, opts.crl]);
  const cas = (opts.kdhCas ?? []).map((c, i) => readCertificate(c, `kdhCas[${i}]`));
  if (given === undefined && cas.length === 0) {
    // A certificate the token brings for itself proves nothing without a CA to check it against.
    throw new Tr34Error(
      "kdh_untrusted",
      `the ${role} token's own KDH certificate cannot be trusted without kdhCas`,
    );
  }
  await checkKdhCertificate(signer, { cas, at: opts.at ?? new Date(), crls, caSigner }, core);
  await verifySigner(sd, si, signer.publicKey, core);
  return { sd, signer, crls };
}

function checkFreshness(
  sd: SignedData,
  freshness: FreshnessCheck | undefined,
  at: Date,
  windowMs: number,
): { nonce?: Uint8Array; timestamp?: Date } {
  const n = oneAttr(sd, ATTR.randomNonce);
  if (n) {
    const nonce = octetsOf(n, "randomNonce attribute");
    if (!freshness?.nonce) {
      throw new Tr34Error(
        "nonce_mismatch",
        "a 2-pass token arrived but no random number was issued",
      );
    }
    freshness.nonce(nonce);
    return { nonce };
  }
  const t = oneAttr(sd, ATTR.signingTime);
  if (!t) {
    throw new Tr34Error(
      "attribute_missing",
      "the token has neither a randomNonce nor a signingTime",
    );
  }
  const timestamp = timeOf(t, "signingTime attribute");
  if (Math.abs(timestamp.getTime() - at.getTime()) > windowMs) {
    throw new Tr34Error(
      "timestamp_window",
      `the signing time ${timestamp.toISOString()} is more than ${
        windowMs / 1000
      } s from ${at.toISOString()}`,
    );
  }
  freshness?.timestamp?.(timestamp);
  return { timestamp };
}

/**
 * Checks and opens a key token (B.8, B.9) in the order given in the module
 * documentation.
 *
 * @returns the header, the clear key and what was checked.
 * @throws {Tr34Error} whose `code` is the first check that failed.
 */
export async function openKeyToken(
  token: Uint8Array,
  opts: OpenKeyTokenOptions,
): Promise<OpenedKeyToken> {
  const core = opts.core ?? await loadCore();
  const at = opts.at ?? new Date();
  const krd = readCertificate(opts.krdCertificate, "KRD certificate");
  const sd = readSignedData(token, "key token");
  const kind = tokenKind(sd);
  if (kind !== "key-1pass" && kind !== "key-2pass") {
    throw new Tr34Error("unknown_oid", `the token is a ${kind} token, not a key token`);
  }
  const { signer } = await checkSigner(sd, opts, core, "key");
  const fresh = checkFreshness(
    sd,
    opts.freshness,
    at,
    opts.timestampWindowMs ?? DEFAULT_TIMESTAMP_WINDOW_MS,
  );
  const h = oneAttr(sd, ATTR.keyBlockHeader);
  if (!h) throw new Tr34Error("attribute_missing", "the token has no key block header attribute");
  const signedHeader = headerText(octetsOf(h, "key block header attribute"));
  const transport = typeof opts.krdKey === "function"
    ? opts.krdKey
    : keyTransportOf(opts.krdKey, core);
  const opened = await openEnvelope(sd.eContent ?? new Uint8Array(0), krd.id, transport, core);
  let key: Uint8Array | undefined;
  try {
    const block = decodeKeyBlock(opened.content);
    key = block.key;
    if (!sameId(block.kdh, signer.id)) {
      throw new Tr34Error("wrong_kdh", "the key block names another KDH than the signer");
    }
    if (block.header !== signedHeader) {
      throw new Tr34Error("header_mismatch", "the key block header differs from the signed header");
    }
    enforcePolicy(readHeader(block.header, block.key), opts.policy ?? {});
    const out: OpenedKeyToken = {
      mode: kind === "key-2pass" ? "2-pass" : "1-pass",
      header: block.header,
      key: block.key.slice(),
      kdh: signer,
      cipher: opened.cipher,
      ...fresh,
    };
    return out;
  } finally {
    zeroize(opened.content);
    zeroize(key);
  }
}

/** A checked rebind or unbind token. */
export interface BindingResult {
  kind: "rebind" | "unbind";
  /** For a rebind: the new KDH certificate (already checked against `kdhCas`). */
  newKdh?: Certificate;
  /** Whether a CA rather than the KDH signed it. */
  byCa: boolean;
}

/** How {@link openBindingToken} checks a token. */
export interface BindingOptions extends Omit<OpenKeyTokenOptions, "krdKey" | "policy"> {
  /** For a CA-signed token: the CA certificate that must sign (instead of `kdhCertificate`). */
  caCertificate?: string | Uint8Array;
}

/**
 * Checks a rebind or unbind token (B.10, B.11, B.13, B.14): signer, signature,
 * freshness, and that it names this KRD (and the bound KDH when a CA signs).
 *
 * @throws {Tr34Error} as {@link openKeyToken}, `wrong_recipient` when the token names another KRD.
 */
export async function openBindingToken(
  token: Uint8Array,
  opts: BindingOptions,
): Promise<BindingResult> {
  const core = opts.core ?? await loadCore();
  const at = opts.at ?? new Date();
  const krd = readCertificate(opts.krdCertificate, "KRD certificate");
  const sd = readSignedData(token, "binding token");
  const kind = tokenKind(sd);
  if (kind !== "rebind" && kind !== "unbind") {
    throw new Tr34Error(
      "unknown_oid",
      `the token is a ${kind} token, not a rebind or unbind token`,
    );
  }
  const byCa = opts.caCertificate !== undefined;
  const signerOpts = byCa
    ? { ...opts, kdhCertificate: opts.caCertificate, kdhCas: undefined }
    : opts;
  await checkSigner(sd, signerOpts, core, kind, byCa);
  checkFreshness(sd, opts.freshness, at, opts.timestampWindowMs ?? DEFAULT_TIMESTAMP_WINDOW_MS);
  const body = kind === "rebind"
    ? readSignedDataBody(innerOf(sd.eContent ?? new Uint8Array(0)), "rebind content")
    : undefined;
  const ids = readBindingContent((body ? body.eContent : sd.eContent) ?? new Uint8Array(0));
  if (!sameId(ids.krd, krd.id)) {
    throw new Tr34Error("wrong_recipient", `the ${kind} token names another KRD`);
  }
  if (byCa && opts.kdhCertificate !== undefined) {
    const bound = readCertificate(opts.kdhCertificate, "KDH certificate");
    if (!ids.kdh || !sameId(ids.kdh, bound.id)) {
      throw new Tr34Error("wrong_kdh", `the ${kind} token names another KDH than the bound one`);
    }
  }
  if (!body) return { kind, byCa };
  if (body.eContentType !== CT.data || body.certificates.length !== 1) {
    throw new Tr34Error("malformed", "the rebind content must hold one new KDH certificate");
  }
  const newKdh = readCertificate(body.certificates[0], "new KDH certificate");
  const cas = (opts.kdhCas ?? []).map((c, i) => readCertificate(c, `kdhCas[${i}]`));
  const crls = readCrls([...sd.crls, opts.crl]);
  await checkKdhCertificate(newKdh, { cas, at, crls }, core);
  return { kind, byCa, newKdh };
}
