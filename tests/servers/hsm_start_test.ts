/**
 * A server brings its HSM to work explicitly at start, in the mode it is
 * given: the KMS (in process, SQLite file) in production mode refuses
 * components without the ceremony's LMK KCV, a published test LMK, two
 * components of one custodian and components without custodians; with a
 * right set it starts, and its audit log shows offline -> secure, the LMK
 * loaded with the custodians, secure -> authorized. The KMS process started
 * without `--hsm-mode` is in production mode.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { fromHex, kcv, toHex } from "../../src/crypto/mod.ts";
import { HsmError, TEST_LMKS } from "../../src/hsm/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import { openSqliteStore } from "../../src/store/mod.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { createKms } from "../../servers/kms/main.ts";
import { randomComponents } from "../../demo/setup.ts";
import { randomBytes } from "../_helpers.ts";

const core = await loadCore("wasm");

/** `CUSTODIAN:KEY:KCV` components of a given AES-256 LMK, and its KCV (5 bytes). */
async function componentsOf(lmk: Uint8Array): Promise<{ components: string[]; kcv: string }> {
  const a = randomBytes(32);
  const b = lmk.map((x, i) => x ^ a[i]);
  const check = async (k: Uint8Array, n: number) =>
    toHex(await kcv(k, { method: "cmac", algorithm: "aes", length: n, core }));
  return {
    components: [`alice:${toHex(a)}:${await check(a, 3)}`, `bob:${toHex(b)}:${await check(b, 3)}`],
    kcv: await check(lmk, 5),
  };
}

Deno.test("servers: a production KMS refuses test and incomplete LMKs at start, audited, and starts on a right one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hsm-start-" });
  try {
    const shared = {
      pkComponents: await randomComponents(2, 24, core),
      makComponents: await randomComponents(2, 16, core),
      token: "0123456789abcdef0123456789abcdef",
      log: jsonLogger(() => {}),
      core,
      hsmMode: "production" as const,
    };
    const lmk = randomBytes(32);
    const right = await componentsOf(lmk);
    const published = await componentsOf(fromHex(TEST_LMKS[0].key));
    const cases: [string, string[], string | undefined, string][] = [
      ["no LMK KCV", right.components, undefined, "combined_kcv"],
      ["a published test LMK", published.components, published.kcv, "test_lmk"],
      [
        "one custodian twice",
        [right.components[0], right.components[1].replace(/^bob:/, "ALICE:")],
        right.kcv,
        "custodian",
      ],
    ];
    let n = 0;
    for (const [name, components, lmkKcv, code] of cases) {
      const db = `${dir}/refused-${n++}.db`;
      const e = await assertRejects(
        () => createKms({ ...shared, db, lmkComponents: components, lmkKcv }),
        HsmError,
      );
      assertEquals(e.code, code, name);
      const store = await openSqliteStore(db);
      try {
        const log = await store.listAudit({ limit: 100 });
        assertEquals(
          log.map((r) => [r.actor, r.event, r.outcome]),
          [["kms hsm", "state_changed", "success"], ["kms hsm", "lmk_load_failed", "failure"]],
          name,
        );
        assertStringIncludes(log[1].detail!, `${code}: `, name);
      } finally {
        await store.close();
      }
    }
    // Components without custodians are refused before the HSM (nothing to audit).
    const bare = right.components.map((c) => c.slice(c.indexOf(":") + 1));
    const v = await assertRejects(
      () => createKms({ ...shared, db: `${dir}/bare.db`, lmkComponents: bare, lmkKcv: right.kcv }),
      ValidationError,
      "LMK component 1: expected CUSTODIAN:KEY:KCV",
    );
    assertEquals(v.code, "invalid_component");

    // The right set with its KCV: the KMS starts; its HSM went offline -> secure -> authorized.
    const db = `${dir}/kms.db`;
    const app = await createKms({
      ...shared,
      db,
      lmkComponents: right.components,
      lmkKcv: right.kcv,
    });
    try {
      const health = await app.handler(new Request("http://kms.test/healthz"));
      assertEquals(health.status, 200);
      await health.body?.cancel();
    } finally {
      await app.close();
    }
    const store = await openSqliteStore(db);
    try {
      const log = await store.listAudit({ limit: 100 });
      // The HSM brought to work, then flow A's challenge key made once for this database.
      assertEquals(log.map((r) => r.event), [
        "state_changed",
        "lmk_loaded",
        "state_changed",
        "challenge_key_created",
      ]);
      assertEquals(log[3].keyId, "flow-a-challenge");
      assertStringIncludes(
        log[0].detail!,
        "offline -> secure by kms start (custodians alice, bob)",
      );
      assertEquals(log[1].kcv, right.kcv);
      assertStringIncludes(log[1].detail!, "custodians alice, bob; production mode");
      assertStringIncludes(log[2].detail!, "secure -> authorized");
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("servers: the KMS process without --hsm-mode runs in production mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hsm-start-cli-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL("../../servers/kms/main.ts", import.meta.url).pathname,
        "--port",
        "0",
        "--db",
        `${dir}/kms.db`,
        "--insecure-http",
      ],
      env: {
        KMS_LMK_COMPONENTS: (await randomComponents(2, 32, core)).join(","),
        KMS_PK_COMPONENTS: (await randomComponents(2, 24, core)).join(","),
        KMS_MAK_COMPONENTS: (await randomComponents(2, 16, core)).join(","),
        KMS_TOKEN: "0123456789abcdef0123456789abcdef",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.code !== 0, "the KMS must not start");
    assertStringIncludes(stderr, "production mode needs the LMK's KCV");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
