/**
 * RSA-2048 in src/crypto, per crypto core (wasm, pure-JS js) against
 * node:crypto (OpenSSL, native): key generation, RSA-OAEP-SHA256 encryption
 * and decryption (blinded CRT with the re-encryption check).
 *
 * Setup (keys, cores, messages) is outside the timed part; each iteration
 * checks its result. Key generation is randomised (prime search), so its
 * figures vary from run to run far more than the others: few iterations.
 *
 * Run: `deno bench --allow-all bench/crypto_bench.ts`
 */
import nodeCrypto from "node:crypto";
import { allCores } from "./_cores.ts";
import { generateRsaKeyPair, oaepDecrypt, oaepEncrypt } from "../src/crypto/mod.ts";
import { importPrivateKeyPem, publicKeyOf } from "../src/crypto/rsa_keys.ts";

const cores = await allCores();
const node = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKey = importPrivateKeyPem(
  node.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
);
const publicKey = publicKeyOf(privateKey);
const message = crypto.getRandomValues(new Uint8Array(16)); // a double-length TDES key
const OAEP = nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING;
const nodeCiphertext = nodeCrypto.publicEncrypt(
  { key: node.publicKey, padding: OAEP, oaepHash: "sha256" },
  message,
);

function check(out: Uint8Array): void {
  if (out.length !== 16 || out[0] !== message[0] || out[15] !== message[15]) {
    throw new Error("OAEP round trip failed");
  }
}

for (const core of cores) {
  Deno.bench({
    name: `RSA-2048 keygen (${core.name})`,
    group: "rsa-keygen",
    baseline: core.name === "js",
    n: 6,
    warmup: 1,
    async fn() {
      const kp = await generateRsaKeyPair({ bits: 2048, core });
      if (kp.publicKey.n.length !== 256) throw new Error("bad key");
    },
  });
}
Deno.bench({
  name: "RSA-2048 keygen (node:crypto)",
  group: "rsa-keygen",
  n: 6,
  warmup: 1,
  fn() {
    const kp = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    if (kp.publicKey.asymmetricKeyDetails?.modulusLength !== 2048) throw new Error("bad key");
  },
});

for (const core of cores) {
  Deno.bench({
    name: `RSA-2048 OAEP-SHA256 encrypt (${core.name})`,
    group: "oaep-encrypt",
    baseline: core.name === "js",
    async fn() {
      const c = await oaepEncrypt(publicKey, message, { hash: "SHA-256", core });
      if (c.length !== 256) throw new Error("bad ciphertext");
    },
  });
}
Deno.bench({
  name: "RSA-2048 OAEP-SHA256 encrypt (node:crypto)",
  group: "oaep-encrypt",
  fn() {
    const c = nodeCrypto.publicEncrypt(
      { key: node.publicKey, padding: OAEP, oaepHash: "sha256" },
      message,
    );
    if (c.length !== 256) throw new Error("bad ciphertext");
  },
});

for (const core of cores) {
  Deno.bench({
    name: `RSA-2048 OAEP-SHA256 decrypt (${core.name})`,
    group: "oaep-decrypt",
    baseline: core.name === "js",
    async fn() {
      check(await oaepDecrypt(privateKey, nodeCiphertext, { hash: "SHA-256", core }));
    },
  });
}
Deno.bench({
  name: "RSA-2048 OAEP-SHA256 decrypt (node:crypto)",
  group: "oaep-decrypt",
  fn() {
    check(
      nodeCrypto.privateDecrypt(
        { key: node.privateKey, padding: OAEP, oaepHash: "sha256" },
        nodeCiphertext,
      ),
    );
  },
});
