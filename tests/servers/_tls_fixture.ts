/**
 * A private PKI for the TLS tests: a root, a server certificate for
 * `localhost`, two client certificates (`mtms-client`), a root nobody trusts,
 * the keys in PEM, and CRLs of the root.
 *
 * @module
 */
import { generateKeyPairSync } from "node:crypto";
import type { RsaPrivateKey, RsaPublicKey } from "../../src/core/mod.ts";
import { importJwk, type RsaJwk } from "../../src/crypto/mod.ts";
import {
  issueCertificate,
  issueCrl,
  parseCertificate,
  type RevokedEntry,
} from "../../src/pki/mod.ts";

interface Pair {
  privateKey: RsaPrivateKey;
  pem: string;
}

function pair(): Pair {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: importJwk(privateKey.export({ format: "jwk" }) as RsaJwk) as RsaPrivateKey,
    pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

const pub = (k: RsaPrivateKey) => ({ n: k.n, e: k.e });
const ORG = { organization: "TLS Test", country: "CN" };
const now = Date.now();
const VALID = {
  notBefore: new Date(Math.floor(now / 1000) * 1000 - 86_400_000),
  notAfter: new Date(Math.floor(now / 1000) * 1000 + 365 * 86_400_000),
};

async function makeRoot(name: string, k: Pair): Promise<string> {
  return await issueCertificate({
    profile: "root-ca",
    subject: { commonName: name, ...ORG },
    publicKey: pub(k.privateKey),
    ...VALID,
    issuer: { privateKey: k.privateKey },
  });
}

const keys = { root: pair(), stranger: pair(), server: pair(), alice: pair(), bob: pair() };

/** The trusted root. */
export const root = await makeRoot("TLS Test Root", keys.root);
/** A root that no party trusts. */
export const strangerRoot = await makeRoot("Stranger Root", keys.stranger);
const byRoot = { privateKey: keys.root.privateKey, certificate: root };

/** The server's certificate (`kms-server`, DNS name `localhost`) and key. */
export const server = {
  cert: await issueCertificate({
    profile: "kms-server",
    subject: { commonName: "localhost", ...ORG },
    publicKey: pub(keys.server.privateKey),
    ...VALID,
    issuer: byRoot,
    dnsNames: ["localhost"],
  }),
  key: keys.server.pem,
};

async function client(name: string, k: Pair, by = byRoot) {
  const cert = await issueCertificate({
    profile: "mtms-client",
    subject: { commonName: name, ...ORG },
    publicKey: pub(k.privateKey),
    ...VALID,
    issuer: by,
  });
  return { cert, key: k.pem, serialNumber: parseCertificate(cert).serialNumber };
}

/** Client certificates issued by the root. */
export const alice = await client("alice", keys.alice);
export const bob = await client("bob", keys.bob);
/** A client certificate issued by the untrusted root. */
export const mallory = await client("mallory", keys.stranger, {
  privateKey: keys.stranger.privateKey,
  certificate: strangerRoot,
});

/**
 * A CRL of the root.
 *
 * @param crlNumber its cRLNumber.
 * @param serials the revoked serialNumbers.
 */
export function rootCrl(crlNumber: bigint, serials: string[]): Promise<string> {
  const t = Math.floor(Date.now() / 1000) * 1000;
  const revoked: RevokedEntry[] = serials.map((serialNumber) => ({
    serialNumber,
    revokedAt: new Date(t - 60_000),
    reason: "keyCompromise",
  }));
  return issueCrl({
    issuer: byRoot,
    thisUpdate: new Date(t - 120_000),
    nextUpdate: new Date(t + 86_400_000),
    crlNumber,
    revoked,
  });
}

const cardKey = pair();
/** An operator card (`operator-card`) issued by the root, with its private key. */
export const operatorCard = {
  cert: await issueCertificate({
    profile: "operator-card",
    subject: { commonName: "Operator 1", ...ORG },
    publicKey: pub(cardKey.privateKey),
    ...VALID,
    issuer: byRoot,
  }),
  privateKey: cardKey.privateKey,
};

/**
 * An end-entity certificate issued by the root (e.g. the MTMS transport key's).
 *
 * @param profile its profile.
 * @param commonName its subject CN.
 * @param publicKey its key.
 */
export function issueByRoot(
  profile: "mtms-transport" | "mtms-client",
  commonName: string,
  publicKey: RsaPublicKey,
): Promise<string> {
  return issueCertificate({
    profile,
    subject: { commonName, ...ORG },
    publicKey,
    ...VALID,
    issuer: byRoot,
  });
}
