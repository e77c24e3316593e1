/**
 * The project's certificate authority (RFC 5280): `deno task ca <step>`.
 *
 *   init    makes the root CA: its key pair, the self-signed certificate
 *           (`DIR/root.pem`) and the key as encrypted PKCS#8 under a
 *           passphrase (`DIR/root.key`, mode 0600)
 *   issue   certifies a public key (from a PEM file, or a key pair made
 *           here) with one of the profiles of `src/pki/profiles.ts`, whose
 *           key usages and EKUs are the project's
 *   list    the certificates issued, from the index
 *   revoke  marks a certificate revoked, with its RFC 5280 reason
 *   crl     issues the CRL of every revoked certificate, signed by the root
 *
 * Every step is a line of the index `DIR/index.log`, each line carrying the
 * SHA-256 of the one before it (`cli/_chain.ts`), so a changed, removed or
 * reordered line shows. The passphrase comes from `--passphrase-file` or
 * `CA_PASSPHRASE`, never in a log.
 *
 * @module
 */
import { loadCore } from "../src/core/mod.ts";
import {
  exportPkcs8Pem,
  generateRsaKeyPair,
  importPublicKeyPem,
  type RsaPublicKey,
} from "../src/crypto/mod.ts";
import {
  CertificateError,
  type CertificateProfile,
  type DistinguishedName,
  issueCertificate,
  issueCrl,
  parseCertificate,
  PROFILES,
  REVOCATION_REASONS,
  type RevocationReason,
} from "../src/pki/mod.ts";
import { appendChained, type ChainEntry, ChainError, readChain } from "./_chain.ts";
import { decryptPrivateKey, encryptPrivateKey, KeyFileError } from "./_pkcs8.ts";
import { type CommandSpec, type FlagSpec, type Invocation, runCommand } from "./flags.ts";

/** A refused CA step, said in one line. */
export class CaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaError";
  }
}

const DIR: FlagSpec = {
  name: "dir",
  type: "string",
  default: "ca",
  env: "CA_DIR",
  help: "the CA's directory: root.pem, root.key, index.log, certs/",
  metavar: "DIR",
};
const PASSPHRASE: FlagSpec = {
  name: "passphrase",
  type: "string",
  secret: true,
  required: true,
  env: "CA_PASSPHRASE",
  help: "the passphrase of the root key (at least 12 characters)",
  metavar: "TEXT",
};
const SUBJECT: FlagSpec[] = [
  {
    name: "cn",
    type: "string",
    required: true,
    help: "the subject's common name",
    metavar: "NAME",
  },
  { name: "organization", type: "string", help: "the subject's O", metavar: "NAME" },
  { name: "country", type: "string", help: "the subject's C (two letters)", metavar: "CC" },
];
const BITS: FlagSpec = {
  name: "bits",
  type: "int",
  default: 3072,
  min: 2048,
  max: 4096,
  help: "RSA modulus size of a key pair made here (a multiple of 256)",
};
const END_ENTITIES = (Object.keys(PROFILES) as CertificateProfile[]).filter((p) => p !== "root-ca");

/** The steps and their flags. */
export const CA_SPECS: Record<string, CommandSpec> = {
  init: {
    name: "deno task ca init",
    summary: "Makes the root CA: key pair, self-signed certificate, and the key encrypted " +
      "under the passphrase (PKCS#8, PBES2).",
    flags: [DIR, PASSPHRASE, ...SUBJECT, BITS, {
      name: "days",
      type: "int",
      default: 7300,
      min: 1,
      max: 36500,
      help: "validity in days",
    }],
    check: (v) =>
      typeof v.passphrase === "string" && v.passphrase.length < 12
        ? [`--passphrase must be at least 12 characters, got ${v.passphrase.length}`]
        : [],
  },
  issue: {
    name: "deno task ca issue",
    summary: "Certifies a public key with a profile (key usages and EKUs fixed by the profile).",
    usage: "--profile PROFILE --cn NAME --out FILE (--public-key FILE | --key-out FILE) [flags]",
    flags: [
      DIR,
      PASSPHRASE,
      {
        name: "profile",
        type: "string",
        required: true,
        choices: END_ENTITIES,
        help: "what the certificate is for",
        metavar: "PROFILE",
      },
      ...SUBJECT,
      {
        name: "serial-number",
        type: "string",
        help: "the subject's serialNumber (terminal-hsm, pin-pad: the terminal SN)",
        metavar: "SN",
      },
      { name: "dns", type: "list", help: "a subjectAltName DNS name", metavar: "NAME" },
      {
        name: "public-key",
        type: "string",
        help: "the subject's public key (PEM SubjectPublicKeyInfo)",
        metavar: "FILE",
      },
      {
        name: "key-out",
        type: "string",
        help:
          "make the key pair here instead; its private key (PEM PKCS#8, mode 0600) goes to FILE",
        metavar: "FILE",
      },
      BITS,
      { name: "days", type: "int", default: 825, min: 1, max: 36500, help: "validity in days" },
      {
        name: "out",
        type: "string",
        required: true,
        help: "the certificate (PEM)",
        metavar: "FILE",
      },
    ],
    check: (v) =>
      (v["public-key"] === undefined) === (v["key-out"] === undefined)
        ? ["give exactly one of --public-key FILE and --key-out FILE"]
        : [],
  },
  list: {
    name: "deno task ca list",
    summary: "Lists the certificates issued, with their state, from the index.",
    flags: [DIR, { name: "json", type: "bool", default: false, help: "one JSON object a line" }],
  },
  revoke: {
    name: "deno task ca revoke",
    summary: "Marks a certificate revoked; the next CRL lists it.",
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
    ],
  },
  crl: {
    name: "deno task ca crl",
    summary: "Issues the root's CRL of every revoked certificate (cRLNumber one more each time).",
    flags: [
      DIR,
      PASSPHRASE,
      {
        name: "days",
        type: "int",
        default: 7,
        min: 1,
        max: 366,
        help: "days until nextUpdate",
      },
      { name: "out", type: "string", help: "the CRL (PEM; default DIR/crl.pem)", metavar: "FILE" },
    ],
  },
};

