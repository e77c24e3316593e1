/**
 * src/crypto symmetric parts: CMAC (SP 800-38B), KCV, ISO 9797-1 MACs and AES
 * against published vectors on every core; independent checks against
 * node:crypto / WebCrypto; tables of bad arguments.
 */
import { assert, assertEquals, assertFalse, assertRejects, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import type { CryptoCore } from "../../src/core/types.ts";
import {
  aesCtr,
  aesDecryptCbc,
  aesDecryptEcb,
  aesEncryptCbc,
  aesEncryptEcb,
  cbcMac,
  cmac,
  cmacSubkeys,
  cmacVerify,
  iso9797Pad,
  kcv,
  retailMac,
  retailMacVerify,
} from "../../src/crypto/mod.ts";
import { allCores, hex, loadVectors, randomBytes, toHex } from "../_helpers.ts";

const cores = await allCores();

interface CmacVector {
  id: string;
  cipher: "tdes" | "aes";
  key: string;
  message: string;
  tag: string;
}
interface SubkeyVector {
  id: string;
  cipher: "aes";
  key: string;
  K1: string;
  K2: string;
}
interface KcvVector {
  id: string;
  algorithm: "TDES" | "AES";
  method: string;
  key: string;
  kcv: string;
  kcv_3_bytes?: string;
}
interface MacVector {
  id: string;
  algorithm: string;
  padding: 1 | 2 | 3;
  key: string;
  data: string;
  mac: string;
  truncated_4_bytes?: string;
}
interface AesVector {
  id: string;
  mode: "ECB" | "CBC" | "CTR";
  key: string;
  iv?: string;
  plaintext: string;
  ciphertext: string;
}

const cmacFile = loadVectors<{ vectors: CmacVector[]; subkeys: SubkeyVector[] }>("cmac.json");
const kcvVectors = loadVectors<{ vectors: KcvVector[] }>("kcv.json").vectors;
const macVectors = loadVectors<{ vectors: MacVector[] }>("iso9797_mac.json").vectors;
const aesVectors = loadVectors<{ vectors: AesVector[] }>("aes.json").vectors;

// --- independent single DES / TDES on node:crypto (des-ede3-cbc, K1=K2=K3 for DES) ----------

function nodeTdesCbc(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = new Uint8Array(24);
  if (key.length === 8) [0, 8, 16].forEach((o) => k.set(key, o));
  else if (key.length === 16) (k.set(key), k.set(key.subarray(0, 8), 16));
  else k.set(key);
  const c = nodeCrypto.createCipheriv("des-ede3-cbc", k, new Uint8Array(8));
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** ISO 9797-1 alg 3 from its definition, on node:crypto DES (independent of the cores). */
function nodeRetailMac(key: Uint8Array, padded: Uint8Array): Uint8Array {
  const k = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const h = nodeTdesCbc(k, padded).slice(-8);
  const d = nodeCrypto.createDecipheriv(
    "des-ede3-cbc",
    new Uint8Array([...k2, ...k2, ...k2]),
    new Uint8Array(8),
  );
  d.setAutoPadding(false);
  const hd = new Uint8Array(Buffer.concat([d.update(h), d.final()]));
  return nodeTdesCbc(k, hd);
}

// --- CMAC ---------------------------------------------------------------------------------

for (const core of cores) {
  Deno.test(`cmac: SP 800-38B examples (${core.name})`, async () => {
    assertEquals(cmacFile.vectors.length, 24);
    for (const v of cmacFile.vectors) {
      const tag = await cmac(hex(v.key), hex(v.message), { cipher: v.cipher, core });
      assertEquals(toHex(tag), v.tag, v.id);
      assert(
        await cmacVerify(hex(v.key), hex(v.message), hex(v.tag), { cipher: v.cipher, core }),
        v.id,
      );
      const bad = hex(v.tag);
      bad[bad.length - 1] ^= 1;
      assertFalse(
        await cmacVerify(hex(v.key), hex(v.message), bad, { cipher: v.cipher, core }),
        v.id,
      );
      const t4 = await cmac(hex(v.key), hex(v.message), { cipher: v.cipher, core, length: 4 });
      assertEquals(toHex(t4), v.tag.slice(0, 8), v.id);
    }
  });
}

Deno.test("cmac: TDES tags agree across cores for every length 0..40, 16- and 24-byte keys", async () => {
  const key16 = randomBytes(16);
  const key24 = randomBytes(24);
  for (let n = 0; n <= 40; n++) {
    const data = randomBytes(n);
    for (const key of [key16, key24]) {
      const tags = await Promise.all(
        cores.map(async (core) => toHex(await cmac(key, data, { cipher: "tdes", core }))),
      );
      assertEquals(new Set(tags).size, 1, `tdes length ${n}`);
    }
  }
});

// --- KCV ----------------------------------------------------------------------------------

function kcvOptionsFor(v: KcvVector): { method: "legacy" | "cmac"; algorithm: "tdes" | "aes" } {
  const algorithm = v.algorithm === "TDES" ? "tdes" : "aes";
  const method = /CMAC/.test(v.method) ? "cmac" : "legacy";
  return { method, algorithm };
}

for (const core of cores) {
  Deno.test(`kcv: every vector in kcv.json (${core.name})`, async () => {
    assertEquals(kcvVectors.length, 20);
    for (const v of kcvVectors) {
      const o = kcvOptionsFor(v);
      const got = await kcv(hex(v.key), { ...o, length: v.kcv.length / 2, core });
      assertEquals(toHex(got), v.kcv, v.id);
      if (v.kcv_3_bytes) {
        assertEquals(toHex(await kcv(hex(v.key), { ...o, core })), v.kcv_3_bytes, v.id);
      }
    }
  });

  Deno.test(`kcv: legacy TDES default is 3 bytes of E_K(0^8), checked on node:crypto (${core.name})`, async () => {
    for (const len of [16, 24]) {
      const key = randomBytes(len);
      const want = nodeTdesCbc(key, new Uint8Array(8)).slice(0, 3);
      assertEquals(await kcv(key, { core }), want);
      assertEquals(await kcv(key, { method: "legacy", core }), want);
    }
  });
}

Deno.test("kcv: cmac defaults to AES and 3 bytes", async () => {
  const v = kcvVectors.find((x) => x.id === "openemv-test11-D-kcv")!;
  assertEquals(toHex(await kcv(hex(v.key), { method: "cmac" })), v.kcv.slice(0, 6));
  assertEquals(toHex(await kcv(hex(v.key), { method: "cmac", length: 5 })), v.kcv);
});

// --- ISO 9797-1 MACs ----------------------------------------------------------------------

for (const core of cores) {
  Deno.test(`iso9797: every vector in iso9797_mac.json (${core.name})`, async () => {
    assertEquals(macVectors.length, 15);
    for (const v of macVectors) {
      const fn = /alg 3/.test(v.algorithm) ? retailMac : cbcMac;
      const mac = await fn(hex(v.key), hex(v.data), { padding: v.padding, core });
      assertEquals(toHex(mac), v.mac, v.id);
      if (v.truncated_4_bytes) {
        const m4 = await fn(hex(v.key), hex(v.data), { padding: v.padding, length: 4, core });
        assertEquals(toHex(m4), v.truncated_4_bytes, v.id);
      }
      if (fn === retailMac) {
        assert(
          await retailMacVerify(hex(v.key), hex(v.data), hex(v.mac), { padding: v.padding, core }),
        );
        const bad = hex(v.mac);
        bad[0] ^= 0x80;
        assertFalse(
          await retailMacVerify(hex(v.key), hex(v.data), bad, { padding: v.padding, core }),
        );
      }
    }
  });

  Deno.test(`iso9797: retail MAC and CBC-MAC match node:crypto DES for lengths 0..40 (${core.name})`, async () => {
    const key = randomBytes(16);
    for (let n = 0; n <= 40; n++) {
      const data = randomBytes(n);
      for (const padding of [1, 2, 3] as const) {
        const padded = iso9797Pad(data, padding);
        assertEquals(await retailMac(key, data, { padding, core }), nodeRetailMac(key, padded));
        assertEquals(
          await cbcMac(key, data, { padding, core }),
          nodeTdesCbc(key, padded).slice(-8),
        );
      }
    }
  });
}

Deno.test("iso9797Pad: methods 1, 2, 3 at the edges", () => {
  const table: [string, 1 | 2 | 3, string][] = [
    ["", 1, "0000000000000000"],
    ["", 2, "8000000000000000"],
    ["", 3, "0000000000000000"],
    ["01", 1, "0100000000000000"],
    ["01", 2, "0180000000000000"],
    ["01", 3, "00000000000000080100000000000000"],
    ["0102030405060708", 1, "0102030405060708"],
    ["0102030405060708", 2, "01020304050607088000000000000000"],
    ["0102030405060708", 3, "00000000000000400102030405060708"],
  ];
  for (const [data, p, want] of table) assertEquals(toHex(iso9797Pad(hex(data), p)), want);
});

// --- AES ------------------------------------------------------------------------------------

for (const core of cores) {
  const o = { core };
  Deno.test(`aes: FIPS 197 and SP 800-38A vectors (${core.name})`, () => {
    assertEquals(aesVectors.length, 5);
    for (const v of aesVectors) {
      const key = hex(v.key);
      const pt = hex(v.plaintext);
      if (v.mode === "ECB") {
        assertEquals(toHex(aesEncryptEcb(key, pt, o)), v.ciphertext, v.id);
        assertEquals(toHex(aesDecryptEcb(key, hex(v.ciphertext), o)), v.plaintext, v.id);
      } else if (v.mode === "CBC") {
        assertEquals(toHex(aesEncryptCbc(key, hex(v.iv!), pt, o)), v.ciphertext, v.id);
        assertEquals(
          toHex(aesDecryptCbc(key, hex(v.iv!), hex(v.ciphertext), o)),
          v.plaintext,
          v.id,
        );
      } else {
        assertEquals(toHex(aesCtr(key, hex(v.iv!), pt, o)), v.ciphertext, v.id);
        assertEquals(toHex(aesCtr(key, hex(v.iv!), hex(v.ciphertext), o)), v.plaintext, v.id);
      }
    }
  });

  Deno.test(`aes: CBC and CTR agree with WebCrypto for every length, every key size (${core.name})`, async () => {
    for (const kl of [16, 24, 32]) {
      const key = randomBytes(kl);
      const iv = randomBytes(16);
      const ck = await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["encrypt"]);
      const tk = await crypto.subtle.importKey("raw", key, "AES-CTR", false, ["encrypt"]);
      for (let blocks = 0; blocks <= 4; blocks++) {
        const data = randomBytes(16 * blocks);
        const web = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, ck, data));
        // WebCrypto adds a PKCS#7 block; the unpadded CBC output is its prefix.
        assertEquals(aesEncryptCbc(key, iv, data, o), web.slice(0, data.length));
        assertEquals(aesDecryptCbc(key, iv, web.slice(0, data.length), o), data);
      }
      for (let n = 0; n <= 70; n++) {
        const data = randomBytes(n);
        const web = await crypto.subtle.encrypt(
          { name: "AES-CTR", counter: iv, length: 128 },
          tk,
          data,
        );
        assertEquals(aesCtr(key, iv, data, o), new Uint8Array(web));
      }
    }
    // the counter wraps as one 128-bit number
    const key = randomBytes(16);
    const top = new Uint8Array(16).fill(0xff);
    const k = await crypto.subtle.importKey("raw", key, "AES-CTR", false, ["encrypt"]);
    const data = randomBytes(40);
    const web = await crypto.subtle.encrypt(
      { name: "AES-CTR", counter: top, length: 128 },
      k,
      data,
    );
    assertEquals(aesCtr(key, top, data, o), new Uint8Array(web));
  });

  Deno.test(`cmac: SP 800-38B AES-128 subkeys (${core.name})`, async () => {
    for (const v of cmacFile.subkeys) {
      const [k1, k2] = await cmacSubkeys(hex(v.key), { cipher: v.cipher, core });
      assertEquals(toHex(k1), v.K1, v.id);
      assertEquals(toHex(k2), v.K2, v.id);
    }
  });
}

