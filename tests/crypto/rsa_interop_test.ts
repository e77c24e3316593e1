/**
 * RSA interop with node:crypto (OpenSSL) both ways, on every core: OAEP
 * (SHA-1/SHA-256, with labels), PKCS#1 v1.5 encryption and SHA-256 signatures,
 * type-1 private encrypt / public decrypt, and keys (PKCS#8, SPKI, PKCS#1, JWK)
 * exported by one side and read by the other. Also: e = 3 signature forgeries
 * (Bleichenbacher 2006) refused, blinding and the fault check observed.
 */
import { assert, assertEquals, assertFalse, assertNotEquals, assertRejects } from "@std/assert";
import nodeCrypto from "node:crypto";
import type { CryptoCore, RsaPrivateKey } from "../../src/core/types.ts";
import {
  DecryptionError,
  exportJwk,
  exportPkcs8Der,
  exportPkcs8Pem,
  exportSpkiDer,
  exportSpkiPem,
  importJwk,
  importPkcs8Der,
  importPrivateKeyPem,
  importPublicKeyPem,
  importSpkiDer,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Decrypt,
  pkcs1v15Encrypt,
  pkcs1v15Sign,
  pkcs1v15Verify,
  privateEncrypt,
  publicDecrypt,
  publicKeyOf,
  RsaFaultError,
  type RsaHash,
  type RsaJwk,
  SignatureError,
} from "../../src/crypto/mod.ts";
import { allCores, fromBigInt, hex, loadVectors, randomBytes, toBigInt } from "../_helpers.ts";
import { cbrtMod2k, icbrt, wycheproofKey, type WycheproofPrivateKey } from "./_rsa_helpers.ts";

const cores = await allCores();

// One node key pair for the whole file (generation is the slow part).
const node = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const ours = importPrivateKeyPem(
  node.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
);
const oursPub = importPublicKeyPem(
  node.publicKey.export({ type: "spki", format: "pem" }) as string,
);

const OAEP = nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING;
const PKCS1 = nodeCrypto.constants.RSA_PKCS1_PADDING;
const nodeHash = (h: RsaHash) => (h === "SHA-1" ? "sha1" : "sha256");
const u8 = (b: Uint8Array) => new Uint8Array(b);

