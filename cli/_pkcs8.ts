/**
 * A private key at rest under a passphrase: PKCS#8 EncryptedPrivateKeyInfo
 * (RFC 5958 section 3) with PBES2 (RFC 8018 section 6.2): PBKDF2 with
 * HMAC-SHA-256 and AES-256-CBC, in PEM as `ENCRYPTED PRIVATE KEY`, the form
 * `openssl pkey -passin` reads. The CA tool keeps its root key this way.
 *
 * @module
 */
import * as asn1js from "asn1js";
import type { RsaPrivateKey } from "../src/core/mod.ts";
import { exportPkcs8Der, importPkcs8Der, randomBytes, zeroize } from "../src/crypto/mod.ts";
import { decodePem, encodePem } from "../src/pki/mod.ts";

const PBES2 = "1.2.840.113549.1.5.13";
const PBKDF2 = "1.2.840.113549.1.5.12";
const HMAC_SHA256 = "1.2.840.113549.2.9";
const AES256_CBC = "2.16.840.1.101.3.4.1.42";

/** PBKDF2 iterations of a new key file (the OWASP figure for PBKDF2-HMAC-SHA256). */
export const PBKDF2_ITERATIONS = 600_000;
/** The most iterations a key file may ask for (a file cannot make us spin for hours). */
const MAX_ITERATIONS = 10_000_000;

/** A key file that cannot be opened: a wrong passphrase, or not a key file of this form. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

async function aesKey(
  passphrase: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(passphrase),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return await crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash: "SHA-256" },
    base,
    { name: "AES-CBC", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

const oid = (value: string) => new asn1js.ObjectIdentifier({ value });
const octets = (bytes: Uint8Array) => new asn1js.OctetString({ valueHex: bytes.slice().buffer });

/**
 * Encrypts a private key under a passphrase.
 *
 * @param key the RSA private key.
 * @param passphrase at least 12 characters.
 * @param iterations PBKDF2 iterations (default {@link PBKDF2_ITERATIONS}).
 * @returns the PEM `ENCRYPTED PRIVATE KEY`.
 * @throws {KeyFileError} for a passphrase shorter than 12 characters.
 */
export async function encryptPrivateKey(
  key: RsaPrivateKey,
  passphrase: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<string> {
  if (passphrase.length < 12) {
    throw new KeyFileError(
      `the passphrase must be at least 12 characters, got ${passphrase.length}`,
    );
  }
  const salt = randomBytes(16) as Uint8Array<ArrayBuffer>;
  const iv = randomBytes(16) as Uint8Array<ArrayBuffer>;
  const der = exportPkcs8Der(key) as Uint8Array<ArrayBuffer>;
  try {
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-CBC", iv },
        await aesKey(passphrase, salt, iterations),
        der,
      ),
    );
    const info = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({
          value: [
            oid(PBES2),
            new asn1js.Sequence({
              value: [
                new asn1js.Sequence({
                  value: [
                    oid(PBKDF2),
                    new asn1js.Sequence({
                      value: [
                        octets(salt),
                        new asn1js.Integer({ value: iterations }),
                        new asn1js.Sequence({ value: [oid(HMAC_SHA256), new asn1js.Null()] }),
                      ],
                    }),
                  ],
                }),
                new asn1js.Sequence({ value: [oid(AES256_CBC), octets(iv)] }),
              ],
            }),
          ],
        }),
        octets(sealed),
      ],
    });
    return encodePem("ENCRYPTED PRIVATE KEY", new Uint8Array(info.toBER()));
  } finally {
    zeroize(der);
  }
}

/** The parameters of an EncryptedPrivateKeyInfo this module can open, or a KeyFileError. */
function parseEncrypted(der: Uint8Array): {
  salt: Uint8Array<ArrayBuffer>;
  iterations: number;
  iv: Uint8Array<ArrayBuffer>;
  sealed: Uint8Array<ArrayBuffer>;
} {
  const bad = (what: string) =>
    new KeyFileError(`not a PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) key file: ${what}`);
  const parsed = asn1js.fromBER(der.slice().buffer);
  if (parsed.offset === -1) throw bad("not DER");
  const seq = (n: asn1js.AsnType | undefined, len: number, what: string) => {
    if (!(n instanceof asn1js.Sequence) || n.valueBlock.value.length < len) throw bad(what);
    return n.valueBlock.value;
  };
  const oidIs = (n: asn1js.AsnType | undefined, value: string, what: string) => {
    if (!(n instanceof asn1js.ObjectIdentifier) || n.valueBlock.toString() !== value) {
      throw bad(what);
    }
  };
  const bytes = (n: asn1js.AsnType | undefined, what: string) => {
    if (!(n instanceof asn1js.OctetString)) throw bad(what);
    return new Uint8Array(n.valueBlock.valueHexView);
  };
  const [alg, data] = seq(parsed.result, 2, "EncryptedPrivateKeyInfo");
  const [scheme, params] = seq(alg, 2, "encryptionAlgorithm");
  oidIs(scheme, PBES2, "the scheme is not PBES2");
  const [kdf, enc] = seq(params, 2, "PBES2-params");
  const [kdfOid, kdfParams] = seq(kdf, 2, "keyDerivationFunc");
  oidIs(kdfOid, PBKDF2, "the key derivation is not PBKDF2");
  const p = seq(kdfParams, 2, "PBKDF2-params");
  const count = p[1];
  if (!(count instanceof asn1js.Integer)) throw bad("iterationCount");
  const iterations = count.valueBlock.valueDec;
  if (!(iterations >= 1 && iterations <= MAX_ITERATIONS)) {
    throw bad(`iterationCount ${iterations} is outside 1 to ${MAX_ITERATIONS}`);
  }
  const prf = p.find((x) => x instanceof asn1js.Sequence);
  if (prf === undefined) throw bad("the PRF is HMAC-SHA-1 (the default)");
  oidIs(seq(prf, 1, "prf")[0], HMAC_SHA256, "the PRF is not HMAC-SHA-256");
  const [encOid, iv] = seq(enc, 2, "encryptionScheme");
  oidIs(encOid, AES256_CBC, "the cipher is not AES-256-CBC");
  const ivBytes = bytes(iv, "the IV");
  if (ivBytes.length !== 16) throw bad("the IV is not 16 bytes");
  return { salt: bytes(p[0], "the salt"), iterations, iv: ivBytes, sealed: bytes(data, "data") };
}

/**
 * Opens a key file made by {@link encryptPrivateKey} (or by `openssl pkcs8
 * -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`).
 *
 * @param pem the PEM `ENCRYPTED PRIVATE KEY`.
 * @param passphrase its passphrase.
 * @returns the RSA private key.
 * @throws {KeyFileError} for a wrong passphrase or another kind of file.
 */
export async function decryptPrivateKey(pem: string, passphrase: string): Promise<RsaPrivateKey> {
  let der: Uint8Array;
  try {
    der = decodePem(pem, "ENCRYPTED PRIVATE KEY");
  } catch {
    throw new KeyFileError("not a PEM ENCRYPTED PRIVATE KEY");
  }
  const p = parseEncrypted(der);
  let clear: Uint8Array;
  try {
    clear = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-CBC", iv: p.iv },
        await aesKey(passphrase, p.salt, p.iterations),
        p.sealed,
      ),
    );
  } catch {
    throw new KeyFileError("the passphrase does not open this key file (or the file is damaged)");
  }
  try {
    return importPkcs8Der(clear);
  } catch {
    throw new KeyFileError("the passphrase does not open this key file (or the file is damaged)");
  } finally {
    zeroize(clear);
  }
}
