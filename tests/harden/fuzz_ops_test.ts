/**
 * Fuzzing the dual-control routes: the rotation of PK and MAK
 * (`POST /v1/server-keys/{name}/rotate`), its hand-over to the MTMS (S14:
 * `GET /v1/server-keys/{name}/versions/{version}`), the KMS CA install
 * (`POST /v1/kms-ca`) and approving (`POST /v1/approvals/{id}/approve`).
 * The valid requests of a real run (`_traffic_ops.ts`: operators enrolled,
 * PK and MAK rotated, a KMS CA installed) are mutated: bad key names and
 * versions, huge, negative and fractional numbers, wrong types, key blocks
 * that are not TR-31, a forged TR-31 block, PEM garbage, a clear key (hex
 * and a PKCS#8 PEM) where a key block is expected, unknown fields, cut
 * text; each request is signed by an operator with the route's role. A
 * request the gate holds (202: its body has the right shape) is approved by
 * a second custodian at once, and that answer is checked instead.
 *
 * Every answer must be a 4xx with a JSON error whose code is precise (not
 * a generic one) and whose 400 message names the field; no answer may carry
 * a piece of the key material sent; the KMS's state (every table but the
 * audit log, the operators' request nonces and the pending approvals) must
 * hash the same before and after, and no approval may end done.
 *
 * Prints `figure fuzz-ops`.
 */
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { figure, size, Tally } from "./_figures.ts";
import { sqliteReader } from "./_faults.ts";
import { recordTraffic } from "./_traffic.ts";
import { type OperatorKeys, signAs } from "./_traffic_ops.ts";
import { DatabaseSync } from "node:sqlite";

const core = await loadCore("wasm");
const N = size(400, 10_000);

/** Codes too vague to tell an operator what was wrong. */
const GENERIC = new Set(["internal_error", "error", "bad_request", "unknown"]);

const clearHex = "0123456789ABCDEFFEDCBA9876543210";
const clearPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
  .export({ type: "pkcs8", format: "pem" }) as string;

/** Windows of a secret an answer must not contain. */
function pieces(secret: string): string[] {
  const out = [];
  for (let i = 0; i + 24 <= secret.length; i += 8) out.push(secret.slice(i, i + 24));
  return out;
}

/** A forged TR-31 block of the right shape: header of the real one, other bytes. */
function forged(block: string): string {
  const body = block.slice(16).split("").map((c) => (/[0-9A-F]/.test(c) ? "7" : c)).join("");
  return block.slice(0, 16) + body;
}