/** The certificates of the index, folded: each with its revocation, if any. */
interface Issued {
  serial: string;
  profile: string;
  subject: string;
  notAfter: string;
  file: string;
  revoked?: { at: string; reason: RevocationReason };
}

function paths(dir: string) {
  return {
    cert: `${dir}/root.pem`,
    key: `${dir}/root.key`,
    index: `${dir}/index.log`,
    certs: `${dir}/certs`,
  };
}

function now(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

function subjectOf(values: Invocation["values"]): DistinguishedName {
  const dn: DistinguishedName = { commonName: values.cn as string };
  if (values.organization !== undefined) dn.organization = values.organization as string;
  if (values.country !== undefined) dn.country = values.country as string;
  if (values["serial-number"] !== undefined) dn.serialNumber = values["serial-number"] as string;
  return dn;
}

async function writeNew(path: string, text: string, mode = 0o644): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, { createNew: true, mode });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new CaError(`${path} exists; it is never overwritten`);
    }
    throw e;
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new CaError(`${path}: no such file (${what})`);
    throw e;
  }
}

/** The root's certificate and private key, opened with the passphrase. */
async function openRoot(dir: string, passphrase: string) {
  const p = paths(dir);
  const certificate = await readText(p.cert, "run deno task ca init first");
  const privateKey = await decryptPrivateKey(await readText(p.key, "the root key"), passphrase);
  return { certificate, privateKey };
}

async function init({ values }: Invocation): Promise<void> {
  const dir = values.dir as string;
  const p = paths(dir);
  if ((await readChain(p.index)).length > 0) throw new CaError(`${p.index}: the CA exists`);
  const core = await loadCore();
  const pair = await generateRsaKeyPair({ bits: values.bits as number, core });
  const notBefore = now();
  const notAfter = new Date(notBefore.getTime() + (values.days as number) * 86_400_000);
  const subject = subjectOf(values);
  const certificate = await issueCertificate({
    profile: "root-ca",
    subject,
    publicKey: pair.publicKey,
    notBefore,
    notAfter,
    issuer: { privateKey: pair.privateKey },
  }, { core });
  const keyFile = await encryptPrivateKey(pair.privateKey, values.passphrase as string);
  await Deno.mkdir(p.certs, { recursive: true });
  await writeNew(p.key, keyFile, 0o600);
  await writeNew(p.cert, certificate);
  const info = parseCertificate(certificate);
  await appendChained(p.index, {
    step: "init",
    serial: info.serialNumber,
    profile: "root-ca",
    subject: info.subjectText,
    notAfter: notAfter.toISOString(),
    file: p.cert,
  });
  console.log(`root CA ${info.subjectText} (serial ${info.serialNumber}) in ${dir}`);
}

async function issue({ values }: Invocation): Promise<void> {
  const dir = values.dir as string;
  const p = paths(dir);
  const root = await openRoot(dir, values.passphrase as string);
  const core = await loadCore();
  let publicKey: RsaPublicKey;
  let privatePem: string | undefined;
  if (values["public-key"] !== undefined) {
    const path = values["public-key"] as string;
    try {
      publicKey = importPublicKeyPem(await readText(path, "the subject's public key"));
    } catch (e) {
      if (e instanceof CaError) throw e;
      throw new CaError(`${path}: not a PEM RSA public key (${(e as Error).message})`);
    }
  } else {
    const pair = await generateRsaKeyPair({ bits: values.bits as number, core });
    publicKey = pair.publicKey;
    privatePem = exportPkcs8Pem(pair.privateKey);
  }
  const notBefore = now();
  const dns = values.dns as string[] | undefined;
  const certificate = await issueCertificate({
    profile: values.profile as CertificateProfile,
    subject: subjectOf(values),
    publicKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (values.days as number) * 86_400_000),
    issuer: root,
    dnsNames: dns && dns.length > 0 ? dns : undefined,
  }, { core });
  const info = parseCertificate(certificate);
  if (privatePem !== undefined) await writeNew(values["key-out"] as string, privatePem, 0o600);
  await writeNew(values.out as string, certificate);
  await Deno.mkdir(p.certs, { recursive: true });
  await writeNew(`${p.certs}/${info.serialNumber}.pem`, certificate);
  await appendChained(p.index, {
    step: "issued",
    serial: info.serialNumber,
    profile: values.profile,
    subject: info.subjectText,
    notAfter: info.notAfter.toISOString(),
    file: values.out,
  });
  console.log(
    `${values.profile} ${info.subjectText} (serial ${info.serialNumber}) -> ${values.out}`,
  );
}

