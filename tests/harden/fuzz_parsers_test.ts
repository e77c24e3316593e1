/**
 * Fuzzing the parsers: every parser that takes outside input, fed
 * N inputs each from fast-check, half random and half mutations of valid
 * input (TR-31 vectors, RSA keys in PEM and DER, certificates): each either
 * returns or throws its documented domain error (KeyBlockError, RsaKeyError,
 * CertificateError, ValidationError naming the field), never anything else.
 * The protocol schemas (every message of both flows, which the servers and
 * the devices parse) get random JSON.
 *
 * N = 2,000 per parser in CI, 100,000 under `deno task fuzz`.
 * Prints `figure fuzz-parsers[<parser>]`.
 */
import nodeCrypto from "node:crypto";
import fc from "fast-check";
import { hex, loadVectors } from "../_helpers.ts";
import { loadCore } from "../../src/core/mod.ts";
import {
  importPkcs8Der,
  importPrivateKeyPem,
  importPublicKeyPem,
  importSpkiDer,
  RsaKeyError,
} from "../../src/crypto/mod.ts";
import { KeyBlockError, readKeyBlockHeader, unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { CertificateError, issueCertificate, parseCertificate } from "../../src/pki/mod.ts";
import * as protocol from "../../src/protocol/mod.ts";
import { figure, size, Tally } from "./_figures.ts";

const N = size(2000, 100_000);
const core = await loadCore("wasm");

/** Byte-level mutations of a valid input. */
const bytesMutation = (valid: Uint8Array[]) =>
  fc.tuple(
    fc.constantFrom(...valid),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    fc.constantFrom("replace", "truncate", "extend", "insert"),
  ).map(([v, edits, how]) => {
    let b = v.slice();
    for (const [at, x] of edits) {
      const p = at % Math.max(1, b.length);
      if (how === "replace") b[p] = x;
      else if (how === "truncate") b = b.slice(0, p);
      else if (how === "extend") b = new Uint8Array([...b, x]);
      else b = new Uint8Array([...b.slice(0, p), x, ...b.slice(p)]);
    }
    return b;
  });

/** Character-level mutations of a valid string. */
const textMutation = (valid: string[]) =>
  fc.tuple(
    fc.constantFrom(...valid),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0x7f })), { minLength: 1, maxLength: 4 }),
    fc.constantFrom("replace", "truncate", "insert", "delete"),
  ).map(([v, edits, how]) => {
    let s = v;
    for (const [at, c] of edits) {
      const p = at % Math.max(1, s.length);
      const ch = String.fromCharCode(c);
      if (how === "replace") s = s.slice(0, p) + ch + s.slice(p + 1);
      else if (how === "truncate") s = s.slice(0, p);
      else if (how === "insert") s = s.slice(0, p) + ch + s.slice(p);
      else s = s.slice(0, p) + s.slice(p + 1);
    }
    return s;
  });

async function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  run: (x: T) => unknown,
  expected: (e: unknown) => string | null,
): Promise<void> {
  const outcomes = new Tally();
  await fc.assert(
    fc.asyncProperty(arb, async (x) => {
      try {
        await run(x);
        outcomes.add("accepted");
      } catch (e) {
        const code = expected(e);
        if (code === null) throw e;
        outcomes.add(code);
      }
    }),
    { numRuns: N },
  );
  figure(
    `fuzz-parsers[${name}]`,
    `${outcomes.total} inputs, 0 crashes, 0 undocumented errors: ${outcomes}`,
  );
}

const keyBlockError = (e: unknown) => e instanceof KeyBlockError ? e.code : null;
const rsaKeyError = (e: unknown) =>
  e instanceof RsaKeyError && e.message.length > 0 ? "RsaKeyError" : null;
const certificateError = (e: unknown) => e instanceof CertificateError ? e.code : null;

Deno.test(`fuzz the key block parsers, ${N} inputs each`, async () => {
  const vectors = loadVectors<{ vectors: { kbpk: string; key_block: string; valid: boolean }[] }>(
    "tr31_keyblocks.json",
  ).vectors.filter((v) => v.valid);
  const blocks = vectors.map((v) => v.key_block);
  const input = fc.oneof(fc.string(), fc.string({ unit: "binary" }), textMutation(blocks));
  await fuzz("readKeyBlockHeader", input, (s) => readKeyBlockHeader(s), keyBlockError);
  await fuzz(
    "unwrapKeyBlock",
    fc.tuple(fc.constantFrom(...vectors), input),
    ([v, s]) =>
      unwrapKeyBlock(hex(v.kbpk), s, { core }).then((r) => {
        // A mutation that gives back the original block is the only way to get a key.
        if (s !== v.key_block && !blocks.includes(s)) {
          throw new Error(`accepted a changed block ${s}`);
        }
        return r;
      }),
    keyBlockError,
  );
});

