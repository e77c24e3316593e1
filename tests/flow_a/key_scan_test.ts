/**
 * No clear key in the databases, the logs or any HTTP body of a demo run.
 *
 * The keys scanned for come from the test side: TK and TMK from each PIN
 * pad (through the test harness, the only way to read them), LMKs, PK and
 * MAK from the key components the demo generated. Each key is searched for
 * in hex (upper and lower case) and as raw bytes. The scanner first proves
 * it finds a planted key, so it cannot pass vacuously.
 */
import { assert, assertEquals } from "@std/assert";
import { allCores, hex, toHex } from "../_helpers.ts";
import { memoryLogger } from "../../servers/_lib/log.ts";
import { pinPadTestHarness } from "../../devices/pin_pad.ts";
import { runDemo } from "../../demo/run.ts";
import { componentKey } from "../../demo/setup.ts";
import { setOddParity } from "../../src/crypto/mod.ts";

/** Where (if anywhere) `key` occurs in `haystack`: as hex in either case, or raw. */
function findKey(haystack: Uint8Array, key: Uint8Array): string | undefined {
  const text = new TextDecoder("latin1").decode(haystack);
  const upper = toHex(key);
  if (text.includes(upper)) return "uppercase hex";
  if (text.includes(upper.toLowerCase())) return "lowercase hex";
  // raw bytes
  outer: for (let i = 0; i + key.length <= haystack.length; i++) {
    for (let j = 0; j < key.length; j++) if (haystack[i + j] !== key[j]) continue outer;
    return "raw bytes";
  }
  return undefined;
}

function xorComponents(components: string[]): Uint8Array {
  const out = hex(componentKey(components[0]));
  for (const c of components.slice(1)) {
    const b = hex(componentKey(c));
    for (let i = 0; i < out.length; i++) out[i] ^= b[i];
  }
  return out;
}

for (const core of await allCores()) {
  Deno.test(`key scan (${core.name}): no clear TK, TMK, PK, MAK or LMK in databases, logs or HTTP bodies`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "flowa-scan-" });
    const kmsLog = memoryLogger();
    const mtmsLog = memoryLogger();
    const bodies: string[] = [];
    const files: Record<string, Uint8Array> = {};
    try {
      const result = await runDemo({
        terminals: 3,
        core,
        dataDir: dir,
        kmsLog: kmsLog.logger,
        mtmsLog: mtmsLog.logger,
        observe: (x) =>
          bodies.push(`${x.method} ${x.url}\n${x.requestBody}\n${x.status}\n${x.responseBody}`),
        beforeShutdown: async () => {
          // the databases and their write-ahead logs while the servers still run
          for await (const e of Deno.readDir(dir)) {
            if (e.isFile) files[`${e.name} (running)`] = await Deno.readFile(`${dir}/${e.name}`);
          }
        },
      });
      assert(result.rows.every((r) => r.ok), JSON.stringify(result.rows));
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile) files[e.name] = await Deno.readFile(`${dir}/${e.name}`);
      }
      assert(
        Object.keys(files).some((f) => f.startsWith("kms.db")),
        "the KMS database was scanned",
      );
      assert(
        Object.keys(files).some((f) => f.startsWith("mtms.db")),
        "the MTMS database was scanned",
      );
      assert(bodies.length >= 3 * 5, `every HTTP exchange was seen (${bodies.length})`);

      const keys: [string, Uint8Array][] = [];
      for (const [i, pad] of result.pinPads.entries()) {
        const k = await pinPadTestHarness(pad).clearKeys();
        assert(k.tk && k.tmk, `PIN pad ${i} holds TK and TMK`);
        keys.push([`TK of terminal ${i}`, k.tk], [`TMK of terminal ${i}`, k.tmk]);
      }
      keys.push(
        ["KMS LMK", xorComponents(result.components.kmsLmk)],
        ["MTMS LMK", xorComponents(result.components.mtmsLmk)],
        ["PK", xorComponents(result.components.pk)],
        ["MAK", xorComponents(result.components.mak)],
        // TDES keys formed from components get odd parity: scan for that form too
        ["PK (odd parity)", setOddParity(xorComponents(result.components.pk))],
        ["MAK (odd parity)", setOddParity(xorComponents(result.components.mak))],
      );
      for (const c of Object.values(result.components).flat()) {
        keys.push(["a key component", hex(componentKey(c))]);
      }
      const haystacks: [string, Uint8Array][] = [
        ...Object.entries(files),
        ["KMS log", new TextEncoder().encode(kmsLog.lines.join("\n"))],
        ["MTMS log", new TextEncoder().encode(mtmsLog.lines.join("\n"))],
        ["HTTP bodies", new TextEncoder().encode(bodies.join("\n"))],
      ];
      assert(kmsLog.lines.length > 0 && mtmsLog.lines.length > 0, "the logs were written");

      // the scanner finds a planted key (either case, raw), so it cannot pass vacuously
      const [name0, key0] = keys[0];
      const planted = new TextEncoder().encode(bodies[0] + toHex(key0).toLowerCase());
      assertEquals(findKey(planted, key0), "lowercase hex", `planted ${name0}`);
      const db = Object.entries(files).find(([f]) => f === "kms.db")![1];
      const withRaw = new Uint8Array(db.length + key0.length);
      withRaw.set(db);
      withRaw.set(key0, db.length);
      assertEquals(findKey(withRaw, key0), "raw bytes");
      assertEquals(
        findKey(new TextEncoder().encode(`x${toHex(keys[1][1])}x`), keys[1][1]),
        "uppercase hex",
      );

      const found: string[] = [];
      for (const [keyName, key] of keys) {
        for (const [where, hay] of haystacks) {
          const how = findKey(hay, key);
          if (how) found.push(`${keyName} in ${where} as ${how}`);
        }
      }
      assertEquals(found, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
