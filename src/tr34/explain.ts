/**
 * A field-by-field account of any TR-34 token (ASC X9 TR 34-2019 annex B)
 * for people who debug tokens from other systems: each field's value, and
 * for a field that breaks a rule of the standard, of CMS (RFC 5652) or of
 * what this library accepts, the rule. Nothing is decrypted: the key stays
 * inside the EnvelopedData.
 *
 * @module
 */
import { toHex } from "../crypto/mod.ts";
import { type CertId, children, idText, octetsOf, oidOf, parseOne, timeOf } from "./_der.ts";
import { readCertificate } from "./certs.ts";
import { readSignedData, readSignedDataBody, type SignedData, type SignerInfo } from "./cms.ts";
import { readCrl } from "./crl.ts";
import { readEnvelopedData, readOaepParams } from "./enveloped.ts";
import { Tr34Error } from "./errors.ts";
import { headerText, readHeader } from "./keyblock.ts";
import { ALG, ATTR, CONTENT_CIPHERS, contentCipherOf, oidName } from "./oids.ts";
import {
  innerOf,
  MIN_NONCE_LENGTH,
  readBindingContent,
  readRandomNumberToken,
  tokenKind,
} from "./tokens.ts";

/** One field of a token. */
export interface ExplainedField {
  /** Where the field is, e.g. `signerInfos[0].signedAttrs.signingTime`. */
  field: string;
  /** Its value as text. */
  value: string;
  /** The rule the field breaks, if any. */
  problem?: string;
}

class Report {
  readonly fields: ExplainedField[] = [];
  add(field: string, value: string, problem?: string): void {
    this.fields.push(problem === undefined ? { field, value } : { field, value, problem });
  }
  /** Runs `f`; a failure becomes a problem on `field` instead of ending the account. */
  guard(field: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      const code = e instanceof Tr34Error ? `${e.code}: ` : "";
      this.add(field, "(unreadable)", `${code}${(e as Error).message}`);
    }
  }
}

/**
 * Lists the fields of a TR-34 token: a random number token (B.12) or a
 * SignedData token (credential, key, rebind, unbind).
 *
 * @returns one entry per field, with `problem` set where a rule is broken.
 */
export function explainToken(token: Uint8Array): ExplainedField[] {
  const r = new Report();
  if (firstOid(token) === ATTR.randomNonce) {
    r.add("type", "KRD random number token (B.12)");
    r.guard("randomNonce", () => r.add("randomNonce", toHex(readRandomNumberToken(token))));
    return r.fields;
  }
  let sd: SignedData;
  try {
    sd = readSignedData(token);
  } catch (e) {
    r.guard("ContentInfo", () => {
      throw e;
    });
    return r.fields;
  }
  let kind = "unknown";
  r.guard("type", () => {
    kind = tokenKind(sd);
  });
  r.add("type", `${kind} token`);
  explainSignedData(r, sd, "");
  r.guard("content", () => explainContent(r, sd, kind));
  return r.fields;
}

/** The OID a token's outer SEQUENCE starts with, if it does. */
function firstOid(token: Uint8Array): string | undefined {
  try {
    return oidOf(children(parseOne(token, "token"), "token")[0], "token type");
  } catch {
    return undefined;
  }
}

function explainSignedData(r: Report, sd: SignedData, at: string): void {
  // RFC 5652 5.1 asks for 3 when eContentType is not id-data; the TR 34-2019 samples use 1.
  const v = sd.version;
  r.add(`${at}version`, String(v), v === 1 || v === 3 ? undefined : "RFC 5652 5.1: 1 or 3");
  for (const d of sd.digestAlgorithms) {
    r.add(`${at}digestAlgorithms`, oidName(d), d === ALG.sha256 ? undefined : "SHA-256 only");
  }
  r.add(`${at}eContentType`, oidName(sd.eContentType));
  sd.certificates.forEach((c, i) =>
    r.guard(`${at}certificates[${i}]`, () => {
      const cert = readCertificate(c, `certificates[${i}]`);
      r.add(`${at}certificates[${i}].subject`, cert.subjectText);
      r.add(`${at}certificates[${i}].id`, idText(cert.id));
      r.add(
        `${at}certificates[${i}].validity`,
        `${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}`,
      );
      if (cert.repeatedExtensions.length > 0) {
        r.add(
          `${at}certificates[${i}].extensions`,
          cert.repeatedExtensions.join(", "),
          "RFC 5280 4.2: an extension appears once",
        );
      }
    })
  );
  sd.crls.forEach((c, i) =>
    r.guard(`${at}crls[${i}]`, () => {
      const crl = readCrl(c);
      r.add(`${at}crls[${i}].thisUpdate`, crl.thisUpdate.toISOString());
      r.add(
        `${at}crls[${i}].revoked`,
        crl.revoked.map((x) => toHex(x.serial)).join(", ") || "none",
      );
    })
  );
  sd.signerInfos.forEach((si, i) => explainSigner(r, si, `${at}signerInfos[${i}].`));
}