for (const core of cores) {
  Deno.test(`interop: OAEP both ways, SHA-1 and SHA-256, with and without label (${core.name})`, async () => {
    for (const hash of ["SHA-1", "SHA-256"] as RsaHash[]) {
      for (const label of [new Uint8Array(0), randomBytes(20)]) {
        for (const len of [0, 1, 32, 256 - 2 * (hash === "SHA-1" ? 20 : 32) - 2]) {
          const msg = randomBytes(len);
          const opts = {
            key: node.publicKey,
            padding: OAEP,
            oaepHash: nodeHash(hash),
            oaepLabel: label,
          };
          const c1 = nodeCrypto.publicEncrypt(opts, msg);
          assertEquals(await oaepDecrypt(ours, u8(c1), { hash, label, core }), msg);
          const c2 = await oaepEncrypt(oursPub, msg, { hash, label, core });
          assertEquals(c2.length, 256);
          const back = nodeCrypto.privateDecrypt({ ...opts, key: node.privateKey }, c2);
          assertEquals(u8(back), msg);
        }
      }
    }
  });

  Deno.test(`interop: PKCS#1 v1.5 encryption both ways (${core.name})`, async () => {
    for (const len of [0, 1, 48, 245]) {
      const msg = randomBytes(len);
      const c1 = nodeCrypto.publicEncrypt({ key: node.publicKey, padding: PKCS1 }, msg);
      assertEquals(await pkcs1v15Decrypt(ours, u8(c1), { core }), msg);
      const c2 = await pkcs1v15Encrypt(oursPub, msg, { core });
      assertEquals(
        u8(nodeCrypto.privateDecrypt({ key: node.privateKey, padding: PKCS1 }, c2)),
        msg,
      );
    }
  });

  Deno.test(`pkcs1v15Encrypt: EM is 00 02, non-zero random PS, 00, M (${core.name})`, async () => {
    for (const len of [0, 100, 245]) {
      const msg = randomBytes(len);
      const c = await pkcs1v15Encrypt(oursPub, msg, { core });
      const em = u8(nodeCrypto.privateDecrypt(
        { key: node.privateKey, padding: nodeCrypto.constants.RSA_NO_PADDING },
        c,
      ));
      assertEquals([em[0], em[1], em[256 - len - 1]], [0, 2, 0]);
      assert(em.subarray(2, 256 - len - 1).every((b) => b !== 0), "PS has no zero byte");
      assertEquals(em.subarray(256 - len), msg);
    }
  });

  Deno.test(`interop: PKCS#1 v1.5 SHA-256 signatures both ways (${core.name})`, async () => {
    for (const len of [0, 1, 100, 1000]) {
      const msg = randomBytes(len);
      const s1 = nodeCrypto.sign("sha256", msg, node.privateKey);
      assert(await pkcs1v15Verify(oursPub, msg, u8(s1), { core }));
      const s2 = await pkcs1v15Sign(ours, msg, { core });
      assertEquals(s2, u8(s1)); // deterministic: same signature as OpenSSL
      assert(nodeCrypto.verify("sha256", msg, node.publicKey, s2));
      const bad = s2.slice();
      bad[100] ^= 1;
      assertFalse(await pkcs1v15Verify(oursPub, msg, bad, { core }));
      assertFalse(await pkcs1v15Verify(oursPub, randomBytes(len + 1), s2, { core }));
    }
  });

  Deno.test(`interop: type-1 private encrypt / public decrypt both ways (${core.name})`, async () => {
    for (const len of [0, 8, 8 + 13, 245]) {
      const msg = randomBytes(len);
      const s1 = nodeCrypto.privateEncrypt(node.privateKey, msg);
      assertEquals(await publicDecrypt(oursPub, u8(s1), { core }), msg);
      const s2 = await privateEncrypt(ours, msg, { core });
      assertEquals(s2, u8(s1)); // type-1 padding is deterministic
      assertEquals(u8(nodeCrypto.publicDecrypt(node.publicKey, s2)), msg);
    }
  });

  Deno.test(`type-1 public decrypt: tampered signatures refused with one error (${core.name})`, async () => {
    const msg = randomBytes(16);
    const s = await privateEncrypt(ours, msg, { core });
    const raw = (em: Uint8Array) => {
      assertEquals(em.length, 256);
      return u8(
        nodeCrypto.privateDecrypt({
          key: node.privateKey,
          padding: nodeCrypto.constants.RSA_NO_PADDING,
        }, em),
      );
    };
    const em = (bytes: number[]) => {
      const e = new Uint8Array(256).fill(0xff);
      e.set(bytes.slice(0, 2), 0);
      e.set(bytes.slice(2), 256 - (bytes.length - 2));
      return e;
    };
    const cases: [string, Uint8Array][] = [
      [
        "one bit flipped",
        (() => {
          const x = s.slice();
          x[5] ^= 1;
          return x;
        })(),
      ],
      ["too short", s.subarray(1)],
      ["too long", new Uint8Array([0, ...s])],
      ["equal to n", oursPub.n.slice()],
      ["block type 2", raw(em([0, 2, 0, 1, 2, 3]))],
      [
        "no zero separator",
        raw(new Uint8Array(256).fill(0xff).map((v, i) => (i === 0 ? 0 : i === 1 ? 1 : v))),
      ],
      [
        "padding shorter than 8",
        raw(new Uint8Array([0, 1, ...new Array(7).fill(0xff), 0, ...new Array(246).fill(7)])),
      ],
      ["leading byte 1", raw(new Uint8Array([1, 1, ...new Array(254).fill(0xff)]))],
    ];
    for (const [name, sig] of cases) {
      const e = await assertRejects(
        () => publicDecrypt(oursPub, sig, { core }),
        SignatureError,
        undefined,
        name,
      );
      assertEquals(e.message, "signature verification failed", name);
    }
  });

  Deno.test(`e = 3 forged signatures (Bleichenbacher 2006) are refused (${core.name})`, async () => {
    // Any 2048-bit modulus works: the forgeries have s^3 < n, no private key is needed.
    const pub = { n: oursPub.n, e: new Uint8Array([3]) };
    const k = 256;
    const prefixInfo = hex("3031300D060960864801650304020105000420");
    let msg: Uint8Array;
    let h: Uint8Array;
    do {
      msg = randomBytes(16);
      h = u8(nodeCrypto.createHash("sha256").update(msg).digest());
    } while ((h[31] & 1) === 0); // the second forgery needs an odd suffix

    // (a) garbage after the digest: 00 01 FF 00 DigestInfo H garbage.
    const pa = new Uint8Array([0, 1, 0xff, 0, ...prefixInfo, ...h]);
    const ta = toBigInt(pa) << BigInt(8 * (k - pa.length));
    let sa = icbrt(ta);
    if (sa ** 3n < ta) sa++;
    const emA = fromBigInt(sa ** 3n, k);
    assertEquals(emA.subarray(0, pa.length), pa); // a lenient parser would accept it

    // (b) garbage in the AlgorithmIdentifier parameters, digest at the end:
    // 00 01 FF*8 00 30 81 F2 30 81 CD 06 09 <sha256 OID> <194 bytes garbage> 04 20 H.
    const oid = hex("608648016503040201");
    const pb = new Uint8Array([
      0,
      1,
      ...new Array(8).fill(0xff),
      0,
      0x30,
      0x81,
      0xf2,
      0x30,
      0x81,
      0xcd,
      0x06,
      0x09,
      ...oid,
    ]);
    const suffix = new Uint8Array([0x04, 0x20, ...h]);
    const m = 8 * suffix.length;
    const low = cbrtMod2k(toBigInt(suffix), m);
    const tb = toBigInt(pb) << BigInt(8 * (k - pb.length));
    const sb = (((icbrt(tb) >> BigInt(m)) + 1n) << BigInt(m)) + low;
    const emB = fromBigInt(sb ** 3n, k);
    assertEquals(emB.subarray(0, pb.length), pb);
    assertEquals(emB.subarray(k - suffix.length), suffix);

    for (
      const [name, s] of [["garbage after digest", sa], ["garbage in parameters", sb]] as const
    ) {
      const sig = fromBigInt(s, k);
      assertFalse(await pkcs1v15Verify(pub, msg, sig, { core }), name);
      const nodePub = nodeCrypto.createPublicKey({
        key: exportSpkiDer(pub),
        format: "der",
        type: "spki",
      });
      assertFalse(nodeCrypto.verify("sha256", msg, nodePub, sig), `node agrees: ${name}`);
    }
  });
}

