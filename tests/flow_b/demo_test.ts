/**
 * The flow B demo section (`demo/flow_b.ts`) on a KMS of its own: every
 * terminal delivered with matching KCVs, the printed trace and summary
 * line, and no clear key in the database, the KMS log or any HTTP body.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { toHex } from "../../src/crypto/mod.ts";
import type { Exchange } from "../../src/protocol/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { pinPadFlowBTestHarness } from "../../devices/pin_pad_flow_b.ts";
import { formatFlowB, runFlowBStandalone } from "../../demo/flow_b.ts";
import { allCores } from "../_helpers.ts";

const [core] = await allCores();

Deno.test("flow B demo: trace, table, summary line, and no clear key anywhere", async () => {
  const dataDir = await Deno.makeTempDir();
  const logs: string[] = [];
  const exchanges: Exchange[] = [];
  try {
    const r = await runFlowBStandalone({
      terminals: 2,
      core,
      dataDir,
      log: jsonLogger((l) => logs.push(l)),
      observe: (e) => exchanges.push(e),
    });
    assertEquals(r.rows.map((x) => [x.ok, x.state]), [[true, "delivered"], [true, "delivered"]]);
    const lines = formatFlowB(r, core.name);
    assertMatch(
      lines.at(-1)!,
      new RegExp(
        "^flow B: 2/2 terminals got their TMK \\(S1-S7 over HTTP, mutual authentication passed, " +
          `KCVs match on both sides\\), 0 failed, [0-9.]+ s, core ${core.name}$`,
      ),
    );
    const steps = r.trace.map((t) => t.step);
    assertEquals([...new Set(steps)], ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]);
    const db = new DatabaseSync(r.dbPath);
    let dump = "";
    for (
      const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    ) {
      dump += JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all());
    }
    db.close();
    const text = dump + logs.join("\n") +
      exchanges.map((e) => e.requestBody + e.responseBody).join("\n") + lines.join("\n");
    assert(dump.includes("FB00000002") && text.includes("encryptedAuk"));
    const secrets: Uint8Array[] = [];
    for (const pad of r.pinPads) {
      const k = await pinPadFlowBTestHarness(pad).clearKeys();
      secrets.push(k.auk!, k.tmk!, k.prTekPkcs8!);
    }
    for (const c of r.lmkComponents) assert(!text.includes(c), "an LMK component leaked");
    for (const s of secrets) {
      for (const n of [toHex(s), toHex(s).toLowerCase(), btoa(String.fromCharCode(...s))]) {
        assert(!text.includes(n), `a clear key (${s.length} bytes) leaked`);
      }
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
