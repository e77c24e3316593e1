/**
 * HSM test fixtures: LMK components the test knows (so it can check the
 * HSM's key blocks independently), an audit sink that records, independent
 * TDES-ECB and retail MAC on node:crypto (Deno has only des-ede3-cbc, so ECB
 * and single DES are built from it), and a leak scanner.
 *
 * @module
 */
import nodeCrypto from "node:crypto";
import type { CryptoCore } from "../../src/core/mod.ts";
import { kcv, setOddParity, toHex } from "../../src/crypto/mod.ts";
import {
  type HsmAuditEvent,
  type LmkAlgorithm,
  type LmkComponent,
  SoftwareHsm,
} from "../../src/hsm/mod.ts";
import { randomBytes } from "../_helpers.ts";

/** Random components with their KCVs, and the LMK they combine to. */
export async function makeComponents(
  algorithm: LmkAlgorithm,
  n: number,
  core: CryptoCore,
): Promise<{ components: LmkComponent[]; lmk: Uint8Array; clear: Uint8Array[] }> {
  const length = algorithm === "aes" ? 32 : 24;
  const clear: Uint8Array[] = [];
  const components: LmkComponent[] = [];
  let lmk = new Uint8Array(length);
  for (let i = 0; i < n; i++) {
    const c = randomBytes(length);
    clear.push(c);
    const v = await kcv(c, {
      method: algorithm === "aes" ? "cmac" : "legacy",
      algorithm,
      length: algorithm === "aes" ? 5 : 3,
      core,
    });
    components.push({ custodian: `custodian-${i + 1}`, key: toHex(c), kcv: toHex(v) });
    lmk = lmk.map((b, j) => b ^ c[j]);
  }
  if (algorithm === "tdes") lmk = setOddParity(lmk);
  return { components, lmk, clear };
}

/**
 * A test-mode HSM on `core` with a known LMK and a recording audit sink,
 * brought to the authorized state; `events` starts empty after that (the
 * state changes and the LMK load are in `startEvents`).
 */
export async function makeHsm(
  core: CryptoCore,
  algorithm: LmkAlgorithm = "aes",
): Promise<
  {
    hsm: SoftwareHsm;
    lmk: Uint8Array;
    events: HsmAuditEvent[];
    startEvents: HsmAuditEvent[];
    secrets: Uint8Array[];
  }
> {
  const { components, lmk, clear } = await makeComponents(algorithm, 3, core);
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.open({
    mode: "test",
    lmkAlgorithm: algorithm,
    core,
    audit: (e) => {
      events.push(e);
    },
  }, { components });
  const startEvents = events.splice(0);
  return { hsm, lmk, events, startEvents, secrets: [lmk, ...clear] };
}

function key24(key: Uint8Array): Uint8Array {
  if (key.length === 24) return key;
  const k = new Uint8Array(24);
  k.set(key.subarray(0, 16));
  k.set(key.subarray(0, 8), 16);
  return k;
}

/** TDES-ECB on node:crypto, one block at a time through des-ede3-cbc with a zero IV. */
export function refEcb(encrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 8) {
    const c = encrypt
      ? nodeCrypto.createCipheriv("des-ede3-cbc", key24(key), new Uint8Array(8))
      : nodeCrypto.createDecipheriv("des-ede3-cbc", key24(key), new Uint8Array(8));
    c.setAutoPadding(false);
    out.set(c.update(data.subarray(i, i + 8)), i);
    c.final();
  }
  return out;
}

/** ISO 9797-1 MAC algorithm 3, padding method 2, on node:crypto (single DES = TDES with K1=K2=K3). */
export function refRetailMac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.floor(data.length / 8) * 8 + 8);
  padded.set(data);
  padded[data.length] = 0x80;
  const k = key.subarray(0, 8), k2 = key.subarray(8, 16);
  const single = (enc: boolean, kk: Uint8Array, b: Uint8Array) =>
    refEcb(enc, new Uint8Array([...kk, ...kk, ...kk]), b);
  let h: Uint8Array = new Uint8Array(8);
  for (let i = 0; i < padded.length; i += 8) {
    h = single(true, k, h.map((x, j) => x ^ padded[i + j]));
  }
  return single(true, k, single(false, k2, h));
}

/** The legacy KCV (3 bytes) on node:crypto. */
export function refKcv(key: Uint8Array): string {
  return toHex(refEcb(true, key, new Uint8Array(8)).subarray(0, 3));
}

/**
 * Every 8-byte window of every secret, in upper and lower hex and base64:
 * `leaks(text)` returns the first window found in `text`, or null.
 */
export function leakScanner(secrets: Uint8Array[]): (text: string) => string | null {
  const needles = new Set<string>();
  for (const s of secrets) {
    for (let i = 0; i + 8 <= s.length; i++) {
      const w = s.subarray(i, i + 8);
      const h = toHex(w);
      needles.add(h);
      needles.add(h.toLowerCase());
    }
    if (s.length >= 8) needles.add(btoa(String.fromCharCode(...s)).slice(0, 12));
  }
  return (text: string) => {
    for (const n of needles) if (text.includes(n)) return n;
    return null;
  };
}

/** JSON of any result with bytes as hex, for scanning. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => x instanceof Uint8Array ? toHex(x) : x);
}
