/**
 * PreparedKbpk (derived keys reused across blocks): every version wraps and
 * unwraps the same as with the raw KBPK, blocks made either way open the other
 * way and under the independent reference, and destroy() zeroes the keys and
 * refuses later use.
 */
import nodeCrypto from "node:crypto";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { allCores, randomBytes } from "../_helpers.ts";
import {
  KeyBlockError,
  type KeyBlockVersion,
  prepareKbpk,
  unwrapKeyBlock,
  wrapKeyBlock,
} from "../../src/keyblock/mod.ts";
import { referenceUnwrap } from "./_reference.ts";

const cores = await allCores();
const CASES: [KeyBlockVersion, number][] = [
  ["A", 16],
  ["B", 24],
  ["C", 16],
  ["D", 32],
  ["D", 16],
  ["E", 32],
];

for (const core of cores) {
  const name = core.name;
  Deno.test(`PreparedKbpk ${name}: same blocks as the raw KBPK, both ways, every version`, async () => {
    for (const [v, n] of CASES) {
      const kbpk = randomBytes(n);
      const prepared = await prepareKbpk(kbpk, { core });
      for (let i = 0; i < 3; i++) {
        const key = randomBytes(16);
        const header = `${v}0000M3TC00E0000`;
        const a = await wrapKeyBlock(prepared, header, key, { core });
        const b = await wrapKeyBlock(kbpk, header, key, { core });
        assertEquals((await unwrapKeyBlock(kbpk, a, { core })).key, key, `${v} raw opens prepared`);
        assertEquals(
          (await unwrapKeyBlock(prepared, b, { core })).key,
          key,
          `${v} prepared opens raw`,
        );
        assertEquals((await unwrapKeyBlock(prepared, a, { core })).key, key, `${v} prepared twice`);
        if (v === "B" || v === "D") assertEquals(referenceUnwrap(kbpk, a), key, `${v} reference`);
      }
      // a wrong KBPK still fails the MAC with a prepared key
      const other = await prepareKbpk(randomBytes(n), { core });
      const block = await wrapKeyBlock(kbpk, `${v}0000M3TC00E0000`, randomBytes(16), { core });
      const e = await assertRejects(() => unwrapKeyBlock(other, block, { core }));
      assertEquals((e as { code?: string }).code, "mac");
      await other.destroy();
      await prepared.destroy();
      assertEquals(prepared.destroyed, true);
      assertEquals(prepared.length, 0);
      await assertRejects(
        () => wrapKeyBlock(prepared, `${v}0000M3TC00E0000`, randomBytes(16), { core }),
        TypeError,
        "kbpk is a destroyed PreparedKbpk",
      );
      await assertRejects(() => unwrapKeyBlock(prepared, block, { core }), TypeError, "destroyed");
    }
  });

  Deno.test(`PreparedKbpk ${name}: copies the KBPK, checks its arguments`, async () => {
    const kbpk = randomBytes(32);
    const keep = kbpk.slice();
    const prepared = await prepareKbpk(kbpk, { core });
    kbpk.fill(0); // the caller zeroes its own copy; the prepared one still works
    const key = randomBytes(16);
    const block = await wrapKeyBlock(prepared, "D0000M3TC00E0000", key, { core });
    assertEquals((await unwrapKeyBlock(keep, block, { core })).key, key);
    await prepared.destroy();
    await prepared.destroy(); // idempotent
    await assertRejects(() => prepareKbpk(randomBytes(20), { core }), RangeError, "got 20");
    await assertRejects(
      () => prepareKbpk("00" as unknown as Uint8Array, { core }),
      TypeError,
      "kbpk must be a Uint8Array, got string",
    );
    // a prepared KBPK of the wrong length for the version is refused like raw bytes
    const long = await prepareKbpk(randomBytes(32), { core });
    const e = await assertRejects(
      () => wrapKeyBlock(long, "B0000M3TC00E0000", randomBytes(16), { core }),
      KeyBlockError,
      "kbpk must be 16, 24 bytes (TDES) for version B, got 32",
    );
    assertEquals((e as KeyBlockError).code, "kbpk_length");
    await long.destroy();
  });

  Deno.test(`PreparedKbpk ${name}: keeps the KBAK's CMAC subkeys (SP 800-38B 6.1), destroy() zeroes them`, async () => {
    for (const [v, n] of CASES) {
      const prepared = await prepareKbpk(randomBytes(n), { core });
      const keys = await prepared._keys(v, core);
      if (v === "A" || v === "C") {
        assertEquals(keys.kbakSubkeys, undefined, `${v} has no CMAC`);
      } else {
        // independent subkeys: L = E_KBAK(0) by node:crypto, doubled with BigInt
        const aes = v !== "B";
        const b = aes ? 16 : 8;
        // one block: CBC with a zero IV is ECB (Deno's node:crypto has only des-ede3-cbc)
        const key = aes || n === 24
          ? keys.kbak
          : new Uint8Array([...keys.kbak, ...keys.kbak.subarray(0, 8)]);
        const alg = aes ? `aes-${n * 8}-ecb` : "des-ede3-cbc";
        const c = nodeCrypto.createCipheriv(alg, key, aes ? null : new Uint8Array(8));
        c.setAutoPadding(false);
        let x = BigInt("0x" + Buffer.from(c.update(new Uint8Array(b))).toString("hex"));
        const bits = BigInt(8 * b);
        const mod = (1n << bits) - 1n;
        const rb = aes ? 0x87n : 0x1bn;
        const expect: string[] = [];
        for (let i = 0; i < 2; i++) {
          x = ((x << 1n) & mod) ^ ((x >> (bits - 1n)) * rb);
          expect.push(x.toString(16).padStart(2 * b, "0"));
        }
        const got = keys.kbakSubkeys!.map((k) => Buffer.from(k).toString("hex"));
        assertEquals(got, expect, `${v} K1, K2`);
      }
      await prepared.destroy();
      for (const k of [keys.kbek, keys.kbak, ...(keys.kbakSubkeys ?? [])]) {
        assert(k.length > 0 && k.every((x) => x === 0), `${v}: a derived key is not zeroed`);
      }
    }
  });
}