Deno.test(`fuzz the rotation, S14 key hand-over, KMS CA install and approval routes: ${N} inputs each, all 4xx, state unchanged`, async () => {
  const keys: OperatorKeys = new Map();
  const t = await recordTraffic(core, 0, "FO", { operatorKeys: keys });
  const db = sqliteReader(`${t.a.dir}/kms.db`);
  try {
    const kms = t.urls.kms;
    const install = t.recorded.find((r) => r.url === `${kms}/v1/kms-ca` && r.body !== null)!;
    const valid = JSON.parse(install.body!) as { certificate: string; keyBlock: string };
    const secrets = [
      valid.keyBlock.slice(16),
      clearHex,
      clearPem.replace(/-----[^-]+-----|\s/g, ""),
    ]
      .flatMap(pieces);
    const before = await db.state();
    const kept = (s: typeof before) =>
      Object.entries(s.tables).filter(([n]) => n !== "approvals").map(([n, h]) => `${n} ${h}`);
    const statuses = new Tally();
    const codes = new Tally();
    let held = 0;

    const send = async (who: string | null, method: string, path: string, body?: string) => {
      const url = `${kms}${path}`;
      const headers: Record<string, string> = {};
      if (body !== undefined) headers["content-type"] = "application/json";
      if (who) headers["authorization"] = await signAs(keys, who, method, url, body);
      const res = await t.handlers.kms(new Request(url, { method, headers, body }));
      return { status: res.status, text: await res.text() };
    };
    const check = async (what: string, r: { status: number; text: string }) => {
      if (r.status === 202) {
        // Held for approval (the body has the right shape): a second custodian approves.
        held++;
        const id = JSON.parse(r.text).approvalId as string;
        return check(
          `${what}, approved`,
          await send("carl", "POST", `/v1/approvals/${id}/approve`),
        );
      }
      statuses.add(String(r.status));
      assert(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
      const e = JSON.parse(r.text).error as { code: string; message: string };
      assert(
        /^[a-z][a-z0-9_]{2,}$/.test(e.code) && !GENERIC.has(e.code) && e.message.length > 0,
        `${what}: ${r.text}`,
      );
      codes.add(e.code);
      if (r.status === 400) {
        assert(
          /body|name|version|approvalId|id\b|content-type|certificate|key block/.test(e.message),
          `${what}: ${r.text}`,
        );
      }
      const echoed = secrets.find((p) => r.text.includes(p));
      assert(echoed === undefined, `${what}: the answer echoes key material: ${r.text}`);
    };

    // Rotation: bad key names, a body where none is taken, a requester without the role.
    const names = fc.oneof(
      fc.constantFrom("TK", "pk2", "", "LMK", "PK ", "P%4B", "%00", "..", "A".repeat(5000), "-1"),
      fc.stringMatching(/^[A-Za-z0-9]{0,12}$/).filter((s) => !/^(pk|mak)$/i.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(names, fc.option(fc.jsonValue(), { freq: 3 }), async (name, body) => {
        const text = body === null ? undefined : JSON.stringify(body);
        const path = `/v1/server-keys/${encodeURIComponent(name)}/rotate`;
        await check(`rotate ${name}`, await send("cora", "POST", path, text));
      }),
      { numRuns: N },
    );
    await check("rotate by a supervisor", await send("sam", "POST", "/v1/server-keys/PK/rotate"));

    // S14 hand-over: bad names and versions (huge, negative, fractional, not numbers).
    const versions = fc.oneof(
      fc.constantFrom("0", "-1", "1", "1.5", "1e3", "99999999999999999999", "NaN", "", "0x2", " 2"),
      fc.integer({ min: 3, max: Number.MAX_SAFE_INTEGER }).map(String),
      fc.integer({ min: -1e9, max: 0 }).map(String),
      // "2" is the version the traffic rotated to: the one valid answer.
      fc.string({ maxLength: 12 }).filter((s) => s !== "2"),
    );
    const hname = fc.oneof(fc.constantFrom("PK", "MAK"), names);
    await fc.assert(
      fc.asyncProperty(hname, versions, async (name, v) => {
        const path = `/v1/server-keys/${encodeURIComponent(name)}/versions/${
          encodeURIComponent(v)
        }`;
        await check(`hand-over ${name} ${v}`, await send(null, "GET", path));
      }),
      { numRuns: N },
    );

    // KMS CA install: the valid body with one field bent.
    const badBlocks = [
      clearHex,
      clearPem,
      forged(valid.keyBlock),
      valid.keyBlock.slice(0, -1),
      valid.keyBlock.replace(/^./, "Z"),
      `A0016${"P".repeat(11)}`,
      "",
    ];
    const badCertificates = [
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      valid.certificate.replace(/[A-Za-z](?=[^\n]*\n-----END)/, "!"),
      valid.certificate.slice(0, valid.certificate.length / 2),
      clearPem,
      "",
    ];
    // Each named case once, then the fuzzer's mix.
    for (const keyBlock of badBlocks) {
      const text = JSON.stringify({ ...valid, keyBlock });
      await check(
        `install, key block ${keyBlock.slice(0, 20)}`,
        await send("cora", "POST", "/v1/kms-ca", text),
      );
    }
    for (const certificate of badCertificates) {
      const text = JSON.stringify({ ...valid, certificate });
      await check(
        `install, certificate ${certificate.slice(0, 40)}`,
        await send("cora", "POST", "/v1/kms-ca", text),
      );
    }
    assert(held >= 2, `${held} requests held for approval`);
    const keyBlocks = fc.oneof(
      fc.constantFrom(...badBlocks),
      fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })),
    );
    const certificates = fc.oneof(
      fc.constantFrom(...badCertificates),
      fc.string({ maxLength: 40 }),
      fc.oneof(fc.integer(), fc.constant(null), fc.boolean()),
    );
    const bodies = fc.oneof(
      keyBlocks.map((keyBlock) => ({ ...valid, keyBlock })),
      certificates.map((certificate) => ({ ...valid, certificate })),
      fc.constantFrom(
        { certificate: valid.certificate },
        { keyBlock: valid.keyBlock },
        { ...valid, privateKey: clearPem },
        { ...valid, keyBlock: valid.keyBlock, extra: 1 },
        [valid],
        null,
        -1,
        1e308,
      ),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.nat(), async (b, cut) => {
        let text = JSON.stringify(b);
        if (cut % 5 === 0) text = text.slice(0, cut % (text.length + 1));
        await check(`install ${text.slice(0, 80)}`, await send("cora", "POST", "/v1/kms-ca", text));
      }),
      { numRuns: N },
    );

    // Approving: ids that are not approvals, bodies where none is taken.
    const ids = fc.oneof(
      fc.uuid(),
      fc.constantFrom("-1", "0", "99999999999999999999", "", "%00", "A".repeat(5000)),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(ids, fc.option(fc.jsonValue(), { freq: 4 }), async (id, body) => {
        const text = body === null ? undefined : JSON.stringify(body);
        const path = `/v1/approvals/${encodeURIComponent(id)}/approve`;
        await check(`approve ${id.slice(0, 40)}`, await send("carl", "POST", path, text));
      }),
      { numRuns: N },
    );

    const after = await db.state();
    assertEquals(kept(after), kept(before), "the KMS's state changed");
    const sql = new DatabaseSync(`${t.a.dir}/kms.db`, { readOnly: true });
    try {
      const done = sql.prepare("SELECT COUNT(*) AS n FROM approvals WHERE state <> 'pending'")
        .get() as { n: number };
      const doneBefore = 5; // cora's and carl's enrolment, PK, MAK, the KMS CA
      assertEquals(done.n, doneBefore, "an approval of a refused request ended done");
    } finally {
      sql.close();
    }
    figure(
      "fuzz-ops",
      `${statuses.total} requests (${N} per route group, ${held} held and then approved): ` +
        `statuses ${statuses}; codes ${codes}; 0 5xx, no key material echoed, KMS state unchanged`,
    );
  } finally {
    await db.close();
    await t.close();
  }
});
