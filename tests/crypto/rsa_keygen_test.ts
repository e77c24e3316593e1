/**
 * RSA key generation on every core (1024 and 2048 bits only, for speed):
 * consistency checked with BigInt, keys accepted by node:crypto and usable
 * with it both ways; Miller-Rabin against known primes and composites.
 */
import { assert, assertEquals, assertFalse } from "@std/assert";
import nodeCrypto from "node:crypto";
import {
  exportPkcs8Pem,
  exportSpkiPem,
  generateRsaKeyPair,
  millerRabinRounds,
  oaepDecrypt,
  oaepEncrypt,
  pkcs1v15Verify,
  validateRsaPrivateKey,
} from "../../src/crypto/mod.ts";
import { millerRabin } from "../../src/crypto/keygen.ts";
import { allCores, randomBytes, toBigInt } from "../_helpers.ts";

const cores = await allCores();

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

for (const core of cores) {
  for (const bits of [1024, 2048]) {
    Deno.test(`keygen: ${bits}-bit key is consistent and node:crypto uses it (${core.name})`, async () => {
      const { publicKey, privateKey } = await generateRsaKeyPair({ bits, core });
      validateRsaPrivateKey(privateKey);
      const [n, e, d, p, q, dp, dq, qi] = [
        privateKey.n,
        privateKey.e,
        privateKey.d,
        privateKey.p,
        privateKey.q,
        privateKey.dp,
        privateKey.dq,
        privateKey.qi,
      ].map(toBigInt);
      assertEquals(n.toString(2).length, bits);
      assertEquals(e, 65537n);
      assertEquals(p * q, n);
      for (const x of [p, q]) {
        const s = x.toString(2);
        assertEquals(s.length, bits / 2);
        assert(s.startsWith("11"), "top two bits set");
        assertEquals(gcd(e, x - 1n), 1n);
      }
      const l = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
      assertEquals((e * d) % l, 1n);
      assert(d > 1n << BigInt(bits / 2));
      assert(d < l);
      assertEquals(dp, d % (p - 1n));
      assertEquals(dq, d % (q - 1n));
      assertEquals((qi * q) % p, 1n);
      const diff = p > q ? p - q : q - p;
      assert(diff > 1n << BigInt(bits / 2 - 100));
      assertEquals(publicKey, { n: privateKey.n, e: privateKey.e });
      // node:crypto reads both halves and works with them.
      const nPriv = nodeCrypto.createPrivateKey(exportPkcs8Pem(privateKey));
      const nPub = nodeCrypto.createPublicKey(exportSpkiPem(publicKey));
      assertEquals(nPriv.asymmetricKeyDetails, { modulusLength: bits, publicExponent: 65537n });
      const msg = randomBytes(20);
      const sig = nodeCrypto.sign("sha256", msg, nPriv);
      assert(await pkcs1v15Verify(publicKey, msg, new Uint8Array(sig), { core }));
      const c = nodeCrypto.publicEncrypt(
        { key: nPub, padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        msg,
      );
      assertEquals(await oaepDecrypt(privateKey, new Uint8Array(c), { core }), msg);
      const c2 = await oaepEncrypt(publicKey, msg, { core });
      const back = nodeCrypto.privateDecrypt(
        { key: nPriv, padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        c2,
      );
      assertEquals(new Uint8Array(back), msg);
    });
  }

  Deno.test(`millerRabin: primes, composites and Carmichael numbers (${core.name})`, () => {
    // Mersenne primes 2^521-1, 2^607-1; 2^(2^5)+1 = 641 * 6700417; Carmichael 561, 41041, 825265.
    const primes = [(1n << 521n) - 1n, (1n << 607n) - 1n, 65537n, 2147483647n];
    const composites = [
      (1n << 32n) + 1n,
      561n,
      41041n,
      825265n,
      ((1n << 521n) - 1n) * ((1n << 607n) - 1n),
      // A strong pseudoprime to bases 2, 3, 5, 7 (3215031751 = 151 * 751 * 28351).
      3215031751n,
    ];
    for (const p of primes) assert(millerRabin(core, p, 10), `${p} is prime`);
    for (const c of composites) assertFalse(millerRabin(core, c, 10), `${c} is composite`);
  });
}

Deno.test("millerRabinRounds: FIPS 186-5 table B.1 / 186-4 table C.3", () => {
  assertEquals([512, 768, 1024, 1280, 1536, 2048].map(millerRabinRounds), [7, 7, 5, 5, 4, 4]);
});
