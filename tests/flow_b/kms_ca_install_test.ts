/**
 * The KMS CA installed under dual control (`POST /v1/kms-ca`,
 * `servers/kms/ca_install.ts`), on SQLite and on PostgreSQL: one custodian
 * only asks (202), its requester and an operator without an approver role
 * cannot approve, a second custodian installs it; a second KMS instance on
 * the same database certifies with the new CA without a restart, and a PIN
 * pad certified afterwards chains to it. A forged, foreign or mismatched
 * key block, a clear key and a non-CA certificate are refused with nothing
 * stored. The start flags install a CA only while no operator is enrolled
 * and must otherwise name the CA in force. Real KMS (`createKms`), HSM,
 * store, router and operator gate.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import postgres from "postgres";
import { generateRsaKeyPair, publicKeyOf, toHex } from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES, SoftwareHsm } from "../../src/hsm/mod.ts";
import { issueCertificate, parseCertificate } from "../../src/pki/mod.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  signOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";
import { signOperatorRequest } from "../../src/protocol/operator_request.ts";
import { openStore } from "../../servers/_lib/store.ts";
import { jsonLogger } from "../../servers/_lib/mod.ts";
import { parseComponents, publicKeyFingerprint } from "../../servers/_lib/hsm.ts";
import { createKms, type KmsApp } from "../../servers/kms/main.ts";
import type { KmsCa } from "../../servers/kms/kms_ca.ts";
import { PinPadFlowB } from "../../devices/pin_pad_flow_b.ts";
import { FlowBTerminal } from "../../devices/pos_flow_b.ts";
import { randomComponents } from "../../demo/setup.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { type Ca, deviceCredential, KMS_URL, makePki, T0 } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);
const lmk = await randomComponents(2, 32, core);
const pk = await randomComponents(2, 24, core);
const mak = await randomComponents(2, 16, core);
const token = toHex(randomBytes(16));
const enc = new TextEncoder();
const PG_URL = Deno.env.get("KMS_TEST_DATABASE_URL") ?? "";

/** A second KMS CA under the same root (the one that replaces the first). */
async function anotherCa(name: string, profile: "kms-ca" | "pin-pad" = "kms-ca"): Promise<Ca> {
  const key = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
  const certificate = await issueCertificate({
    profile,
    subject: { commonName: name, ...(profile === "pin-pad" ? { serialNumber: "NOTACA01" } : {}) },
    publicKey: key,
    notBefore: new Date(T0 - 86_400_000),
    notAfter: new Date(T0 + 3 * 365 * 86_400_000),
    issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
  }, { core });
  return { key, certificate };
}

const ca2 = await anotherCa("TMK KMS CA 2");
const leaf = await anotherCa("TMK not a CA", "pin-pad");

/** Key blocks under an LMK, as `deno task kms --import-ca-key` writes them. */
async function blocksUnder(components: string[]) {
  const hsm = await SoftwareHsm.open({ mode: "test", core }, {
    components: parseComponents(components, "LMK", { custodians: true }),
  });
  const block = async (c: Ca) =>
    (await hsm.importRsaPrivateKey(c.key, KEY_TEMPLATES.RSA_CA)).privateKeyBlock;
  return { ca1: await block(pki.kmsCa), ca2: await block(ca2), leaf: await block(leaf) };
}
const blocks = await blocksUnder(lmk);
const foreign = await blocksUnder(await randomComponents(2, 32, core));
const CA1: KmsCa = { certificate: pki.kmsCa.certificate, privateKeyBlock: blocks.ca1 };
const CA2: KmsCa = { certificate: ca2.certificate, privateKeyBlock: blocks.ca2 };

