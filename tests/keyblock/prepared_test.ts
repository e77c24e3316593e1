/**
 * PreparedKbpk (derived keys reused across blocks): every version wraps and
 * unwraps the same as with the raw KBPK, blocks made either way open the other
 * way and under the independent reference, and destroy() zeroes the keys and
 * refuses later use.
 */
import { assertEquals, assertRejects } from "@std/assert";
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
}