// --- keys ------------------------------------------------------------------------------------

Deno.test("keys: ours read by node:crypto (PKCS#8, SPKI, JWK) and node's read by ours (PKCS#8, SPKI, PKCS#1, JWK)", () => {
  // Ours -> node.
  const priv = nodeCrypto.createPrivateKey(exportPkcs8Pem(ours));
  const privDer = nodeCrypto.createPrivateKey({
    key: exportPkcs8Der(ours),
    format: "der",
    type: "pkcs8",
  });
  const pub = nodeCrypto.createPublicKey(exportSpkiPem(oursPub));
  const pubDer = nodeCrypto.createPublicKey({
    key: exportSpkiDer(oursPub),
    format: "der",
    type: "spki",
  });
  const privJwk = nodeCrypto.createPrivateKey({
    key: exportJwk(ours) as unknown as JsonWebKey,
    format: "jwk",
  });
  const pubJwk = nodeCrypto.createPublicKey({
    key: exportJwk(oursPub) as unknown as JsonWebKey,
    format: "jwk",
  });
  const nodeJwk = node.privateKey.export({ format: "jwk" });
  for (const k of [priv, privDer, privJwk]) assertEquals(k.export({ format: "jwk" }), nodeJwk);
  for (const k of [pub, pubDer, pubJwk]) {
    assertEquals(k.export({ format: "jwk" }), node.publicKey.export({ format: "jwk" }));
  }
  // Byte-identical DER to OpenSSL's encoders.
  assertEquals(exportPkcs8Der(ours), u8(node.privateKey.export({ type: "pkcs8", format: "der" })));
  assertEquals(exportSpkiDer(oursPub), u8(node.publicKey.export({ type: "spki", format: "der" })));
  // Node -> ours, every format.
  assertEquals(importPkcs8Der(u8(node.privateKey.export({ type: "pkcs8", format: "der" }))), ours);
  assertEquals(importSpkiDer(u8(node.publicKey.export({ type: "spki", format: "der" }))), oursPub);
  assertEquals(
    importPrivateKeyPem(node.privateKey.export({ type: "pkcs1", format: "pem" }) as string),
    ours,
  );
  assertEquals(
    importPublicKeyPem(node.publicKey.export({ type: "pkcs1", format: "pem" }) as string),
    oursPub,
  );
  assertEquals(importJwk(nodeJwk as RsaJwk), ours);
  assertEquals(importJwk(node.publicKey.export({ format: "jwk" }) as RsaJwk), oursPub);
  assertEquals(publicKeyOf(ours), oursPub);
  // PEM round trip.
  assertEquals(importPrivateKeyPem(exportPkcs8Pem(ours)), ours);
  assertEquals(importPublicKeyPem(exportSpkiPem(oursPub)), oursPub);
});

