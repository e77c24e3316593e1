/**
 * No key in clear through a rotation: the servers' HSMs are observed
 * (`tests/hsm/observed_hsm.ts`: every clear key they create or recover,
 * among them the new PK and MAK, the key exchange keys derived for their
 * hand-over and those keys' KBEK and KBAK) and the key scanner
 * (`tests/harden/_key_scan.ts`) searches the database files, both logs and
 * every HTTP body of a run (two rotations, the hand-over to the MTMS, two
 * orders transferred, TMKs issued and delivered) for each of them. The
 * scanner first finds a planted key, so it cannot pass vacuously.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import type { Transport } from "../../src/protocol/mod.ts";
import { KeyScanner } from "../harden/_key_scan.ts";
import { refKcv } from "../hsm/_fixtures.ts";
import { observedHsmFactory, type ObservedKey } from "../hsm/observed_hsm.ts";
import { delivered, staffedWorld } from "./_rotation_world.ts";

Deno.test("rotation key scan: no clear key in the databases, logs or HTTP bodies", async () => {
  const seen: ObservedKey[] = [];
  const bodies: string[] = [];
  const record = (h: Transport): Transport => async (r) => {
    bodies.push(`${r.method} ${r.url}\n${await r.clone().text()}`);
    const res = await h(r);
    bodies.push(await res.clone().text());
    return res;
  };
  const t = await staffedWorld("sqlite", {
    hsmFactory: observedHsmFactory((k) => seen.push(k)),
    around: (_server, h) => record(h),
  });
  try {
    const early = await t.order("PO-SCAN-1", ["SNK0000001"]);
    const pk = await t.rotate("PK");
    const mak = await t.rotate("MAK");
    assertEquals((await t.transfer("PO-SCAN-1")).status, 200);
    const late = await t.order("PO-SCAN-2", ["SNK0000002"]);
    assertEquals((await t.transfer("PO-SCAN-2")).status, 200);
    for (const orderId of ["PO-SCAN-1", "PO-SCAN-2"]) {
      assertEquals((await t.as("otto", "POST", `/v1/orders/${orderId}/tmks`)).status, 200);
    }
    await delivered([...early, ...late]);

    // The new keys are among those observed: at the KMS (generated), at the MTMS (imported).
    const kcvs = (n: number) =>
      seen.filter((k) =>
        k.bytes.length === n && (k.origin === "generated" || k.origin === "imported")
      )
        .map((k) => refKcv(k.bytes));
    assertEquals(kcvs(24).filter((k) => k === pk.kcv).length >= 2, true, "new PK at both HSMs");
    assertEquals(kcvs(16).filter((k) => k === mak.kcv).length >= 2, true, "new MAK at both HSMs");
    assert(seen.some((k) => /successor's key exchange key/.test(k.what)), "the exchange keys");

    const secrets = seen.filter((k) => k.bytes.length >= 8).map((k, i) => ({
      name: `${k.origin} ${i}: ${k.what}`,
      bytes: k.bytes,
    }));
    const scanner = new KeyScanner(secrets);
    const enc = new TextEncoder();
    // The control: a planted key is found.
    const planted = seen.find((k) => k.origin === "generated" && k.bytes.length === 24)!;
    const plant = Array.from(planted.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    assert(scanner.scan("planted", enc.encode(`{"x":"${plant}"}`)).length > 0, "planted key found");

    const hits = [];
    const files = [];
    for await (const e of Deno.readDir(t.dir)) {
      if (!e.isFile) continue;
      files.push(e.name);
      hits.push(...scanner.scan(e.name, await Deno.readFile(`${t.dir}/${e.name}`)));
    }
    assert(files.includes("kms.db") && files.includes("mtms.db"), files.join(", "));
    hits.push(...scanner.scan("kms log", enc.encode(t.w.logs.kms.join("\n"))));
    hits.push(...scanner.scan("mtms log", enc.encode(t.w.logs.mtms.join("\n"))));
    hits.push(...scanner.scan("http bodies", enc.encode(bodies.join("\n"))));
    assert(
      bodies.some((b) => b.includes("/v1/server-keys/PK/versions/2")),
      "the hand-over was scanned",
    );
    assertEquals(hits, []);
  } finally {
    await t.close();
  }
});
