/**
 * The software HSM's operations on both cores and both LMK types, each
 * checked independently: the test knows the LMK (it made the components),
 * unwraps the HSM's key blocks itself with `src/keyblock`, and compares
 * TDES, retail MAC and RSA-OAEP against node:crypto. Then the allow-list
 * (a key used outside its attributes is refused with a precise error and
 * one audit record), and a scan of every result and error for clear keys.
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertNotEquals,
  assertRejects,
} from "@std/assert";
import type { CryptoCore, RsaPublicKey } from "../../src/core/mod.ts";
import {
  exportJwk,
  generateRsaKeyPair,
  importPkcs8Der,
  kcv,
  oaepEncrypt,
  RsaKeyError,
  toHex,
} from "../../src/crypto/mod.ts";
import {
  HsmError,
  KEY_TEMPLATES,
  type KeyTemplate,
  type LmkComponent,
  type SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { unwrapKeyBlock, wrapKeyBlock } from "../../src/keyblock/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { leakScanner, makeHsm, refEcb, refKcv, refRetailMac, show } from "./_fixtures.ts";

const SENSITIVE: KeyTemplate = { ...KEY_TEMPLATES.TMK, exportability: "S" };

function nodePublicKey(pub: RsaPublicKey) {
  const jwk = exportJwk(pub);
  return nodeCrypto.createPublicKey({ key: jwk as never, format: "jwk" });
}

function nodeOaepEncrypt(pub: RsaPublicKey, data: Uint8Array): Uint8Array {
  return new Uint8Array(
    nodeCrypto.publicEncrypt(
      {
        key: nodePublicKey(pub),
        padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256",
      },
      data,
    ),
  );
}

/** TDES key components for PK/MAK, with KCVs. */
async function tdesComponents(
  length: 16 | 24,
  core: CryptoCore,
): Promise<{ components: LmkComponent[]; key: Uint8Array }> {
  const a = randomBytes(length), b = randomBytes(length);
  const comps = await Promise.all(
    [a, b].map(async (c) => ({ key: toHex(c), kcv: toHex(await kcv(c, { core })) })),
  );
  const { setOddParity } = await import("../../src/crypto/mod.ts");
  return { components: comps, key: setOddParity(a.map((x, i) => x ^ b[i])) };
}

interface World {
  hsm: SoftwareHsm;
  lmk: Uint8Array;
  events: { event: string; outcome: string; keyId?: string; detail?: string }[];
  secrets: Uint8Array[];
  /** Clear key of a block under the LMK, by the test's own unwrap. */
  clear(block: string): Promise<Uint8Array>;
}

async function world(core: CryptoCore, algorithm: "aes" | "tdes"): Promise<World> {
  const { hsm, lmk, events, secrets } = await makeHsm(core, algorithm);
  return {
    hsm,
    lmk,
    events,
    secrets,
    clear: async (block) => {
      const k = (await unwrapKeyBlock(lmk, block, { core })).key;
      secrets.push(k);
      return k;
    },
  };
}