Deno.test(`fuzz the RSA key parsers (PEM and DER), ${N} inputs each`, async () => {
  const pair = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
  const spki = new Uint8Array(pair.publicKey.export({ type: "spki", format: "der" }));
  const pkcs8 = new Uint8Array(pair.privateKey.export({ type: "pkcs8", format: "der" }));
  const spkiPem = pair.publicKey.export({ type: "spki", format: "pem" }) as string;
  const pkcs8Pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const pkcs1Pem = pair.publicKey.export({ type: "pkcs1", format: "pem" }) as string;
  const bytes = (valid: Uint8Array) =>
    fc.oneof(fc.uint8Array({ maxLength: 600 }), bytesMutation([valid]));
  await fuzz("importSpkiDer", bytes(spki), (b) => importSpkiDer(b), rsaKeyError);
  await fuzz("importPkcs8Der", bytes(pkcs8), (b) => importPkcs8Der(b), rsaKeyError);
  const text = fc.oneof(fc.string(), textMutation([spkiPem, pkcs1Pem, pkcs8Pem]));
  await fuzz("importPublicKeyPem", text, (s) => importPublicKeyPem(s), rsaKeyError);
  await fuzz("importPrivateKeyPem", text, (s) => importPrivateKeyPem(s), rsaKeyError);
});

Deno.test(`fuzz the certificate parser (PEM and DER), ${N} inputs each`, async () => {
  const pair = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = pair.privateKey.export({ format: "jwk" }) as Record<string, string>;
  const b64 = (s: string) =>
    Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const key = {
    n: b64(jwk.n),
    e: b64(jwk.e),
    d: b64(jwk.d),
    p: b64(jwk.p),
    q: b64(jwk.q),
    dp: b64(jwk.dp),
    dq: b64(jwk.dq),
    qi: b64(jwk.qi),
  };
  const pem = await issueCertificate({
    profile: "root-ca",
    subject: { commonName: "Fuzz Root" },
    publicKey: key,
    notBefore: new Date(Date.UTC(2026, 0, 1)),
    notAfter: new Date(Date.UTC(2027, 0, 1)),
    issuer: { privateKey: key },
  }, { core });
  const der = new Uint8Array(new nodeCrypto.X509Certificate(pem).raw);
  await fuzz(
    "parseCertificate(PEM)",
    fc.oneof(fc.string(), textMutation([pem])),
    (s) => parseCertificate(s),
    certificateError,
  );
  // Deterministic sweep: each byte replaced by, and each position given an inserted,
  // 0x00, 0x17, 0x80 and 0xFF (asn1js threw RangeError / Error on some of these).
  const sweep = new Tally();
  for (let p = 0; p < der.length; p++) {
    for (const x of [0x00, 0x17, 0x80, 0xff]) {
      const replaced = der.slice();
      replaced[p] = x;
      for (const b of [replaced, new Uint8Array([...der.slice(0, p), x, ...der.slice(p)])]) {
        try {
          parseCertificate(b);
          sweep.add("accepted");
        } catch (e) {
          const code = certificateError(e);
          if (code === null) throw e;
          sweep.add(code);
        }
      }
    }
  }
  figure(
    "fuzz-parsers[parseCertificate(DER) byte sweep]",
    `${sweep.total} inputs (${der.length} positions x 4 values x replace/insert), 0 undocumented errors: ${sweep}`,
  );
  await fuzz(
    "parseCertificate(DER)",
    fc.oneof(fc.uint8Array({ maxLength: 800 }), bytesMutation([der])),
    (b) => parseCertificate(b),
    certificateError,
  );
});

Deno.test(`fuzz every protocol message schema, ${N} inputs each`, async () => {
  const schemas = Object.entries(protocol).filter(([name, v]) =>
    /^[A-Z]/.test(name) && v !== null && typeof v === "object" &&
    typeof (v as { parse?: unknown }).parse === "function" &&
    ((v as { jsonSchema?: { type?: string } }).jsonSchema?.type === "object")
  ) as [string, protocol.Schema<unknown>][];
  if (schemas.length < 20) throw new Error(`only ${schemas.length} message schemas found`);
  const value = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue(), { maxKeys: 6 }),
  );
  const outcomes = new Tally();
  for (const [, schema] of schemas) {
    // Random objects with the schema's own field names, so parsing gets past the first field.
    const fields = Object.keys(
      ((schema.jsonSchema as { properties?: Record<string, unknown> }).properties) ?? {},
    );
    const shaped = fields.length === 0 ? value : fc.record(
      Object.fromEntries(
        fields.map((
          f,
        ) => [f, fc.oneof(fc.jsonValue(), fc.string(), fc.stringMatching(/^[0-9A-F]{0,80}$/))]),
      ),
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.property(fc.oneof(value, shaped), (v) => {
        try {
          schema.parse(v, "body");
          outcomes.add("accepted");
        } catch (e) {
          if (!(e instanceof protocol.ValidationError) || !e.message.includes("body")) throw e;
          outcomes.add(e.code);
        }
      }),
      { numRuns: N },
    );
  }
  figure(
    "fuzz-parsers[protocol schemas]",
    `${schemas.length} message schemas x ${N} = ${outcomes.total} inputs, 0 crashes, every refusal a ValidationError naming its field: ${outcomes}`,
  );
});
