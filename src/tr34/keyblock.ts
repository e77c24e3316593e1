/**
 * The TR-34 key block (ASC X9 TR 34-2019 B.2.2.2): the content a key token
 * encrypts to the KRD.
 *
 * ```
 * KeyBlock ::= SEQUENCE {
 *   version      INTEGER (1),
 *   idKDH        IssuerAndSerialNumber,        -- the KDH's certificate
 *   clearKey     OCTET STRING,                 -- the key being loaded
 *   keyBlockHdr  Attribute }                   -- id-data { OCTET STRING header }
 * ```
 *
 * The header is a TR-31 / X9.143 key block header (16 characters plus
 * optional blocks) naming the key's usage, algorithm, mode of use and
 * exportability. A receiving key slot states which headers it accepts with
 * a {@link KeyUsePolicy}.
 *
 * @module
 */
import * as asn1js from "asn1js";
import { KEY_LENGTHS, type KeyBlockHeader, parseHeader } from "../keyblock/mod.ts";
import {
  attrEl,
  type CertId,
  certIdEl,
  children,
  der,
  intOf,
  malformed,
  octets,
  octetsOf,
  parseOne,
  readAttr,
  readCertId,
} from "./_der.ts";
import { Tr34Error } from "./errors.ts";
import { ATTR } from "./oids.ts";

/** A TR-34 key block, decrypted. */
export interface Tr34KeyBlock {
  version: number;
  /** The KDH's identity. */
  kdh: CertId;
  /** The clear key; the caller zeroes it after use. */
  key: Uint8Array;
  /** The TR-31 header text. */
  header: string;
}

/** Encodes a key block (DER). The caller zeroes the result after use. */
export function encodeKeyBlock(kdh: CertId, key: Uint8Array, header: string): Uint8Array {
  return der(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 1 }),
        certIdEl(kdh),
        octets(key),
        attrEl(ATTR.keyBlockHeader, [octets(new TextEncoder().encode(header))]),
      ],
    }),
  );
}

/** Decodes a key block; the header must be printable ASCII. */
export function decodeKeyBlock(bytes: Uint8Array): Tr34KeyBlock {
  const [v, kdh, key, attr, ...rest] = children(parseOne(bytes, "key block"), "key block");
  if (rest.length > 0) throw malformed("key block (extra fields)");
  const version = intOf(v, "key block version");
  if (version !== 1) throw malformed(`key block version (must be 1, got ${version})`);
  const a = readAttr(attr, "key block header attribute");
  if (a.type !== ATTR.keyBlockHeader || a.values.length !== 1) {
    throw malformed("key block header attribute (must be one id-data value)");
  }
  return {
    version,
    kdh: readCertId(kdh, "key block idKDH"),
    key: octetsOf(key, "key block clearKey"),
    header: headerText(octetsOf(a.values[0], "key block header")),
  };
}

/** Header bytes as text; printable ASCII only. */
export function headerText(bytes: Uint8Array): string {
  if (!bytes.every((b) => b >= 0x20 && b <= 0x7e)) {
    throw malformed("key block header (must be printable ASCII)");
  }
  return new TextDecoder().decode(bytes);
}

/** Which key block headers a receiving key slot accepts (absent field: any). */
export interface KeyUsePolicy {
  /** Allowed key usages, e.g. `["K0", "K1"]` for a TMK slot. */
  usages?: readonly string[];
  /** Allowed algorithms, e.g. `["T", "A"]`. */
  algorithms?: readonly string[];
  /** Allowed modes of use, e.g. `["B", "D", "E"]`. */
  modesOfUse?: readonly string[];
  /** Allowed exportability values. */
  exportability?: readonly string[];
}

/** The policy of a terminal master key slot: a key-encryption key, TDES or AES. */
export const TMK_POLICY: KeyUsePolicy = {
  usages: ["K0", "K1"],
  algorithms: ["T", "A"],
  modesOfUse: ["B", "D", "E"],
};

/**
 * Parses a TR-31 header as TR-34 carries it (the length field is not
 * checked) and checks the key against the header's algorithm.
 *
 * @throws {Tr34Error} `malformed` for a header outside the X9.143 tables;
 *   `header_forbidden` for a key length the algorithm does not have.
 */
export function readHeader(header: string, key?: Uint8Array): Required<KeyBlockHeader> {
  let h: Required<KeyBlockHeader>;
  try {
    h = parseHeader(header, false).header;
  } catch (e) {
    throw malformed(`key block header ${JSON.stringify(header)} (${(e as Error).message})`, e);
  }
  const lengths = KEY_LENGTHS[h.algorithm];
  if (key && lengths && !lengths.includes(key.length)) {
    throw new Tr34Error(
      "header_forbidden",
      `the header's algorithm ${h.algorithm} has ${
        lengths.join(", ")
      }-byte keys, the key is ${key.length} bytes`,
    );
  }
  return h;
}

/**
 * Checks a header against a receiving key slot's policy.
 *
 * @throws {Tr34Error} `header_forbidden` naming the field the policy forbids.
 */
export function enforcePolicy(h: Required<KeyBlockHeader>, policy: KeyUsePolicy): void {
  const check = (name: string, value: string, allowed?: readonly string[]) => {
    if (allowed && !allowed.includes(value)) {
      throw new Tr34Error(
        "header_forbidden",
        `the receiving key's use forbids ${name} ${value} (allowed: ${allowed.join(", ")})`,
      );
    }
  };
  check("key usage", h.keyUsage, policy.usages);
  check("algorithm", h.algorithm, policy.algorithms);
  check("mode of use", h.modeOfUse, policy.modesOfUse);
  check("exportability", h.exportability, policy.exportability);
}