// --- bad arguments --------------------------------------------------------------------------

const js = cores[0];
type Bad = [string, () => Promise<unknown> | unknown, ErrorConstructor, string];

function badTable(core: CryptoCore): Bad[] {
  const k16 = new Uint8Array(16);
  const d = new Uint8Array(3);
  return [
    [
      "cmac key type",
      () => cmac("00" as unknown as Uint8Array, d, { cipher: "aes", core }),
      TypeError,
      "key must be a Uint8Array, got string",
    ],
    [
      "cmac tdes key 8",
      () => cmac(new Uint8Array(8), d, { cipher: "tdes", core }),
      RangeError,
      "key must be 16 or 24 bytes (TDES), got 8",
    ],
    [
      "cmac aes key 20",
      () => cmac(new Uint8Array(20), d, { cipher: "aes", core }),
      RangeError,
      "key must be 16, 24 or 32 bytes (AES), got 20",
    ],
    [
      "cmac no cipher",
      () => cmac(k16, d, { core } as never),
      TypeError,
      'options.cipher is required: "tdes" or "aes"',
    ],
    [
      "cmac bad cipher",
      () => cmac(k16, d, { cipher: "des" as never, core }),
      RangeError,
      'options.cipher must be one of "tdes", "aes", got "des"',
    ],
    [
      "cmac data type",
      () => cmac(k16, [1] as never, { cipher: "aes", core }),
      TypeError,
      "data must be a Uint8Array, got an array",
    ],
    [
      "cmac length 17",
      () => cmac(k16, d, { cipher: "aes", length: 17, core }),
      RangeError,
      "options.length must be an integer from 1 to 16, got 17",
    ],
    [
      "cmac length tdes 9",
      () => cmac(k16, d, { cipher: "tdes", length: 9, core }),
      RangeError,
      "options.length must be an integer from 1 to 8, got 9",
    ],
    [
      "cmac bad core",
      () => cmac(k16, d, { cipher: "tdes", core: {} as never }),
      TypeError,
      "options.core must be a CryptoCore, got Object",
    ],
    [
      "aes core without AES (a core object that lacks the AES functions)",
      () => {
        const { aesEncryptEcb: _drop, ...old } = core;
        return aesEncryptCbc(k16, new Uint8Array(16), new Uint8Array(16), { core: old as never });
      },
      TypeError,
      "options.core must be a CryptoCore, got Object",
    ],
    [
      "cmacVerify empty tag",
      () => cmacVerify(k16, d, new Uint8Array(0), { cipher: "aes", core }),
      RangeError,
      "tag.length must be an integer from 1 to 16, got 0",
    ],
    [
      "kcv key 8",
      () => kcv(new Uint8Array(8), { core }),
      RangeError,
      "key must be 16 or 24 bytes (TDES), got 8",
    ],
    [
      "kcv aes key 32 legacy tdes",
      () => kcv(new Uint8Array(32), { method: "legacy", core }),
      RangeError,
      "key must be 16 or 24 bytes (TDES), got 32",
    ],
    [
      "kcv bad method",
      () => kcv(k16, { method: "ecb" as never, core }),
      RangeError,
      'options.method must be one of "legacy", "cmac", got "ecb"',
    ],
    [
      "kcv bad algorithm",
      () => kcv(k16, { algorithm: "des" as never, core }),
      RangeError,
      'options.algorithm must be one of "tdes", "aes", got "des"',
    ],
    [
      "kcv length 0",
      () => kcv(k16, { length: 0, core }),
      RangeError,
      "options.length must be an integer from 1 to 8, got 0",
    ],
    [
      "kcv length 2.5",
      () => kcv(k16, { length: 2.5, core }),
      RangeError,
      "options.length must be an integer from 1 to 8, got 2.5",
    ],
    [
      "kcv options null",
      () => kcv(k16, null as never),
      TypeError,
      "options must be an object, got null",
    ],
    [
      "retailMac key 24",
      () => retailMac(new Uint8Array(24), d, { padding: 1, core }),
      RangeError,
      "key must be 16 bytes (K || K'), got 24",
    ],
    [
      "retailMac no padding",
      () => retailMac(k16, d, { core } as never),
      TypeError,
      "options.padding is required: 1, 2 or 3",
    ],
    [
      "retailMac padding 4",
      () => retailMac(k16, d, { padding: 4 as never, core }),
      RangeError,
      "options.padding must be one of 1, 2, 3, got 4",
    ],
    [
      "retailMac length 3",
      () => retailMac(k16, d, { padding: 1, length: 3, core }),
      RangeError,
      "options.length must be an integer from 4 to 8, got 3",
    ],
    [
      "retailMac data",
      () => retailMac(k16, "x" as never, { padding: 1, core }),
      TypeError,
      "data must be a Uint8Array, got string",
    ],
    [
      "retailMacVerify mac 9",
      () => retailMacVerify(k16, d, new Uint8Array(9), { padding: 1, core }),
      RangeError,
      "mac.length must be an integer from 4 to 8, got 9",
    ],
    [
      "cbcMac key 8",
      () => cbcMac(new Uint8Array(8), d, { padding: 1, core }),
      RangeError,
      "key must be 16 or 24 bytes (TDES), got 8",
    ],
    [
      "aes key 15",
      () => aesEncryptEcb(new Uint8Array(15), new Uint8Array(16)),
      RangeError,
      "key must be 16, 24 or 32 bytes (AES), got 15",
    ],
    [
      "aes partial block",
      () => aesEncryptEcb(k16, new Uint8Array(15)),
      RangeError,
      "data must be a whole number of 16-byte blocks, got 15 bytes",
    ],
    [
      "aes iv 8",
      () => aesEncryptCbc(k16, new Uint8Array(8), new Uint8Array(16)),
      RangeError,
      "iv must be 16 bytes, got 8",
    ],
    [
      "aesCtr iv type",
      () => aesCtr(k16, null as never, d),
      TypeError,
      "iv must be a Uint8Array, got null",
    ],
  ];
}

Deno.test("symmetric: bad arguments give exact errors", async () => {
  for (const [name, fn, cls, msg] of badTable(js)) {
    const err = await assertRejects(async () => await fn(), cls, msg, name);
    assertEquals(err.message, msg, name);
  }
});

Deno.test("symmetric: without options.core the default core is used (rejects until wasm lands, or works)", async () => {
  // loadCore() is the default; whatever it does, kcv must do the same.
  let expected: string;
  try {
    const core = await (await import("../../src/core/mod.ts")).loadCore();
    expected = toHex(await kcv(new Uint8Array(16), { core }));
  } catch (e) {
    await assertRejects(() => kcv(new Uint8Array(16)), Error, (e as Error).message);
    return;
  }
  assertEquals(toHex(await kcv(new Uint8Array(16))), expected);
});

void assertThrows;