for (const core of await allCores()) {
  for (const algorithm of ["aes", "tdes"] as const) {
    const tag = `[${core.name}] hsm (${algorithm} LMK)`;
    const version = algorithm === "aes" ? "D" : "B";

    Deno.test(`${tag}: generateKey makes a TR-31 block under the LMK with the template's attributes`, async () => {
      const w = await world(core, algorithm);
      for (const [name, t] of Object.entries(KEY_TEMPLATES)) {
        if (t.algorithm !== "T") continue;
        const { keyBlock, kcv } = await w.hsm.generateKey(t);
        const { header, key } = await unwrapKeyBlock(w.lmk, keyBlock, { core });
        w.secrets.push(key);
        assertEquals(header.version, version, name);
        assertEquals(
          [
            header.keyUsage,
            header.algorithm,
            header.modeOfUse,
            header.exportability,
            header.keyContext,
          ],
          [t.keyUsage, "T", t.modeOfUse, t.exportability, "1"],
          name,
        );
        assertEquals(key.length, t.length, name);
        assertEquals(kcv, refKcv(key), `${name} KCV against node:crypto`);
        assert(
          key.every((b) => (b.toString(2).split("1").length - 1) % 2 === 1),
          `${name}: odd parity`,
        );
        assertEquals(await w.hsm.keyInfo(keyBlock), {
          version,
          keyUsage: t.keyUsage,
          algorithm: "T",
          modeOfUse: t.modeOfUse,
          exportability: t.exportability,
          keyVersion: "00",
          length: t.length,
          kcv,
        });
        assertEquals(await w.hsm.keyCheckValue(keyBlock), kcv);
        assertEquals(
          await w.hsm.keyHash(keyBlock),
          toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(key).digest())),
        );
      }
      const a = await w.hsm.generateKey(KEY_TEMPLATES.TMK);
      const b = await w.hsm.generateKey(KEY_TEMPLATES.TMK);
      assertNotEquals(await w.clear(a.keyBlock), await w.clear(b.keyBlock), "fresh keys differ");
    });

    Deno.test(`${tag}: flow A keys: PK and MAK from components, TK under PK to the LMK, TMK under TK`, async () => {
      const w = await world(core, algorithm);
      // PK (24 bytes) and MAK (16 bytes) from two components each.
      const pkC = await tdesComponents(24, core);
      const pk = await w.hsm.importKeyFromComponents(pkC.components, KEY_TEMPLATES.PK);
      assertEquals(await w.clear(pk.keyBlock), pkC.key);
      assertEquals(pk.kcv, refKcv(pkC.key));
      const makC = await tdesComponents(16, core);
      const mak = await w.hsm.importKeyFromComponents(makC.components, KEY_TEMPLATES.MAK);
      assertEquals(await w.clear(mak.keyBlock), makC.key);
      w.secrets.push(pkC.key, makC.key);

      // TK as MTMS sends it: a TR-31 block under PK.
      const tk = (await import("../../src/crypto/mod.ts")).setOddParity(randomBytes(16));
      w.secrets.push(tk);
      const tkHash = toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(tk).digest()));
      const underPk = await wrapKeyBlock(pkC.key, "B0000K0TE00N0000", tk, { core });
      const imported = await w.hsm.importKey(underPk, pk.keyBlock, {
        template: KEY_TEMPLATES.TK,
        expectedHash: tkHash,
        expectedKcv: refKcv(tk),
      });
      assertEquals(await w.clear(imported.keyBlock), tk);
      assertEquals([imported.kcv, imported.hash], [refKcv(tk), tkHash]);

      const kcvErr = await assertRejects(
        () =>
          w.hsm.importKey(underPk, pk.keyBlock, {
            template: KEY_TEMPLATES.TK,
            expectedKcv: "000000",
          }),
        HsmError,
        "the imported key's KCV differs from the expected 000000",
      );
      assertEquals(kcvErr.code, "kcv_mismatch");
      const hashErr = await assertRejects(
        () =>
          w.hsm.importKey(underPk, pk.keyBlock, {
            template: KEY_TEMPLATES.TK,
            expectedHash: "00".repeat(32),
          }),
        HsmError,
        "the imported key's SHA-256 differs from the expected hash",
      );
      assertEquals(hashErr.code, "hash_mismatch");
      const usageErr = await assertRejects(
        () => w.hsm.importKey(underPk, pk.keyBlock, { template: KEY_TEMPLATES.MAK }),
        HsmError,
        "importKey: the imported key must have key usage M3, got K0",
      );
      assertEquals(usageErr.code, "key_usage");

      // Bulk issuance step: TMK generated and exported under TK in one call.
      const tmk = await w.hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, imported.keyBlock, {
        expectedKekHash: tkHash,
      });
      const tmkClear = await w.clear(tmk.keyBlock);
      const fromTk = await unwrapKeyBlock(tk, tmk.exported, { core });
      w.secrets.push(fromTk.key);
      assertEquals(fromTk.key, tmkClear);
      assertEquals(fromTk.header.version, "B");
      assertEquals(
        [fromTk.header.keyUsage, fromTk.header.exportability, fromTk.header.keyContext],
        ["K0", "E", "2"],
      );
      assertEquals(tmk.kcv, refKcv(tmkClear));
      const badHash = await assertRejects(
        () =>
          w.hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, imported.keyBlock, {
            expectedKekHash: "AB".repeat(32),
          }),
        HsmError,
        "the KEK's SHA-256 differs from the expected hash (TK hash check)",
      );
      assertEquals(badHash.code, "hash_mismatch");

      // exportKey: an existing TMK under TK again (a re-download).
      const again = await w.hsm.exportKey(tmk.keyBlock, imported.keyBlock, {
        expectedKekHash: tkHash,
      });
      assertEquals((await unwrapKeyBlock(tk, again.exported, { core })).key, tmkClear);
      assertEquals(again.kcv, tmk.kcv);

      // ECB: only for a sensitive ("S") key; checked against node:crypto.
      const s = await w.hsm.generateKeyUnderKek(SENSITIVE, imported.keyBlock, { format: "ecb" });
      const sClear = await w.clear(s.keyBlock);
      assertMatch(s.exported, /^[0-9A-F]{32}$/);
      assertEquals(
        refEcb(false, tk, Uint8Array.from(s.exported.match(/../g)!.map((h) => parseInt(h, 16)))),
        sClear,
      );
      // ECB round trip under PK (mode B: wraps and unwraps).
      const sUnderPk = await w.hsm.exportKey(s.keyBlock, pk.keyBlock, { format: "ecb" });
      assertEquals(
        refEcb(
          false,
          pkC.key,
          Uint8Array.from(sUnderPk.exported.match(/../g)!.map((x) => parseInt(x, 16))),
        ),
        sClear,
      );
      const sBack = await w.hsm.importKey(sUnderPk.exported, pk.keyBlock, {
        template: SENSITIVE,
        format: "ecb",
      });
      assertEquals(await w.clear(sBack.keyBlock), sClear);
      assertEquals(sBack.kcv, s.kcv);

      // MAC under MAK: retail MAC against node:crypto; verify; a changed byte fails.
      for (const n of [0, 1, 7, 8, 9, 100]) {
        const data = randomBytes(n);
        const mac = await w.hsm.generateMac(mak.keyBlock, data);
        assertEquals(mac, refRetailMac(makC.key, data), `MAC of ${n} bytes`);
        assert(await w.hsm.verifyMac(mak.keyBlock, data, mac));
        const bad = mac.slice();
        bad[7] ^= 1;
        assertFalse(await w.hsm.verifyMac(mak.keyBlock, data, bad));
        assert(await w.hsm.verifyMac(mak.keyBlock, data, mac.slice(0, 4)), "4-byte MAC prefix");
      }
    });

    Deno.test(`${tag}: flow B keys: RSA pair, AUK under Pu_hsm, challenges under AUK, TMK under Pu_tek`, async () => {
      const w = await world(core, algorithm);
      const pair = await w.hsm.generateRsaKeyPair({ bits: 1024 });
      const { header, key: der } = await unwrapKeyBlock(w.lmk, pair.privateKeyBlock, { core });
      assertEquals([header.keyUsage, header.algorithm, header.modeOfUse, header.exportability], [
        "K3",
        "R",
        "D",
        "N",
      ]);
      const priv = importPkcs8Der(der);
      assertEquals(priv.n, pair.publicKey.n, "the block holds the pair's private key");
      w.secrets.push(der, priv.d, priv.p, priv.q);
      assertEquals((await w.hsm.keyInfo(pair.privateKeyBlock)).kcv, null);

      // S3-S4: AUK RSA-OAEP-SHA256 under Pu_hsm (encrypted by node:crypto) into a D0 block.
      const auk = (await import("../../src/crypto/mod.ts")).setOddParity(randomBytes(16));
      w.secrets.push(auk);
      const aukHash = toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(auk).digest()));
      const ct = nodeOaepEncrypt(pair.publicKey, auk);
      const aukIn = await w.hsm.importKeyRsa(pair.privateKeyBlock, ct, {
        template: KEY_TEMPLATES.AUK,
        expectedHash: aukHash,
      });
      assertEquals(await w.clear(aukIn.keyBlock), auk);
      assertEquals([aukIn.kcv, aukIn.hash], [refKcv(auk), aukHash]);

      // Every decryption failure is the same error.
      const flipped = ct.slice();
      flipped[5] ^= 0x40;
      const wrongKey = await oaepEncrypt(
        (await generateRsaKeyPair({ bits: 1024, core })).publicKey,
        auk,
        { core },
      );
      const short = await oaepEncrypt(pair.publicKey, auk.subarray(0, 8), { core });
      const sha1 = await oaepEncrypt(pair.publicKey, auk, { core, hash: "SHA-1" });
      const messages = new Set<string>();
      for (
        const [name, c] of [
          ["flipped", flipped],
          ["other key", wrongKey],
          ["8-byte key", short],
          ["SHA-1", sha1],
          ["truncated", ct.subarray(1)],
          ["empty", new Uint8Array(0)],
        ] as const
      ) {
        const e = await assertRejects(
          () => w.hsm.importKeyRsa(pair.privateKeyBlock, c, { template: KEY_TEMPLATES.AUK }),
          HsmError,
          undefined,
          name,
        );
        assertEquals(e.code, "decrypt_failed", name);
        messages.add(e.message);
      }
      assertEquals([...messages], ["importKeyRsa: the RSA-encrypted key does not decrypt"]);

      // S5: challenges under AUK, against node:crypto.
      const rnd = randomBytes(8);
      const c1 = await w.hsm.encryptData(aukIn.keyBlock, rnd);
      assertEquals(c1, refEcb(true, auk, rnd));
      assertEquals(await w.hsm.decryptData(aukIn.keyBlock, c1), rnd);
      const two = randomBytes(16);
      assertEquals(await w.hsm.decryptData(aukIn.keyBlock, refEcb(true, auk, two)), two);

      // S6: TMK under Pu_tek with RSA-OAEP-SHA256; decrypted by node:crypto with Pr_tek.
      const tek = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
      const tekJwk = tek.publicKey.export({ format: "jwk" }) as { n: string; e: string };
      const b64 = (s: string) =>
        Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
      const puTek = { n: b64(tekJwk.n), e: b64(tekJwk.e) };
      const tmk = await w.hsm.generateKey(KEY_TEMPLATES.TMK);
      const out = await w.hsm.exportKeyRsa(tmk.keyBlock, puTek);
      assertEquals(out.ciphertext.length, 256);
      const back = new Uint8Array(
        nodeCrypto.privateDecrypt(
          {
            key: tek.privateKey,
            padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: "sha256",
          },
          out.ciphertext,
        ),
      );
      assertEquals(back, await w.clear(tmk.keyBlock));
      assertEquals(out.kcv, tmk.kcv);
    });

    Deno.test(`${tag}: RSA signing key: imported or generated under the LMK, signs verifiably`, async () => {
      const w = await world(core, algorithm);
      const { privateKey } = await generateRsaKeyPair({ bits: 1024, core });
      w.secrets.push(privateKey.d, privateKey.p, privateKey.q);
      const ca = await w.hsm.importRsaPrivateKey(privateKey, KEY_TEMPLATES.RSA_CA);
      assertEquals(ca.publicKey.n, privateKey.n);
      const msg = new TextEncoder().encode("tbsCertificate bytes");
      const sig = await w.hsm.sign(ca.privateKeyBlock, msg);
      assert(
        nodeCrypto.verify("sha256", msg, nodePublicKey(ca.publicKey), sig),
        "node:crypto verifies",
      );
      const gen = await w.hsm.generateRsaKeyPair({ bits: 1024, template: KEY_TEMPLATES.RSA_CA });
      assert(
        nodeCrypto.verify(
          "sha256",
          msg,
          nodePublicKey(gen.publicKey),
          await w.hsm.sign(gen.privateKeyBlock, msg),
        ),
      );
      const transport = await w.hsm.generateRsaKeyPair({ bits: 1024 });
      const e = await assertRejects(
        () => w.hsm.sign(transport.privateKeyBlock, msg),
        HsmError,
        "sign: the signing key must have key usage S0 or S1, got K3",
      );
      assertEquals(e.code, "key_usage");
      await assertRejects(
        () =>
          w.hsm.importRsaPrivateKey(
            { ...privateKey, d: new Uint8Array([3]) },
            KEY_TEMPLATES.RSA_CA,
          ),
        RsaKeyError,
        "key.d must be an inverse of key.e modulo lcm(p-1, q-1)",
      );
      await assertRejects(
        () => w.hsm.importRsaPrivateKey(privateKey, KEY_TEMPLATES.TMK),
        RangeError,
        'template.algorithm must be "R" for an RSA private key',
      );
    });

    Deno.test(`${tag}: MTMS S12-S13: TK from the RSA transport key straight to a block under PK`, async () => {
      const w = await world(core, algorithm);
      const pair = await w.hsm.generateRsaKeyPair({ bits: 1024 });
      const pkC = await tdesComponents(24, core);
      w.secrets.push(pkC.key);
      const pk = await w.hsm.importKeyFromComponents(pkC.components, KEY_TEMPLATES.PK);
      const tk = (await import("../../src/crypto/mod.ts")).setOddParity(randomBytes(16));
      w.secrets.push(tk);
      const tkHash = toHex(new Uint8Array(nodeCrypto.createHash("sha256").update(tk).digest()));
      const r = await w.hsm.translateKeyFromRsa(
        pair.privateKeyBlock,
        nodeOaepEncrypt(pair.publicKey, tk),
        pk.keyBlock,
        {
          template: KEY_TEMPLATES.TK,
          expectedHash: tkHash,
          expectedKcv: refKcv(tk),
        },
      );
      const under = await unwrapKeyBlock(pkC.key, r.exported, { core });
      assertEquals(under.key, tk);
      assertEquals([under.header.version, under.header.keyUsage, under.header.modeOfUse], [
        "B",
        "K0",
        "E",
      ]);
      assertEquals([r.kcv, r.hash], [refKcv(tk), tkHash]);
      const e = await assertRejects(
        () =>
          w.hsm.translateKeyFromRsa(
            pair.privateKeyBlock,
            nodeOaepEncrypt(pair.publicKey, tk),
            pk.keyBlock,
            {
              template: KEY_TEMPLATES.TK,
              expectedHash: "00".repeat(32),
            },
          ),
        HsmError,
        "the imported key's SHA-256 differs from the expected hash",
      );
      assertEquals(e.code, "hash_mismatch");
    });

    Deno.test(`${tag}: the allow-list refuses keys outside their attributes, precisely, with one audit record each`, async () => {
      const w = await world(core, algorithm);
      const h = w.hsm;
      const tmk = await h.generateKey(KEY_TEMPLATES.TMK);
      const tk = await h.generateKey({ ...KEY_TEMPLATES.TK });
      const mak = await h.generateKey(KEY_TEMPLATES.MAK);
      const macGenOnly = await h.generateKey({ ...KEY_TEMPLATES.MAK, modeOfUse: "G" });
      const auk = await h.generateKey(KEY_TEMPLATES.AUK);
      const encOnly = await h.generateKey({ ...KEY_TEMPLATES.AUK, modeOfUse: "E" });
      const pk = await h.generateKey(KEY_TEMPLATES.PK);
      const rsa = await h.generateRsaKeyPair({ bits: 1024 });
      const tampered = tmk.keyBlock.slice(0, -1) + (tmk.keyBlock.endsWith("0") ? "1" : "0");
      const other = await makeHsm(core, algorithm);
      const foreign = (await other.hsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock;
      const data = new Uint8Array(8);
      const cases: [string, () => Promise<unknown>, string, string][] = [
        [
          "MAC with a TMK",
          () => h.generateMac(tmk.keyBlock, data),
          "key_usage",
          "generateMac: the MAC key must have key usage M3, got K0",
        ],
        [
          "verify with a generate-only MAC key",
          () => h.verifyMac(macGenOnly.keyBlock, data, data),
          "key_usage",
          "verifyMac: the MAC key must have mode of use C or V, got G",
        ],
        [
          "a MAK as KEK",
          () => h.exportKey(tmk.keyBlock, mak.keyBlock),
          "key_usage",
          "exportKey: the KEK must have key usage K0 or K1, got M3",
        ],
        [
          "export a non-exportable MAK",
          () => h.exportKey(mak.keyBlock, tmk.keyBlock),
          "key_usage",
          "exportKey: the exported key must have exportability E or S, got N",
        ],
        [
          "export TMK (E) as ECB",
          () => h.exportKey(tmk.keyBlock, tk.keyBlock, { format: "ecb" }),
          "key_usage",
          "exportKey: the exported key must have exportability S, got E",
        ],
        [
          "unwrap with a wrap-only TK",
          () => h.importKey("B0000K0TE00N0000", tk.keyBlock, { template: KEY_TEMPLATES.TK }),
          "key_usage",
          "importKey: the KEK must have mode of use B or D, got E",
        ],
        [
          "encrypt with a MAK",
          () => h.encryptData(mak.keyBlock, data),
          "key_usage",
          "encryptData: the data key must have key usage D0, got M3",
        ],
        [
          "decrypt with an encrypt-only key",
          () => h.decryptData(encOnly.keyBlock, data),
          "key_usage",
          "decryptData: the data key must have mode of use B or D, got E",
        ],
        [
          "RSA-decrypt with a TDES key",
          () => h.importKeyRsa(pk.keyBlock, new Uint8Array(128), { template: KEY_TEMPLATES.AUK }),
          "key_usage",
          "importKeyRsa: the RSA private key must have key usage K3, got K0",
        ],
        [
          "hash of an RSA key",
          () => h.keyHash(rsa.privateKeyBlock),
          "key_usage",
          "keyHash: the key must have algorithm T or A, got R",
        ],
        [
          "RSA key as KEK",
          () => h.generateKeyUnderKek(KEY_TEMPLATES.TMK, rsa.privateKeyBlock),
          "key_usage",
          "generateKeyUnderKek: the KEK must have key usage K0 or K1, got K3",
        ],
        [
          "export AUK (N) under Pu_tek",
          () => h.exportKeyRsa(auk.keyBlock, rsa.publicKey),
          "key_usage",
          "exportKeyRsa: the exported key must have exportability E or S, got N",
        ],
        [
          "tampered block",
          () => h.keyCheckValue(tampered),
          "key_block",
          "keyCheckValue: the key (keyBlock) does not unwrap under the LMK: mac:",
        ],
        [
          "another HSM's block",
          () => h.encryptData(foreign, data),
          "key_block",
          "encryptData: the data key (keyBlock) does not unwrap under the LMK: mac:",
        ],
        [
          "not a block",
          () => h.generateMac("hello", data),
          "key_block",
          "generateMac: the MAC key (makBlock) does not unwrap under the LMK: header_length:",
        ],
      ];
      for (const [name, fn, code, msg] of cases) {
        const before = w.events.length;
        const e = await assertRejects(fn, HsmError, msg, name);
        assertEquals(e.code, code, name);
        assertEquals(w.events.length, before + 1, `${name}: one audit record`);
        assertEquals(w.events[before].event, "key_refused", name);
        assertEquals(w.events[before].outcome, "failure", name);
      }
    });

    Deno.test(`${tag}: bad arguments get TypeError/RangeError naming the argument`, async () => {
      const { hsm: h } = await world(core, algorithm);
      const mak = await h.generateKey(KEY_TEMPLATES.MAK);
      const auk = await h.generateKey(KEY_TEMPLATES.AUK);
      const cases: [string, () => Promise<unknown>, ErrorConstructor, string][] = [
        [
          "template null",
          () => h.generateKey(null as never),
          TypeError,
          "template must be a key template object, got null",
        ],
        [
          "template usage",
          () => h.generateKey({ ...KEY_TEMPLATES.TMK, keyUsage: "P0" }),
          RangeError,
          'template.keyUsage must be K0, K1, M3, D0 for algorithm T, got "P0"',
        ],
        [
          "template length",
          () => h.generateKey({ ...KEY_TEMPLATES.TMK, length: 8 as 16 }),
          RangeError,
          "template.length must be 16 or 24 (TDES), got 8",
        ],
        [
          "template exportability",
          () => h.generateKey({ ...KEY_TEMPLATES.TMK, exportability: "X" as "E" }),
          RangeError,
          'template.exportability must be "E", "N" or "S", got "X"',
        ],
        [
          "RSA via generateKey",
          () => h.generateKey(KEY_TEMPLATES.RSA_TRANSPORT),
          RangeError,
          'template.algorithm must be "T" for generateKey',
        ],
        [
          "key block type",
          () => h.keyInfo(5 as never),
          TypeError,
          "keyBlock must be a key block string, got number",
        ],
        [
          "MAC data type",
          () => h.generateMac(mak.keyBlock, "abc" as never),
          TypeError,
          "data must be a Uint8Array, got string",
        ],
        [
          "MAC padding",
          () => h.generateMac(mak.keyBlock, new Uint8Array(1), { padding: 3 as 1 }),
          RangeError,
          "options.padding must be 1 or 2, got 3",
        ],
        [
          "MAC length",
          () => h.verifyMac(mak.keyBlock, new Uint8Array(1), new Uint8Array(3)),
          RangeError,
          "mac must be 4 to 8 bytes, got 3",
        ],
        [
          "partial block",
          () => h.encryptData(auk.keyBlock, new Uint8Array(7)),
          RangeError,
          "data must be whole 8-byte blocks, 8 to 4096 bytes, got 7",
        ],
        [
          "empty data",
          () => h.encryptData(auk.keyBlock, new Uint8Array(0)),
          RangeError,
          "data must be whole 8-byte blocks, 8 to 4096 bytes, got 0",
        ],
        [
          "format",
          () => h.exportKey(mak.keyBlock, mak.keyBlock, { format: "pem" as "ecb" }),
          RangeError,
          'options.format must be "tr31" or "ecb", got "pem"',
        ],
        [
          "OAEP hash",
          () =>
            h.exportKeyRsa(mak.keyBlock, { n: new Uint8Array(1), e: new Uint8Array(1) }, {
              hash: "MD5" as "SHA-1",
            }),
          RangeError,
          'options.hash must be "SHA-256" or "SHA-1", got "MD5"',
        ],
        [
          "RSA bits",
          () => h.generateRsaKeyPair({ bits: 1000 }),
          RangeError,
          "options.bits must be",
        ],
        [
          "RSA template",
          () => h.generateRsaKeyPair({ bits: 1024, template: KEY_TEMPLATES.TMK }),
          RangeError,
          'options.template.algorithm must be "R" for an RSA key pair',
        ],
      ];
      for (const [name, fn, cls, msg] of cases) await assertRejects(fn, cls, msg, name);
    });

    Deno.test(`${tag}: no clear key in any result, error message or audit record`, async () => {
      const w = await world(core, algorithm);
      const h = w.hsm;
      const texts: string[] = [];
      const keep = async (p: Promise<unknown>) => {
        try {
          const r = await p;
          texts.push(show(r));
          return r;
        } catch (e) {
          texts.push(String((e as Error).message), String((e as Error).stack));
          return undefined;
        }
      };
      const pkC = await tdesComponents(24, core);
      const makC = await tdesComponents(16, core);
      w.secrets.push(pkC.key, makC.key);
      const pk = (await keep(h.importKeyFromComponents(pkC.components, KEY_TEMPLATES.PK))) as {
        keyBlock: string;
      };
      const mak = (await keep(h.importKeyFromComponents(makC.components, KEY_TEMPLATES.MAK))) as {
        keyBlock: string;
      };
      const tk = (await keep(h.generateKey(KEY_TEMPLATES.TMK))) as { keyBlock: string };
      const tkClear = await w.clear(tk.keyBlock);
      const pair = (await keep(h.generateRsaKeyPair({ bits: 1024 }))) as {
        privateKeyBlock: string;
        publicKey: RsaPublicKey;
      };
      // The PKCS#8 DER holds the public modulus too: scan for the private fields only.
      const priv = importPkcs8Der(
        (await unwrapKeyBlock(w.lmk, pair.privateKeyBlock, { core })).key,
      );
      w.secrets.push(priv.d, priv.p, priv.q, priv.dp, priv.dq, priv.qi);
      for (let i = 0; i < 5; i++) {
        const tmk = (await keep(h.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock))) as {
          keyBlock: string;
        };
        await w.clear(tmk.keyBlock);
        await keep(h.exportKey(tmk.keyBlock, tk.keyBlock));
        await keep(h.exportKey(tmk.keyBlock, pk.keyBlock));
        await keep(h.exportKeyRsa(tmk.keyBlock, pair.publicKey));
        await keep(h.keyInfo(tmk.keyBlock));
        await keep(h.keyHash(tmk.keyBlock));
        await keep(h.exportKey(tmk.keyBlock, tk.keyBlock, { format: "ecb" }));
        await keep(h.generateMac(tmk.keyBlock, new Uint8Array(8)));
        await keep(h.importKey(tmk.keyBlock, tk.keyBlock, { template: KEY_TEMPLATES.TK }));
      }
      await keep(h.generateMac(mak.keyBlock, new Uint8Array(8)));
      const auk = (await keep(
        h.importKeyRsa(pair.privateKeyBlock, nodeOaepEncrypt(pair.publicKey, tkClear), {
          template: KEY_TEMPLATES.AUK,
        }),
      )) as { keyBlock: string };
      await keep(h.encryptData(auk.keyBlock, new Uint8Array(8)));
      await keep(
        h.importKeyRsa(pair.privateKeyBlock, new Uint8Array(128), { template: KEY_TEMPLATES.AUK }),
      );
      await keep(
        h.importKey(tk.keyBlock, pk.keyBlock, {
          template: KEY_TEMPLATES.TK,
          expectedKcv: "000000",
        }),
      );
      texts.push(show(w.events));
      const leaks = leakScanner(w.secrets);
      assertNotEquals(leaks(`x${toHex(tkClear).toLowerCase()}x`), null, "the scanner finds a key");
      assert(texts.length > 50, `scanned ${texts.length} texts`);
      assert(w.secrets.length > 10, `against ${w.secrets.length} clear keys`);
      for (const t of texts) {
        assertEquals(leaks(t), null, `clear key material in: ${t.slice(0, 120)}`);
      }
    });
  }
}