/** The index folded into certificates with their state; the CRLs issued so far. */
function fold(entries: ChainEntry[]): { issued: Issued[]; crls: number } {
  const bySerial = new Map<string, Issued>();
  let crls = 0;
  for (const e of entries) {
    if (e.step === "issued" || e.step === "init") {
      bySerial.set(e.serial as string, {
        serial: e.serial as string,
        profile: e.profile as string,
        subject: e.subject as string,
        notAfter: e.notAfter as string,
        file: e.file as string,
      });
    } else if (e.step === "revoked") {
      const c = bySerial.get(e.serial as string);
      if (c) c.revoked = { at: e.revokedAt as string, reason: e.reason as RevocationReason };
    } else if (e.step === "crl") crls++;
  }
  return { issued: [...bySerial.values()], crls };
}

async function list({ values }: Invocation): Promise<void> {
  const { issued } = fold(await readChain(paths(values.dir as string).index));
  if (values.json) {
    for (const c of issued) console.log(JSON.stringify(c));
    return;
  }
  const rows = issued.map((c) => [
    c.serial,
    c.profile,
    c.revoked ? `revoked (${c.revoked.reason})` : "valid",
    c.notAfter.slice(0, 10),
    c.subject,
  ]);
  const head = ["SERIAL", "PROFILE", "STATE", "NOT AFTER", "SUBJECT"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) {
    console.log(r.map((x, i) => i === r.length - 1 ? x : x.padEnd(widths[i])).join("  "));
  }
}

async function revoke({ values }: Invocation): Promise<void> {
  const p = paths(values.dir as string);
  const serial = (values.serial as string).toUpperCase().replace(/^0+(?=.)/, "");
  const { issued } = fold(await readChain(p.index));
  const c = issued.find((x) => x.serial.replace(/^0+(?=.)/, "") === serial);
  if (c === undefined) throw new CaError(`no certificate with serial ${serial} in ${p.index}`);
  if (c.profile === "root-ca") throw new CaError("the root is not revoked by its own CRL");
  if (c.revoked) throw new CaError(`${c.serial} was revoked at ${c.revoked.at}`);
  const at = now().toISOString();
  await appendChained(p.index, {
    step: "revoked",
    serial: c.serial,
    reason: values.reason,
    revokedAt: at,
  });
  console.log(`${c.serial} (${c.subject}) revoked: ${values.reason}; issue a CRL to publish it`);
}

async function crl({ values }: Invocation): Promise<void> {
  const dir = values.dir as string;
  const p = paths(dir);
  const root = await openRoot(dir, values.passphrase as string);
  const { issued, crls } = fold(await readChain(p.index));
  const thisUpdate = now();
  const revoked = issued.filter((c) => c.revoked).map((c) => ({
    serialNumber: c.serial,
    revokedAt: new Date(c.revoked!.at),
    reason: c.revoked!.reason,
  }));
  const crlNumber = BigInt(crls + 1);
  const pem = await issueCrl({
    issuer: root,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + (values.days as number) * 86_400_000),
    crlNumber,
    revoked,
  }, { core: await loadCore() });
  const out = (values.out as string | undefined) ?? `${dir}/crl.pem`;
  // A CRL replaces the one before it: the file is rewritten, the index keeps each.
  await Deno.writeTextFile(`${out}.tmp`, pem);
  await Deno.rename(`${out}.tmp`, out);
  await appendChained(p.index, {
    step: "crl",
    crlNumber: Number(crlNumber),
    revoked: revoked.length,
    file: out,
  });
  console.log(`CRL ${crlNumber} with ${revoked.length} revoked certificate(s) -> ${out}`);
}

const STEPS: Record<string, (inv: Invocation) => Promise<void>> = {
  init,
  issue,
  list,
  revoke,
  crl,
};

/** The usage line when no step or an unknown one is given. */
export function usage(): string {
  return "usage: deno task ca <init|issue|list|revoke|crl> [flags]   (--help after a step lists its flags)";
}

if (import.meta.main) {
  const [step, ...rest] = Deno.args;
  if (step === "--help" || step === "-h") {
    console.log(usage());
    for (const [name, s] of Object.entries(CA_SPECS)) {
      console.log(`  ${name.padEnd(7)} ${s.summary}`);
    }
    Deno.exit(0);
  }
  if (step === undefined || !(step in STEPS)) {
    console.error(
      step === undefined ? usage() : `unknown step ${JSON.stringify(step)}; ${usage()}`,
    );
    Deno.exit(2);
  }
  await runCommand(CA_SPECS[step], rest, STEPS[step], [
    CaError,
    CertificateError,
    KeyFileError,
    ChainError,
    RangeError,
  ]);
}