/** The databases the tests run on: a SQLite file, and a PostgreSQL schema when one is set. */
const DATABASES: { name: string; open(): Promise<{ db: string; drop(): Promise<void> }> }[] = [
  {
    name: "sqlite",
    open: async () => {
      const dir = await Deno.makeTempDir({ prefix: "kms_ca_install_" });
      return { db: `${dir}/kms.db`, drop: () => Deno.remove(dir, { recursive: true }) };
    },
  },
  {
    name: "postgres",
    open: () => {
      const schema = `t_kmsca_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      return Promise.resolve({
        db: `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`,
        drop: async () => {
          const sql = postgres(PG_URL, { max: 1, onnotice: () => {} });
          try {
            await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await sql.end({ timeout: 5 });
          }
        },
      });
    },
  },
];

function kms(db: string, kmsCa?: KmsCa): Promise<KmsApp> {
  return createKms({
    db,
    lmkComponents: lmk,
    hsmMode: "test",
    pkComponents: pk,
    makComponents: mak,
    token,
    log: jsonLogger(() => {}),
    core,
    kmsCa,
    deviceRoots: [pki.root.certificate],
  });
}

type Answer = {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
};

/** Signed operator requests to a KMS handler; operators enrolled through the API. */
function operators(
  handler: (r: Request) => Promise<Response>,
  keys = new Map<string, CryptoKey>(),
) {
  const as = async (who: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const url = `http://kms.test${path}`;
    const text = body === undefined ? "" : JSON.stringify(body);
    const parts = { method, url, body: enc.encode(text) };
    const authorization = who === "admin"
      ? await signOperatorRequest(token, parts)
      : await signOperatorRequestWithKey(keys.get(who)!, who, parts);
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await handler(
      new Request(url, { method, headers, body: body === undefined ? undefined : text }),
    );
    const answer = await r.text();
    return { status: r.status, body: answer ? JSON.parse(answer) : {} };
  };
  const enroll = async (id: string, role: string, approver?: string) => {
    const k = await generateOperatorKey();
    keys.set(id, (await importOperatorKey(k.privateKeyPem)).privateKey);
    const body = { id, name: `Operator ${id}`, role, publicKey: k.publicKey };
    const asked = await as("admin", "POST", "/v1/operators", body);
    const done = approver === undefined
      ? asked
      : await as(approver, "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
    assertEquals(done.status, 201, `${id}: ${JSON.stringify(done.body)}`);
  };
  /** sam (supervisor, enrolled alone), then carol and dave (custodians) and olga (operator). */
  const staff = async () => {
    await enroll("sam", "supervisor");
    for (
      const [id, role] of [["carol", "custodian"], ["dave", "custodian"], ["olga", "operator"]]
    ) {
      await enroll(id, role, "sam");
    }
  };
  return { as, staff, keys };
}

const install = (ca: KmsCa) => ({ certificate: ca.certificate, keyBlock: ca.privateKeyBlock });
const errorOf = (a: Answer) => [a.status, a.body.error?.code];

/** One flow B terminal through S1-S7 against `handler`, its PIN pad flashed with `kmsCa`. */
async function download(handler: (r: Request) => Promise<Response>, sn: string, kmsCa: string) {
  const pad = new PinPadFlowB({
    kmsRoot: pki.root.certificate,
    kmsCa,
    core,
    storageKey: randomBytes(24),
    device: await deviceCredential(core, pki.root, sn, Date.now()),
  });
  return await new FlowBTerminal({ sn, pinPad: pad, transport: handler, kmsUrl: KMS_URL }).run();
}

for (const d of DATABASES) {
  const skip = d.name === "postgres" && PG_URL === "";
  Deno.test({
    name: `KMS CA [${d.name}]: two custodians install it; every KMS on the database uses it${
      skip ? " (skipped: KMS_TEST_DATABASE_URL not set)" : ""
    }`,
    ignore: skip,
    fn: async () => {
      const { db, drop } = await d.open();
      try {
        await installedByTwo(db);
      } finally {
        await drop();
      }
    },
  });
}

/** The first test's steps on one database. */
async function installedByTwo(db: string): Promise<void> {
  const a = await kms(db, CA1); // bootstrap: no operator yet, the flags install version 1
  let b: KmsApp | undefined;
  try {
    b = await kms(db); // a second instance: no flags, the database's CA
    const opsA = operators(a.handler);
    const opsB = operators(b.handler, opsA.keys);
    const shown = await opsB.as("admin", "GET", "/v1/kms-ca");
    assertEquals(shown.status, 200);
    assertEquals(
      [shown.body.version, shown.body.requestedBy, shown.body.approvedBy],
      [1, "admin", null],
    );
    assertEquals(
      shown.body.keyFingerprint,
      publicKeyFingerprint(publicKeyOf(pki.kmsCa.key), core),
    );
    assertEquals(shown.body.subject, parseCertificate(pki.kmsCa.certificate).subjectText);
    assert(!JSON.stringify(shown.body).includes(blocks.ca1), "the key block is never shown");
    assertEquals(
      (await download(b.handler, "KC000001", pki.kmsCa.certificate)).state,
      "delivered",
    );

    await opsA.staff();
    // An operator may not ask; one custodian only asks.
    assertEquals(errorOf(await opsA.as("olga", "POST", "/v1/kms-ca", install(CA2))), [
      403,
      "role_required",
    ]);
    const asked = await opsA.as("carol", "POST", "/v1/kms-ca", install(CA2));
    assertEquals(asked.status, 202);
    assertEquals(asked.body.operation, "installKmsCa");
    const approval = `/v1/approvals/${asked.body.approvalId}/approve`;
    // Held: the CA in force is still version 1 on both instances.
    assertEquals((await opsB.as("carol", "GET", "/v1/kms-ca")).body.version, 1);
    // Its requester cannot approve it, nor can an operator without an approver role.
    const self = await opsA.as("carol", "POST", approval);
    assertEquals(errorOf(self), [403, "same_operator"]);
    assertEquals(errorOf(await opsA.as("olga", "POST", approval)), [403, "role_required"]);
    assertEquals((await opsB.as("dave", "GET", "/v1/kms-ca")).body.version, 1);
    // A second custodian installs it.
    const done = await opsA.as("dave", "POST", approval);
    assertEquals(done.status, 201, JSON.stringify(done.body));
    assertEquals(
      [done.body.version, done.body.requestedBy, done.body.approvedBy],
      [2, "carol", "dave"],
    );
    const fp2 = publicKeyFingerprint(publicKeyOf(ca2.key), core);
    assertEquals(done.body.keyFingerprint, fp2);
    assertEquals(errorOf(await opsA.as("dave", "POST", approval)), [
      409,
      "approval_not_pending",
    ]);

    // The other instance, not restarted, certifies with the new CA.
    assertEquals((await opsB.as("sam", "GET", "/v1/kms-ca")).body.version, 2);
    const r = await download(b.handler, "KC000002", ca2.certificate);
    assertEquals([r.state, r.kmsKcv], ["delivered", r.pinPadKcv]);
    const store = await openStore(db);
    try {
      const t = await store.getTerminal("KC000002");
      const cert = parseCertificate(t!.puHsmCert!);
      assertEquals(cert.issuerText, parseCertificate(ca2.certificate).subjectText);
      // A PIN pad still flashed with the old CA refuses the new CA's certificate.
      await assertRejects(
        () => download(b!.handler, "KC000003", pki.kmsCa.certificate),
        Error,
        "S1: the Pu_hsm certificate is refused",
      );
      // Audited with the fingerprint and both operators.
      const rows = await store.listAudit({ limit: 100, event: "kms_ca_installed" });
      assertEquals(rows.map((x) => [x.kcv, x.outcome]), [
        [publicKeyFingerprint(publicKeyOf(pki.kmsCa.key), core), "success"],
        [fp2, "success"],
      ]);
      assertStringIncludes(rows[0].detail!, "dual control waived");
      assertStringIncludes(rows[1].detail!, "version 2");
      assertStringIncludes(rows[1].detail!, "requested by carol, approved by dave");
      const chain = await store.listAuditChain({ afterId: rows[1].id - 1, limit: 1 });
      assertEquals(chain[0].operator, "carol");
    } finally {
      await store.close();
    }
  } finally {
    await b?.close();
    await a.close();
  }

  // Restarts: the flags must name the CA in force once operators are enrolled.
  const e = await assertRejects(() => kms(db, CA1), ValidationError);
  assertEquals(e.code, "kms_ca_differs");
  assertStringIncludes(e.message, "the KMS CA in force in the database is version 2");
  assertStringIncludes(e.message, "installed");
  assertStringIncludes(e.message, "by carol and dave");
  await (await kms(db, CA2)).close();
}

Deno.test("KMS CA: a bad key block, certificate or clear key is refused; nothing is stored", async () => {
  const { db, drop } = await DATABASES[0].open();
  const app = await kms(db, CA1);
  const store = await openStore(db);
  try {
    const ops = operators(app.handler);
    await ops.staff();
    const before = await store.currentKmsCa();
    // A clear key in the body: refused before it is held for approval, never echoed.
    const pem =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
    const clear = await ops.as("carol", "POST", "/v1/kms-ca", {
      certificate: ca2.certificate,
      keyBlock: pem,
    });
    assertEquals(errorOf(clear), [400, "invalid_field"]);
    assertStringIncludes(clear.body.error!.message, "a private key is never sent in clear");
    assert(!clear.body.error!.message.includes("MIIE"), clear.body.error!.message);
    assertEquals((await store.listApprovals({ limit: 10 })).length, 0, "nothing held");

    const tampered = blocks.ca2.slice(0, -4) + (blocks.ca2.endsWith("0000") ? "1111" : "0000");
    const cases: [string, KmsCa, number, string, string][] = [
      [
        "another CA's key",
        { certificate: ca2.certificate, privateKeyBlock: blocks.ca1 },
        400,
        "invalid_kms_ca",
        "does not hold the private key",
      ],
      [
        "another LMK's block",
        { certificate: ca2.certificate, privateKeyBlock: foreign.ca2 },
        400,
        "invalid_kms_ca",
        "refused by the HSM",
      ],
      [
        "a forged block",
        { certificate: ca2.certificate, privateKeyBlock: tampered },
        400,
        "invalid_kms_ca",
        "refused by the HSM",
      ],
      [
        "not a CA certificate",
        { certificate: leaf.certificate, privateKeyBlock: blocks.leaf },
        400,
        "invalid_kms_ca",
        "is not a CA certificate",
      ],
      [
        "the CA in force",
        CA1,
        409,
        "kms_ca_installed_already",
        "is the KMS CA in force (version 1",
      ],
    ];
    for (const [what, ca, status, code, message] of cases) {
      const asked = await ops.as("carol", "POST", "/v1/kms-ca", install(ca));
      assertEquals(asked.status, 202, what);
      const done = await ops.as("dave", "POST", `/v1/approvals/${asked.body.approvalId}/approve`);
      assertEquals(errorOf(done), [status, code], `${what}: ${JSON.stringify(done.body)}`);
      assertStringIncludes(done.body.error!.message, message, what);
      assert(!done.body.error!.message.includes(ca.privateKeyBlock), "the block is not echoed");
      assertEquals(await store.currentKmsCa(), before, `${what}: nothing stored`);
    }
    const refused = await store.listAudit({ limit: 100, event: "kms_ca_refused" });
    assertEquals(refused.length, cases.length);
    assertMatch(refused[0].detail!, /^invalid_kms_ca: .*requested by carol, approved by dave$/);
  } finally {
    await store.close();
    await app.close();
    await drop();
  }
});

Deno.test("KMS CA: start flags install only while no operator is enrolled; refusals name why", async () => {
  const { db, drop } = await DATABASES[0].open();
  try {
    // An operator enrolled before any CA: the flags may no longer install one.
    const app = await kms(db);
    const ops = operators(app.handler);
    await ops.staff();
    const none = await ops.as("sam", "GET", "/v1/kms-ca");
    assertEquals(errorOf(none), [404, "kms_ca_not_installed"]);
    // Flow B is served, but S1 waits for a KMS CA.
    await assertRejects(
      () => download(app.handler, "KC000009", pki.kmsCa.certificate),
      Error,
      "kms_ca_not_installed",
    );
    await app.close();
    const e = await assertRejects(() => kms(db, CA1), ValidationError);
    assertEquals(e.code, "kms_ca_needs_dual_control");
    assertStringIncludes(e.message, "deno task op kms-ca install");
    // A mismatched pair in the flags is refused before anything is stored.
    const bad = await assertRejects(
      () => kms(db, { certificate: ca2.certificate, privateKeyBlock: blocks.ca1 }),
      ValidationError,
      "does not hold the private key",
    );
    assertEquals(bad.code, "invalid_kms_ca");
    const store = await openStore(db);
    try {
      assertEquals(await store.currentKmsCa(), null);
    } finally {
      await store.close();
    }
  } finally {
    await drop();
  }
});