Deno.test("keys: the Wycheproof keys (leading zero bytes in hex) export to DER node:crypto reads", () => {
  const f = loadVectors<{ privateKey: WycheproofPrivateKey }>("rsa_oaep_2048_sha256_decrypt.json");
  const key = wycheproofKey(f.privateKey);
  const k = nodeCrypto.createPrivateKey({ key: exportPkcs8Der(key), format: "der", type: "pkcs8" });
  assertEquals(k.asymmetricKeyDetails?.modulusLength, 2048);
  assertEquals(importPkcs8Der(exportPkcs8Der(key)).n.length, 256);
});

// --- blinding and the fault check ---------------------------------------------------------------

function spyCore(core: CryptoCore, corrupt: boolean, seen: Uint8Array[]): CryptoCore {
  return {
    ...core,
    name: core.name,
    rsaPrivate(key: RsaPrivateKey, input: Uint8Array) {
      seen.push(input.slice());
      const out = core.rsaPrivate(key, input);
      if (corrupt) out[out.length - 1] ^= 1; // a simulated CRT fault
      return out;
    },
  };
}

for (const core of cores) {
  Deno.test(`blinding: the core never sees the caller's ciphertext, and two runs differ (${core.name})`, async () => {
    const seen: Uint8Array[] = [];
    const spy = spyCore(core, false, seen);
    const c = await oaepEncrypt(oursPub, new Uint8Array([1, 2, 3]), { core });
    assertEquals(await oaepDecrypt(ours, c, { core: spy }), new Uint8Array([1, 2, 3]));
    assertEquals(await oaepDecrypt(ours, c, { core: spy }), new Uint8Array([1, 2, 3]));
    assertEquals(seen.length, 2);
    assertNotEquals(seen[0], c);
    assertNotEquals(seen[1], c);
    assertNotEquals(seen[0], seen[1]);
  });

  Deno.test(`fault check: a corrupted private result is never used (${core.name})`, async () => {
    const spy = spyCore(core, true, []);
    await assertRejects(
      () => pkcs1v15Sign(ours, new Uint8Array(3), { core: spy }),
      RsaFaultError,
      "the RSA private operation failed its consistency check",
    );
    await assertRejects(
      () => privateEncrypt(ours, new Uint8Array(3), { core: spy }),
      RsaFaultError,
    );
    const c = await oaepEncrypt(oursPub, new Uint8Array([9]), { core });
    await assertRejects(
      () => oaepDecrypt(ours, c, { core: spy }),
      DecryptionError,
      "decryption failed",
    );
    const c2 = await pkcs1v15Encrypt(oursPub, new Uint8Array([9]), { core });
    await assertRejects(
      () => pkcs1v15Decrypt(ours, c2, { core: spy }),
      DecryptionError,
      "decryption failed",
    );
  });
}

