/**
 * The software HSM's TR-34 export (ASC X9 TR 34-2019 B.2.2.2 and annex B.9;
 * RFC 5652 section 6): a key held under the LMK leaves as the EnvelopedData
 * of a TR-34 key token. Inside the HSM the key and its TR-31 header go into
 * a TR-34 key block naming the KDH, the block is encrypted under a fresh
 * content-encryption key (AES-CBC or TDES-CBC), and that key is encrypted
 * RSAES-OAEP (SHA-256) under the KRD's public key. The clear key, the clear
 * key block and the content-encryption key are zeroed before the call ends;
 * only the EnvelopedData, the header and the KCV come out. The KDH then signs
 * the token with its key block (`sign`).
 *
 * The header is the key's own: its usage, algorithm, mode of use, key
 * version and exportability as the block under the LMK fixes them, so a key
 * cannot be sent as something it is not.
 *
 * @module
 */
import type { KeyBlockHeader } from "../keyblock/mod.ts";
import { zeroize } from "../crypto/mod.ts";
import {
  type Certificate,
  CONTENT_CIPHERS,
  type ContentCipher,
  encodeKeyBlock,
  envelope,
  readCertificate,
} from "../tr34/mod.ts";
import { checkObject, describe } from "./_args.ts";
import { guard, kcvOf, openBlock } from "./_blocks.ts";
import { enter, type HsmContext } from "./_machine.ts";
import { HsmError } from "./errors.ts";
import { RULES } from "./policy.ts";
import type { Tr34ExportOptions, Tr34ExportResult } from "./types.ts";

/** The smallest KRD modulus a key is sent under (bits). */
export const MIN_KRD_BITS = 2048;

/** The content ciphers at least as strong as a key of this algorithm and length. */
function ciphersFor(algorithm: string): readonly ContentCipher[] {
  return algorithm === "T" ? ["tdes", "aes128", "aes192", "aes256"] : ["aes256"];
}

function bitLength(n: Uint8Array): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  return i === n.length ? 0 : (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
}

/** Reads a certificate argument; a bad one is a RangeError naming it. */
function certificateArg(name: string, v: unknown): Certificate {
  if (typeof v !== "string" && !(v instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a PEM string or DER bytes, got ${describe(v)}`);
  }
  try {
    return readCertificate(v, name);
  } catch (e) {
    throw new RangeError(`${name} is not an RSA X.509 certificate (${(e as Error).message})`);
  }
}

/**
 * The TR-31 header TR-34 carries for a key: the fixed header of its block
 * under the LMK with the length of a header alone, no optional blocks (the
 * test marker stays home) and key context 0 (the receiver's wrapping key
 * decides it, where the block under the LMK says storage).
 */
export function tr34Header(h: Required<KeyBlockHeader>): string {
  return `${h.version}0016${h.keyUsage}${h.algorithm}${h.modeOfUse}${h.keyVersion}` +
    `${h.exportability}0000`;
}

export async function exportKeyTr34(
  ctx: HsmContext,
  keyBlock: string,
  options: Tr34ExportOptions,
): Promise<Tr34ExportResult> {
  const op = "exportKeyTr34";
  await enter(ctx, op);
  checkObject("options", options, " { krdCertificate, kdhCertificate, cipher? }");
  const krd = certificateArg("options.krdCertificate", options.krdCertificate);
  const kdh = certificateArg("options.kdhCertificate", options.kdhCertificate);
  const bits = bitLength(krd.publicKey.n);
  if (bits < MIN_KRD_BITS) {
    throw new RangeError(
      `options.krdCertificate: the KRD key must have at least ${MIN_KRD_BITS} bits, got ${bits}`,
    );
  }
  const cipher = options.cipher ?? "aes256";
  if (typeof cipher !== "string" || !Object.hasOwn(CONTENT_CIPHERS, cipher)) {
    throw new RangeError(
      `options.cipher must be tdes, aes128, aes192 or aes256, got ${JSON.stringify(cipher)}`,
    );
  }
  const k = await openBlock(ctx, op, RULES.exportTrusted, "keyBlock", keyBlock);
  let block: Uint8Array | undefined;
  try {
    return await guard(ctx, async () => {
      if (!ciphersFor(k.header.algorithm).includes(cipher)) {
        throw new HsmError(
          "key_usage",
          `${op}: a key of algorithm ${k.header.algorithm} is not sent under ${cipher} ` +
            `(allowed: ${ciphersFor(k.header.algorithm).join(", ")})`,
        );
      }
      const header = tr34Header(k.header);
      block = encodeKeyBlock(kdh.id, k.key, header);
      const envelopedData = await envelope(
        { recipient: krd.id, publicKey: krd.publicKey, content: block, cipher },
        ctx.core,
      );
      return { envelopedData, header, kcv: await kcvOf(ctx, k.key, k.header.algorithm) };
    }, `the exported key ${k.header.keyUsage}/${k.header.algorithm}/${k.header.modeOfUse}`);
  } finally {
    zeroize(k.key, block);
  }
}