function explainSigner(r: Report, si: SignerInfo, at: string): void {
  r.add(`${at}sid`, idText(si.sid));
  r.add(
    `${at}digestAlgorithm`,
    oidName(si.digestAlgorithm),
    si.digestAlgorithm === ALG.sha256 ? undefined : "TR 34-2019 tokens are signed with SHA-256",
  );
  const okSig = si.signatureAlgorithm === ALG.rsaEncryption ||
    si.signatureAlgorithm === ALG.sha256WithRsa;
  r.add(
    `${at}signatureAlgorithm`,
    oidName(si.signatureAlgorithm),
    okSig ? undefined : "RSASSA-PKCS1-v1_5 (rsaEncryption or sha256WithRSAEncryption) only",
  );
  r.add(`${at}signature`, `${si.signature.length} bytes`);
  if (!si.signedAttrs) {
    r.add(`${at}signedAttrs`, "absent", "TR 34-2019 B.8, B.9: signed attributes are required");
    return;
  }
  if (!si.signedAttrsInDerOrder) {
    r.add(`${at}signedAttrs`, "not in DER order", "X.690 11.6: a DER SET OF is sorted");
  }
  const seen = new Set<string>();
  for (const a of si.signedAttrs) {
    seen.add(a.type);
    const f = `${at}signedAttrs.${oidName(a.type).split(" ")[0]}`;
    if (a.values.length !== 1) r.add(f, `${a.values.length} values`, "RFC 5652 11: one value");
    r.guard(f, () => r.add(f, ...attrValue(a.type, a.values[0])));
  }
  for (const need of [ATTR.contentType, ATTR.messageDigest]) {
    if (!seen.has(need)) r.add(`${at}signedAttrs`, `no ${oidName(need)}`, "RFC 5652 5.3: required");
  }
}

function attrValue(type: string, v: Parameters<typeof oidOf>[0]): [string, string?] {
  switch (type) {
    case ATTR.contentType:
      return [oidName(oidOf(v, "contentType"))];
    case ATTR.messageDigest:
      return [toHex(octetsOf(v, "messageDigest"))];
    case ATTR.signingTime:
      return [timeOf(v, "signingTime").toISOString()];
    case ATTR.randomNonce: {
      const n = octetsOf(v, "randomNonce");
      return [
        toHex(n),
        n.length < MIN_NONCE_LENGTH ? `at least ${MIN_NONCE_LENGTH} bytes` : undefined,
      ];
    }
    case ATTR.keyBlockHeader: {
      const h = headerText(octetsOf(v, "key block header"));
      try {
        readHeader(h);
        return [h];
      } catch (e) {
        return [h, `X9.143 header tables: ${(e as Error).message}`];
      }
    }
    default:
      return ["(value not shown)", "an attribute TR 34-2019 does not define"];
  }
}

function explainContent(r: Report, sd: SignedData, kind: string): void {
  const content = sd.eContent ?? new Uint8Array(0);
  if (kind === "key-2pass" || kind === "key-1pass") {
    const need = kind === "key-2pass" ? ATTR.randomNonce : ATTR.signingTime;
    const si = sd.signerInfos[0];
    for (const t of [need, ATTR.keyBlockHeader]) {
      if (!si.signedAttrs?.some((a) => a.type === t)) {
        r.add(
          "signedAttrs",
          `no ${oidName(t)}`,
          `TR 34-2019 ${kind === "key-2pass" ? "B.9" : "B.8"}: required`,
        );
      }
    }
    explainEnvelope(r, content);
  } else if (kind === "rebind") {
    const inner = readSignedDataBody(innerOf(content), "rebind content");
    explainSignedData(r, inner, "content.");
    explainIds(r, readBindingContent(inner.eContent ?? new Uint8Array(0)));
  } else if (kind === "unbind") {
    explainIds(r, readBindingContent(content));
  } else if (kind === "credential" && content.length > 0) {
    r.add("eContent", `${content.length} bytes`, "TR 34-2019 B.6, B.7: the content is empty");
  }
}

function explainIds(r: Report, ids: { krd: CertId; kdh?: CertId }): void {
  r.add("content.krd", idText(ids.krd));
  if (ids.kdh) r.add("content.kdh", idText(ids.kdh));
}

function explainEnvelope(r: Report, bytes: Uint8Array): void {
  const env = readEnvelopedData(bytes);
  r.add("envelopedData.version", String(env.version));
  env.recipients.forEach((x, i) => {
    const at = `envelopedData.recipientInfos[${i}].`;
    r.add(`${at}rid`, idText(x.rid));
    const oaep = x.keyEncryptionAlgorithm === ALG.rsaesOaep;
    r.add(
      `${at}keyEncryptionAlgorithm`,
      oidName(x.keyEncryptionAlgorithm),
      oaep ? undefined : "TR 34-2019: key transport is RSAES-OAEP",
    );
    if (oaep) {
      r.guard(`${at}oaepParams`, () => {
        const p = readOaepParams(x.params);
        r.add(`${at}oaepParams`, `${p.hash}, MGF1 ${p.hash}, label ${p.label.length} bytes`);
      });
    }
    r.add(`${at}encryptedKey`, `${x.encryptedKey.length} bytes`);
  });
  const cipher = contentCipherOf(env.contentEncryptionAlgorithm);
  r.add(
    "envelopedData.contentEncryptionAlgorithm",
    oidName(env.contentEncryptionAlgorithm),
    cipher ? undefined : "TDES-CBC or AES-CBC only",
  );
  if (!cipher) return;
  const block = CONTENT_CIPHERS[cipher].block;
  const ivLen = env.iv?.length ?? 0;
  r.add(
    "envelopedData.iv",
    env.iv ? toHex(env.iv) : "absent",
    ivLen === block ? undefined : `${block} bytes`,
  );
  const n = env.encryptedContent.length;
  r.add(
    "envelopedData.encryptedContent",
    `${n} bytes`,
    n > 0 && n % block === 0 ? undefined : `whole ${block}-byte blocks`,
  );
}

/** The fields as text lines: `field: value` and, under a broken rule, `  ! rule`. */
export function explainText(fields: ExplainedField[]): string {
  return fields.map((f) => `${f.field}: ${f.value}${f.problem ? `\n  ! ${f.problem}` : ""}`)
    .join("\n");
}
