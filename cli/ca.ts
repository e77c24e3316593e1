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
 *   officer add, officer list
 *           the CA officers: each has an Ed25519 key, and the root key
 *           signs each enrolment (at `init` with `--officer`, or later)
 *   revoke  one officer asks for a certificate's revocation (signed)
 *   approve a second, different officer approves it: it is revoked
 *   pending the revocations asked for and not yet approved
 *   crl     issues the CRL of every approved revocation, signed by the root
 *
 * Every step is a line of the index `DIR/index.log`, each line carrying the
 * SHA-256 of the one before it (`cli/_chain.ts`), so a changed, removed or
 * reordered line shows; officers and revocations are signed besides
 * (`cli/_ca_officers.ts`), so a line added by hand does not count. The
 * passphrase comes from `--passphrase-file` or `CA_PASSPHRASE`, never in a
 * log.
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
} from "../src/pki/mod.ts";
import { appendChained, ChainError, readChain } from "./_chain.ts";
import { encryptPrivateKey, KeyFileError } from "./_pkcs8.ts";
import {
  CaError,
  DIR,
  now,
  openRoot,
  PASSPHRASE,
  paths,
  readText,
  writeNew,
} from "./_ca_common.ts";
import { officerProblems, officerStep } from "./_ca_officers.ts";
import { readIndex, REVOKE_SPECS, REVOKE_STEPS } from "./_ca_revoke.ts";
import { type CommandSpec, type FlagSpec, type Invocation, runCommand } from "./flags.ts";

export { CaError };

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

/** The problems of `init --officer ID:HEX ...`, one line each. */
function initOfficerProblems(officers: string[]): string[] {
  const ids = officers.map((o) => o.split(":")[0]);
  const keys = officers.map((o) => (o.split(":")[1] ?? "").toUpperCase());
  return officers.flatMap((o, i) => {
    const [id, key, more] = o.split(":");
    if (more !== undefined || key === undefined) {
      return [`--officer must be ID:PUBLICKEYHEX, got ${JSON.stringify(o.slice(0, 40))}`];
    }
    if (ids.indexOf(id) !== i) return [`--officer ${id} is given twice`];
    if (keys.indexOf(keys[i]) !== i) return [`--officer ${id}: that public key is another's`];
    return officerProblems(id, id, key).map((p) => `--officer ${id}: ${p.replace(/^--\S+ /, "")}`);
  });
}

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
    }, {
      name: "officer",
      type: "list",
      help: "enrols a CA officer, who may ask for and approve revocations (two are needed for " +
        "each): its id and Ed25519 public key from deno task op keygen; repeat for each",
      metavar: "ID:HEX",
    }],
    check: (v) => [
      ...(typeof v.passphrase === "string" && v.passphrase.length < 12
        ? [`--passphrase must be at least 12 characters, got ${v.passphrase.length}`]
        : []),
      ...initOfficerProblems((v.officer as string[] | undefined) ?? []),
    ],
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
  ...REVOKE_SPECS,
  crl: {
    name: "deno task ca crl",
    summary: "Issues the root's CRL of every revocation two officers approved (cRLNumber one " +
      "more each time).",
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

function subjectOf(values: Invocation["values"]): DistinguishedName {
  const dn: DistinguishedName = { commonName: values.cn as string };
  if (values.organization !== undefined) dn.organization = values.organization as string;
  if (values.country !== undefined) dn.country = values.country as string;
  if (values["serial-number"] !== undefined) dn.serialNumber = values["serial-number"] as string;
  return dn;
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
  const root = { certificate, privateKey: pair.privateKey };
  for (const o of (values.officer as string[] | undefined) ?? []) {
    const [id, key] = o.split(":");
    const officer = {
      id,
      name: id,
      publicKey: key.toUpperCase(),
      addedAt: notBefore.toISOString(),
    };
    await appendChained(p.index, await officerStep(root, officer, core));
  }
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

async function list({ values }: Invocation): Promise<void> {
  const { issued, state } = await readIndex(values.dir as string);
  const pending = new Map([...state.pending.values()].map((r) => [r.serial, r]));
  const rows = issued.map((c) => {
    const revoked = state.revoked.get(c.serial);
    const asked = pending.get(c.serial);
    return {
      ...c,
      ...(revoked ? { revoked: { at: revoked.revokedAt, reason: revoked.reason } } : {}),
      ...(asked ? { revocationRequested: asked } : {}),
    };
  });
  if (values.json) {
    for (const c of rows) console.log(JSON.stringify(c));
    return;
  }
  const state_ = (c: (typeof rows)[number]) =>
    c.revoked
      ? `revoked (${c.revoked.reason})`
      : c.revocationRequested
      ? `revocation asked (${c.revocationRequested.requestId})`
      : "valid";
  const table = rows.map((c) => [
    c.serial,
    c.profile,
    state_(c),
    c.notAfter.slice(0, 10),
    c.subject,
  ]);
  const head = ["SERIAL", "PROFILE", "STATE", "NOT AFTER", "SUBJECT"];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  for (const r of [head, ...table]) {
    console.log(r.map((x, i) => i === r.length - 1 ? x : x.padEnd(widths[i])).join("  "));
  }
}

async function crl({ values }: Invocation): Promise<void> {
  const dir = values.dir as string;
  const { p, crls, state } = await readIndex(dir);
  const root = await openRoot(dir, values.passphrase as string);
  const thisUpdate = now();
  // Only revocations two officers signed: a request still pending is not in the CRL.
  const revoked = [...state.revoked.values()].map((r) => ({
    serialNumber: r.serial,
    revokedAt: new Date(r.revokedAt),
    reason: r.reason,
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
  ...REVOKE_STEPS,
  crl,
};

/** The usage line when no step or an unknown one is given. */
export function usage(): string {
  return "usage: deno task ca <init|issue|list|officer add|officer list|revoke|approve|pending|crl> " +
    "[flags]   (--help after a step lists its flags)";
}

if (import.meta.main) {
  const two = Deno.args.slice(0, 2).join(" ");
  const [step, rest] = two in STEPS
    ? [two, Deno.args.slice(2)]
    : [Deno.args[0], Deno.args.slice(1)];
  if (step === "--help" || step === "-h") {
    console.log(usage());
    for (const [name, s] of Object.entries(CA_SPECS)) {
      console.log(`  ${name.padEnd(12)} ${s.summary}`);
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
