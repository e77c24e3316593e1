/**
 * What the CA tool's steps share: the refusal in one line ({@link CaError}),
 * the CA directory's files, the flags every step takes, and the root opened
 * with its passphrase.
 *
 * @module
 */
import type { RsaPrivateKey } from "../src/core/mod.ts";
import { decryptPrivateKey } from "./_pkcs8.ts";
import type { FlagSpec } from "./flags.ts";
import type { ChainEntry } from "./_chain.ts";

/** A refused CA step, said in one line. */
export class CaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaError";
  }
}

/** `--dir`: the CA's directory. */
export const DIR: FlagSpec = {
  name: "dir",
  type: "string",
  default: "ca",
  env: "CA_DIR",
  help: "the CA's directory: root.pem, root.key, index.log, certs/",
  metavar: "DIR",
};

/** `--passphrase` (from a file or `CA_PASSPHRASE`): opens the root key. */
export const PASSPHRASE: FlagSpec = {
  name: "passphrase",
  type: "string",
  secret: true,
  required: true,
  env: "CA_PASSPHRASE",
  help: "the passphrase of the root key (at least 12 characters)",
  metavar: "TEXT",
};

/** The files of a CA directory. */
export function paths(dir: string) {
  return {
    cert: `${dir}/root.pem`,
    key: `${dir}/root.key`,
    index: `${dir}/index.log`,
    certs: `${dir}/certs`,
  };
}

/** Now, to the second (the resolution of certificate and CRL times). */
export function now(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

/** Writes a new file; an existing one is never overwritten. */
export async function writeNew(path: string, text: string, mode = 0o644): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, { createNew: true, mode });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new CaError(`${path} exists; it is never overwritten`);
    }
    throw e;
  }
}

/** Reads a file, or says which one is missing and what it is. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new CaError(`${path}: no such file (${what})`);
    throw e;
  }
}

/** The root's certificate (PEM). */
export function rootCertificate(dir: string): Promise<string> {
  return readText(paths(dir).cert, "run deno task ca init first");
}

/** The root's certificate and private key, opened with the passphrase. */
export async function openRoot(
  dir: string,
  passphrase: string,
): Promise<{ certificate: string; privateKey: RsaPrivateKey }> {
  const certificate = await rootCertificate(dir);
  const privateKey = await decryptPrivateKey(
    await readText(paths(dir).key, "the root key"),
    passphrase,
  );
  return { certificate, privateKey };
}

/** A certificate of the index. */
export interface Issued {
  serial: string;
  profile: string;
  subject: string;
  notAfter: string;
  file: string;
}

/** The index's certificates in order of issue, and how many CRLs were issued. */
export function issuedOf(entries: ChainEntry[]): { issued: Issued[]; crls: number } {
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
    } else if (e.step === "crl") crls++;
  }
  return { issued: [...bySerial.values()], crls };
}