// --- blinding pairs: squared per use, fresh after a fixed number of uses -------------------------

/** `b^x mod m` by square-and-multiply (public values only). */
function powMod(b: bigint, x: bigint, m: bigint): bigint {
  let r = 1n;
  for (b %= m; x > 0n; x >>= 1n, b = (b * b) % m) if (x & 1n) r = (r * b) % m;
  return r;
}

/** How many uses one blinding `r` serves (`BLINDING_USES` of src/crypto/_blinding.ts). */
const PAIR_USES = 32;

for (const core of cores) {
  Deno.test(`blinding: r^e is squared per use and drawn afresh every ${PAIR_USES} uses (${core.name})`, async () => {
    // A key of this test only, so no other test has used its pairs.
    const k = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = importPrivateKeyPem(
      k.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    );
    const n = toBigInt(key.n);
    const seen: Uint8Array[] = [];
    const spy = spyCore(core, false, seen);
    const message = new Uint8Array([7, 7, 7]);
    const uses = 3 * PAIR_USES + 5;
    const signatures: Uint8Array[] = [];
    for (let i = 0; i < uses; i++) signatures.push(await pkcs1v15Sign(key, message, { core: spy }));
    // Every signature equals OpenSSL's (PKCS#1 v1.5 is deterministic) despite the blinding.
    const expected = nodeCrypto.sign("sha256", message, k.privateKey);
    for (const s of signatures) assertEquals(u8(s), u8(expected));
    // The core saw em * r_i^e; em is the same each time, so r_i^e = seen_i / em.
    const em = powMod(toBigInt(signatures[0]), toBigInt(key.e), n);
    const emInv = modInv(em, n);
    const re = seen.map((b) => (toBigInt(b) * emInv) % n);
    const squared = re.slice(1).map((x, i) => x === (re[i] * re[i]) % n);
    for (let i = 0; i < squared.length; i++) {
      // Use i+1 is use number (i+1) % PAIR_USES of its r: fresh at 0, squared otherwise.
      assertEquals(squared[i], (i + 1) % PAIR_USES !== 0, `use ${i + 1}`);
    }
    assertEquals(new Set(re.map(String)).size, uses);
    // A failed fault check drops the key's pair: the next operation draws a fresh r.
    const faulty: Uint8Array[] = [];
    await assertRejects(() => pkcs1v15Sign(key, message, { core: spyCore(core, true, faulty) }));
    await pkcs1v15Sign(key, message, { core: spy });
    const [afterFault, next] = [faulty[0], seen[uses]].map((b) => (toBigInt(b) * emInv) % n);
    assertNotEquals(next, (afterFault * afterFault) % n);
    assertEquals(afterFault, (re[uses - 1] * re[uses - 1]) % n);
  });
}

/** `a^-1 mod m` (extended Euclid on public test values). */
function modInv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  assertEquals(r0, 1n);
  return ((s0 % m) + m) % m;
}
