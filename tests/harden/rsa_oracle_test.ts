/**
 * No padding oracle on the paths that unwrap RSA-wrapped
 * keys (RFC 8017 RSAES-OAEP, and RSAES-PKCS1-v1_5 ciphertexts thrown at
 * them), and e = 3 forged PKCS#1 v1.5 signatures (Bleichenbacher 2006)
 * refused.
 *
 * Every Wycheproof RSA decryption case in tests/vectors (OAEP SHA-1, OAEP
 * SHA-256, PKCS#1 v1.5; one 2048-bit key per file) goes through:
 * - the HSM's `importKeyRsa` and `translateKeyFromRsa` (with both OAEP hashes),
 *   after the Wycheproof private key is imported under the LMK with the HSM's
 *   `importRsaPrivateKey`: exactly one distinct (code, message);
 * - flow B `PUT /v1/terminals/{sn}/transport-key` with that key as the
 *   terminal's Pr_hsm: exactly one distinct (status, body) for every
 *   ciphertext (the endpoint takes OAEP-SHA-256 with an empty label: the
 *   SHA-1, labelled and PKCS#1 v1.5 cases are padding failures there too);
 * - the crypto layer on both cores: valid cases decrypt to the Wycheproof
 *   message, every invalid one throws the same DecryptionError.
 * Controls (so the refusals are not vacuous): a 16-byte AUK encrypted by
 * node:crypto under the same public key is accepted by each path.
 *
 * Prints `figure rsa-oracle[<core>]` and `figure e3-forgery[<core>]`.
 */
