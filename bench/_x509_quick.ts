/**
 * Quick probe of reading one certificate, in one process: the strict-DER
 * reader (`parseCertificateInternal`, which takes the fast path for the
 * certificates this CA issues) against the pkijs reading of the same bytes,
 * on a `pin-pad` leaf (the certificate the KMS reads once a terminal in flow
 * B). Not part of `deno task bench`. Run:
 * `deno run --allow-all bench/_x509_quick.ts [parses]` (default 3,000 each,
 * after 300 to warm up).
 */
import nodeCrypto from "node:crypto";
import { loadCore } from "../src/core/mod.ts";
import { importJwk, type RsaJwk } from "../src/crypto/mod.ts";
import type { RsaPrivateKey } from "../src/core/mod.ts";
import { decodePem, issueCertificate } from "../src/pki/mod.ts";
import { parseCertificateInternal, readWithPkijs } from "../src/pki/certificate.ts";

const core = await loadCore("wasm");
const parses = Number(Deno.args[0] ?? 3000);
const { privateKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const key = importJwk(privateKey.export({ format: "jwk" }) as RsaJwk) as RsaPrivateKey;
const validity = { notBefore: new Date("2026-01-01Z"), notAfter: new Date("2030-01-01Z") };
const root = await issueCertificate({
  profile: "root-ca",
  subject: { commonName: "Probe Root", country: "CN" },
  publicKey: { n: key.n, e: key.e },
  ...validity,
  issuer: { privateKey: key },
}, { core });
const leaf = decodePem(
  await issueCertificate({
    profile: "pin-pad",
    subject: { commonName: "PIN pad", serialNumber: "SN000001", country: "CN" },
    publicKey: { n: key.n, e: key.e },
    ...validity,
    issuer: { privateKey: key, certificate: root },
  }, { core }),
  "CERTIFICATE",
);
const out: Record<string, number> = {};
for (
  const [name, read] of [["pkijs", readWithPkijs], [
    "strict DER",
    parseCertificateInternal,
  ]] as const
) {
  for (let i = 0; i < 300; i++) read(leaf);
  const t0 = performance.now();
  for (let i = 0; i < parses; i++) read(leaf);
  out[name] = ((performance.now() - t0) / parses) * 1000;
}
console.log(
  `pin-pad certificate, ${leaf.length} bytes, ${parses} parses each: pkijs ${
    out.pkijs.toFixed(1)
  } µs, strict DER ${out["strict DER"].toFixed(1)} µs (${
    (out.pkijs / out["strict DER"]).toFixed(1)
  }x); load ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
);
