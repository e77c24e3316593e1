/**
 * RSA schemes against the Wycheproof vectors in tests/vectors (OAEP SHA-1 and
 * SHA-256, PKCS#1 v1.5 decryption, PKCS#1 v1.5 SHA-256 signatures), on every
 * core. Every invalid decryption must fail with exactly the same error.
 */
import { assert, assertEquals, assertFalse, assertInstanceOf, assertRejects } from "@std/assert";
import type { CryptoCore, RsaPrivateKey } from "../../src/core/types.ts";
import {
  DecryptionError,
  importPkcs8Der,
  oaepDecrypt,
  pkcs1v15Decrypt,
  pkcs1v15Sign,
  pkcs1v15Verify,
  type RsaHash,
  validateRsaPrivateKey,
} from "../../src/crypto/mod.ts";
import { allCores, hex, loadVectors, toHex } from "../_helpers.ts";
import { wycheproofKey, type WycheproofPrivateKey } from "./_rsa_helpers.ts";

const cores = await allCores();

interface DecryptVector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  ct: string;
  label?: string;
  result: "valid" | "invalid";
}
interface DecryptFile {
  privateKey: WycheproofPrivateKey;
  sha?: string;
  vectors: DecryptVector[];
}
interface SigVector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
}
interface SigFile {
  sign: {
    privateKeyPkcs8: string;
    privateKey: { modulus: string; privateExponent: string; publicExponent: string };
    tests: SigVector[];
  };
  verify: { publicKey: { modulus: string; publicExponent: string }; tests: SigVector[] };
}

type Decrypt = (key: RsaPrivateKey, ct: Uint8Array, core: CryptoCore) => Promise<Uint8Array>;

async function runDecryptFile(
  core: CryptoCore,
  file: DecryptFile,
  decrypt: Decrypt,
): Promise<void> {
  const key = wycheproofKey(file.privateKey);
  validateRsaPrivateKey(key);
  const errors: DecryptionError[] = [];
  let valid = 0;
  for (const v of file.vectors) {
    const name = `tcId ${v.tcId} ${v.comment} ${v.flags.join(",")}`;
    if (v.result === "valid") {
      assertEquals(toHex(await decrypt(key, hex(v.ct), core)), v.msg.toUpperCase(), name);
      valid++;
    } else {
      const e = await assertRejects(
        () => decrypt(key, hex(v.ct), core),
        DecryptionError,
        undefined,
        name,
      );
      errors.push(e);
    }
  }
  assertEquals(valid, 10);
  assertEquals(errors.length, 12);
  // Every invalid ciphertext fails identically: same class, message, code and fields.
  for (const e of errors) {
    assertEquals(Object.getPrototypeOf(e), DecryptionError.prototype);
    assertEquals(e.message, "decryption failed");
    assertEquals(e.code, "DECRYPTION_FAILED");
    assertEquals(e.name, "DecryptionError");
    assertEquals(Object.keys(e), Object.keys(errors[0]));
  }
}

for (const core of cores) {
  for (
    const [file, hash] of [
      ["rsa_oaep_2048_sha1_decrypt.json", "SHA-1"],
      ["rsa_oaep_2048_sha256_decrypt.json", "SHA-256"],
    ] as [string, RsaHash][]
  ) {
    Deno.test(`oaep: every vector in ${file} (${core.name})`, async () => {
      const f = loadVectors<DecryptFile>(file);
      assertEquals(f.sha, hash);
      const byCt = new Map(f.vectors.map((v) => [v.ct, v]));
      await runDecryptFile(
        core,
        f,
        (key, ct, core) =>
          oaepDecrypt(key, ct, {
            hash,
            label: hex(byCt.get(toHex(ct).toLowerCase())?.label ?? ""),
            core,
          }),
      );
    });
  }

  Deno.test(`oaep: a labelled ciphertext with the wrong label fails like any other (${core.name})`, async () => {
    const f = loadVectors<DecryptFile>("rsa_oaep_2048_sha256_decrypt.json");
    const key = wycheproofKey(f.privateKey);
    const v = f.vectors.find((x) => x.label && x.result === "valid")!;
    const e = await assertRejects(
      () => oaepDecrypt(key, hex(v.ct), { hash: "SHA-256", core }),
      DecryptionError,
    );
    assertEquals(e.message, "decryption failed");
    // And with SHA-1 instead of SHA-256.
    await assertRejects(
      () => oaepDecrypt(key, hex(v.ct), { hash: "SHA-1", label: hex(v.label!), core }),
      DecryptionError,
      "decryption failed",
    );
  });

  Deno.test(`pkcs1v15Decrypt: every vector in rsa_pkcs1v15_2048_decrypt.json (${core.name})`, async () => {
    const f = loadVectors<DecryptFile>("rsa_pkcs1v15_2048_decrypt.json");
    await runDecryptFile(core, f, (key, ct, core) => pkcs1v15Decrypt(key, ct, { core }));
  });

  Deno.test(`pkcs1v15Sign/Verify: every vector in rsa_pkcs1v15_sha256_sig_2048.json (${core.name})`, async () => {
    const f = loadVectors<SigFile>("rsa_pkcs1v15_sha256_sig_2048.json");
    const key = importPkcs8Der(hex(f.sign.privateKeyPkcs8));
    assertEquals(toHex(key.n), f.sign.privateKey.modulus.replace(/^00/, "").toUpperCase());
    assertEquals(toHex(key.d), f.sign.privateKey.privateExponent.toUpperCase());
    assertEquals(f.sign.tests.length, 8);
    for (const v of f.sign.tests) {
      const sig = await pkcs1v15Sign(key, hex(v.msg), { core });
      assertEquals(toHex(sig), v.sig.toUpperCase(), `sign tcId ${v.tcId}`);
      assert(await pkcs1v15Verify(key, hex(v.msg), sig, { core }), `verify tcId ${v.tcId}`);
    }
    const pub = { n: hex(f.verify.publicKey.modulus), e: hex(f.verify.publicKey.publicExponent) };
    assertEquals(f.verify.tests.length, 20);
    let valid = 0;
    for (const v of f.verify.tests) {
      const ok = await pkcs1v15Verify(pub, hex(v.msg), hex(v.sig), { core });
      // "acceptable" (MissingNull: DigestInfo without the NULL parameters) is left to the
      // implementation by Wycheproof; we accept only the one encoding RFC 8017 9.2 builds.
      if (v.result === "valid") {
        assert(ok, `tcId ${v.tcId} ${v.comment}`);
        valid++;
      } else assertFalse(ok, `tcId ${v.tcId} ${v.result} ${v.comment} ${v.flags}`);
    }
    assertEquals(valid, 5);
  });
}

Deno.test("DecryptionError is a CryptoError with a code", () => {
  const e = new DecryptionError();
  assertInstanceOf(e, Error);
  assertEquals([e.name, e.code, e.message], [
    "DecryptionError",
    "DECRYPTION_FAILED",
    "decryption failed",
  ]);
});