import nodeCrypto from "node:crypto";
import { assert, assertEquals, assertFalse } from "@std/assert";
import {
  allCores,
  fromBigInt,
  hex,
  loadVectors,
  randomBytes,
  toBigInt,
  toHex,
} from "../_helpers.ts";
import {
  cbrtMod2k,
  icbrt,
  wycheproofKey,
  type WycheproofPrivateKey,
} from "../crypto/_rsa_helpers.ts";
import {
  DecryptionError,
  exportSpkiDer,
  kcv,
  oaepDecrypt,
  pkcs1v15Decrypt,
  pkcs1v15Verify,
  publicKeyOf,
  setOddParity,
} from "../../src/crypto/mod.ts";
import { HsmError, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { tkHashInput, transportKeySigningInput } from "../../src/protocol/mod.ts";
import type { CryptoCore, RsaPrivateKey } from "../../src/core/mod.ts";
import { makeHsm } from "../hsm/_fixtures.ts";
import { call, makeWorld } from "../flow_b/_world.ts";
import { figure, proofCores } from "./_figures.ts";

interface Case {
  tcId: number;
  ct: string;
  msg: string;
  label?: string;
  result: "valid" | "invalid" | "acceptable";
  comment: string;
}
interface DecryptFile {
  privateKey: WycheproofPrivateKey;
  vectors: Case[];
}

const FILES = {
  "OAEP-SHA-1": "rsa_oaep_2048_sha1_decrypt.json",
  "OAEP-SHA-256": "rsa_oaep_2048_sha256_decrypt.json",
  "PKCS1v15": "rsa_pkcs1v15_2048_decrypt.json",
} as const;

const files = Object.entries(FILES).map(([scheme, name]) => ({
  scheme,
  ...loadVectors<DecryptFile>(name),
}));

const cores = await allCores();

function nodePublicKey(key: RsaPrivateKey) {
  return nodeCrypto.createPublicKey({
    key: exportSpkiDer(publicKeyOf(key)),
    format: "der",
    type: "spki",
  });
}

/** A fresh double-length TDES key, its legacy KCV, and its OAEP encryption by node:crypto. */
async function controlAuk(key: RsaPrivateKey, hash: "sha1" | "sha256", core: CryptoCore) {
  const auk = setOddParity(randomBytes(16));
  const ct = new Uint8Array(
    nodeCrypto.publicEncrypt(
      {
        key: nodePublicKey(key),
        padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: hash,
      },
      auk,
    ),
  );
  const v = toHex(await kcv(auk, { method: "legacy", algorithm: "tdes", length: 3, core }));
  return { auk, ct, kcv: v };
}

for (const core of cores) {
  Deno.test(`one error for every RSA decryption failure, crypto layer and HSM (${core.name} core)`, async () => {
    // The crypto layer: valid cases give the message, every invalid one the same error.
    const errors = new Set<string>();
    let valid = 0, invalid = 0;
    for (const f of files) {
      const key = wycheproofKey(f.privateKey);
      for (const v of f.vectors) {
        const run = () =>
          f.scheme === "PKCS1v15"
            ? pkcs1v15Decrypt(key, hex(v.ct), { core })
            : oaepDecrypt(key, hex(v.ct), {
              hash: f.scheme === "OAEP-SHA-1" ? "SHA-1" : "SHA-256",
              label: hex(v.label ?? ""),
              core,
            });
        if (v.result === "valid") {
          assertEquals(toHex(await run()), v.msg.toUpperCase(), `${f.scheme} tcId ${v.tcId}`);
          valid++;
        } else {
          try {
            await run();
            throw new Error(`${f.scheme} tcId ${v.tcId} (${v.comment}) decrypted`);
          } catch (e) {
            if (!(e instanceof DecryptionError)) throw e;
            errors.add(`${e.name}/${e.code}/${e.message}`);
            invalid++;
          }
        }
      }
    }
    assertEquals(errors.size, 1, [...errors].join(" | "));

    // The HSM: every Wycheproof ciphertext (valid ones carry no 16-byte key, or another
    // scheme's padding) through both unwrap operations with both OAEP hashes.
    if (!proofCores([core]).length) {
      figure(
        `rsa-oracle[${core.name}]`,
        `crypto layer: ${valid} valid decrypted, ${invalid} invalid -> ${errors.size} distinct error (HSM part: long run only on this core)`,
      );
      return;
    }
    const { hsm } = await makeHsm(core);
    const kek = await hsm.generateKey(KEY_TEMPLATES.PK);
    const hsmOutcomes = new Set<string>();
    let hsmCalls = 0;
    const controls: string[] = [];
    for (const f of files) {
      const key = wycheproofKey(f.privateKey);
      const { privateKeyBlock } = await hsm.importRsaPrivateKey(key, KEY_TEMPLATES.RSA_TRANSPORT);
      for (const hash of ["SHA-1", "SHA-256"] as const) {
        for (const v of f.vectors) {
          for (const op of ["importKeyRsa", "translateKeyFromRsa"] as const) {
            hsmCalls++;
            try {
              if (op === "importKeyRsa") {
                await hsm.importKeyRsa(privateKeyBlock, hex(v.ct), {
                  template: KEY_TEMPLATES.AUK,
                  hash,
                });
              } else {
                await hsm.translateKeyFromRsa(privateKeyBlock, hex(v.ct), kek.keyBlock, {
                  template: KEY_TEMPLATES.TK,
                  hash,
                });
              }
              throw new Error(`${op} ${hash} accepted ${f.scheme} tcId ${v.tcId}`);
            } catch (e) {
              if (!(e instanceof HsmError)) throw e;
              hsmOutcomes.add(`${e.code}/${e.message.replace(op, "<op>")}`);
            }
          }
        }
        // Control: a real 16-byte key under the same public key is accepted.
        const c = await controlAuk(key, hash === "SHA-1" ? "sha1" : "sha256", core);
        const r = await hsm.importKeyRsa(privateKeyBlock, c.ct, {
          template: KEY_TEMPLATES.AUK,
          hash,
          expectedKcv: c.kcv,
        });
        assertEquals(r.kcv, c.kcv);
        controls.push(`${f.scheme}/${hash}`);
      }
    }
    assertEquals(hsmOutcomes.size, 1, [...hsmOutcomes].join(" | "));
    assert([...hsmOutcomes][0].startsWith("decrypt_failed/"));
    figure(
      `rsa-oracle[${core.name}]`,
      `crypto layer: ${valid} valid decrypted, ${invalid} invalid -> ${errors.size} distinct error; ` +
        `HSM: ${hsmCalls} Wycheproof ciphertexts through importKeyRsa/translateKeyFromRsa -> ` +
        `${hsmCalls} refused, ${hsmOutcomes.size} distinct (code, message) ${
          [...hsmOutcomes][0]
        }; ` +
        `${controls.length} controls accepted`,
    );
  });

  Deno.test({
    name:
      `PUT /v1/terminals/{sn}/transport-key gives one (status, body) for every undecryptable AUK (${core.name} core)`,
    ignore: proofCores([core]).length === 0,
  }, async () => {
    const w = await makeWorld(core);
    try {
      const sn = "WYCHEPROOF001";
      const s1 = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
      assertEquals(s1.status, 201);
      // The terminal's Pr_hsm becomes each file's Wycheproof key in turn, imported under the
      // LMK by the HSM (S1 before S3 may replace the pair: the store's rotation).
      const useKey = async (key: RsaPrivateKey) => {
        const { privateKeyBlock } = await w.hsm.importRsaPrivateKey(
          key,
          KEY_TEMPLATES.RSA_TRANSPORT,
        );
        assert(
          await w.store.setHsmKey(sn, {
            puHsmCert: s1.body.certificate as string,
            prHsmBlock: privateKeyBlock,
            at: w.clock.date(),
            replace: true,
          }),
        );
      };
      const tek = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
      const puTekDer = new Uint8Array(tek.publicKey.export({ type: "spki", format: "der" }));
      const puTek = tek.publicKey.export({ type: "spki", format: "pem" }) as string;
      const outcomes = new Map<string, number>();
      const formatRefusals: string[] = [];
      let sent = 0;
      for (const f of files) {
        await useKey(wycheproofKey(f.privateKey));
        for (const v of f.vectors) {
          const ct = hex(v.ct);
          sent++;
          const body = {
            encryptedAuk: toHex(ct),
            aukKcv: "A1B2C3",
            puTek,
            tkHash: toHex(randomBytes(32)),
          };
          const r = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
            ...body,
            ...(await w.sign(sn, transportKeySigningInput(sn, body))),
          });
          if (ct.length !== 256) {
            formatRefusals.push(`${f.scheme} tcId ${v.tcId} (${ct.length} bytes)`);
          }
          const k = `${r.status} ${JSON.stringify(r.body)}`;
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
        }
      }
      assertEquals(outcomes.size, 1, [...outcomes.keys()].join("\n"));
      const [only] = [...outcomes.keys()];
      assert(only.startsWith("422 ") && only.includes("auk_undecryptable"), only);
      // Nothing was stored: the terminal still waits for its transport key.
      const t = await w.store.getTerminal(sn);
      assertEquals(t?.aukBlock, null);

      // Control: a real AUK under the same key, with its KCV and TK hash, is accepted.
      const key = wycheproofKey(files[1].privateKey);
      await useKey(key);
      const c = await controlAuk(key, "sha256", core);
      const tkHash = toHex(
        core.sha256(tkHashInput(core.sha256(c.auk), core.sha256(puTekDer))),
      );
      const control = { encryptedAuk: toHex(c.ct), aukKcv: c.kcv, puTek, tkHash };
      const ok = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
        ...control,
        ...(await w.sign(sn, transportKeySigningInput(sn, control))),
      });
      assertEquals(ok.status, 201, JSON.stringify(ok.body));
      figure(
        `rsa-oracle-http[${core.name}]`,
        `${sent} Wycheproof ciphertexts to PUT /v1/terminals/{sn}/transport-key: ` +
          `${outcomes.size} distinct (status, body): ${only} (x${outcomes.get(only)}, ` +
          `${formatRefusals.length} of them not 256 bytes long); ` +
          `control AUK accepted (201)`,
      );
    } finally {
      await w.close();
    }
  });

  Deno.test(`e = 3 forged PKCS#1 v1.5 SHA-256 signatures refused (${core.name} core)`, async () => {
    // Any 2048-bit modulus will do: the forgeries have s^3 < n, no private key is needed.
    const n = hex(files[0].privateKey.modulus.replace(/^00/, ""));
    assertEquals(n.length, 256);
    const pub = { n, e: new Uint8Array([3]) };
    const k = 256;
    const prefixInfo = hex("3031300D060960864801650304020105000420");
    let refused = 0, tried = 0;
    for (let round = 0; round < 8; round++) {
      let msg: Uint8Array;
      let h: Uint8Array;
      do {
        msg = randomBytes(16);
        h = core.sha256(msg);
      } while ((h[31] & 1) === 0);
      // (a) 00 01 FF 00 DigestInfo H || garbage; (b) garbage in the parameters, H at the end.
      const pa = new Uint8Array([0, 1, 0xff, 0, ...prefixInfo, ...h]);
      const ta = toBigInt(pa) << BigInt(8 * (k - pa.length));
      let sa = icbrt(ta);
      if (sa ** 3n < ta) sa++;
      assertEquals(toHex(fromBigInt(sa ** 3n, k).subarray(0, pa.length)), toHex(pa));
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
        ...hex("608648016503040201"),
      ]);
      const suffix = new Uint8Array([0x04, 0x20, ...h]);
      const m = 8 * suffix.length;
      const tb = toBigInt(pb) << BigInt(8 * (k - pb.length));
      const sb = (((icbrt(tb) >> BigInt(m)) + 1n) << BigInt(m)) + cbrtMod2k(toBigInt(suffix), m);
      const emB = fromBigInt(sb ** 3n, k);
      assertEquals(toHex(emB.subarray(0, pb.length)), toHex(pb));
      assertEquals(toHex(emB.subarray(k - suffix.length)), toHex(suffix));
      for (const s of [sa, sb]) {
        tried++;
        const sig = fromBigInt(s, k);
        assertFalse(await pkcs1v15Verify(pub, msg, sig, { core }));
        refused++;
      }
    }
    figure(
      `e3-forgery[${core.name}]`,
      `${tried} forged signatures (2 kinds x 8 messages), ${refused} refused`,
    );
  });
}
