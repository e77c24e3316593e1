/**
 * The store's KMS CA versions, written once against the {@link Store}
 * interface and registered by each implementation's test file: install as
 * a compare-and-set on the version in force, self-approval refused (by the
 * front and by the database), the history append-only, two connections
 * (two KMS instances) on one database seeing the same CA.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { type KmsCaInput, type Store, StoreError } from "../../src/store/mod.ts";
import { fakeKeyBlock, type StoreFactory } from "./store_suite.ts";

const T0 = new Date("2026-12-07T12:00:00.000Z");
const CERT_A = "-----BEGIN CERTIFICATE-----\nQUFBQQ==\n-----END CERTIFICATE-----\n";
const CERT_B = "-----BEGIN CERTIFICATE-----\nQkJCQg==\n-----END CERTIFICATE-----\n";

function ca(over: Partial<KmsCaInput> = {}): KmsCaInput {
  return {
    certificate: CERT_A,
    keyBlock: fakeKeyBlock("S0", "R"),
    keyFingerprint: "0123456789ABCDEF",
    installedAt: T0,
    requestedBy: "carol",
    approvedBy: "dave",
    replaces: 0,
    ...over,
  };
}

/**
 * Registers the KMS CA tests for one implementation.
 *
 * @param f how to open the implementation's stores.
 */
export function kmsCaSuite(f: StoreFactory): void {
  const skipped = f.skip !== undefined ? ` (skipped: ${f.skip})` : "";
  const test = (name: string, fn: (s: Store) => Promise<void>) =>
    Deno.test({
      name: `store[${f.name}]: kms ca: ${name}${skipped}`,
      ignore: f.skip !== undefined,
      fn: async () => {
        const s = await f.open();
        try {
          await fn(s);
        } finally {
          await s.close();
        }
      },
    });

  test("versions: none, bootstrap, replaced by two operators; stale replaces refused", async (s) => {
    assertEquals(await s.currentKmsCa(), null);
    const first = ca({ requestedBy: "admin", approvedBy: null });
    const v1 = await s.installKmsCa(first);
    assertEquals(v1, {
      version: 1,
      certificate: CERT_A,
      keyBlock: first.keyBlock,
      keyFingerprint: "0123456789ABCDEF",
      installedAt: T0.toISOString(),
      requestedBy: "admin",
      approvedBy: null,
    });
    assertEquals(await s.currentKmsCa(), v1);
    const stale = await assertRejects(
      () => s.installKmsCa(ca({ certificate: CERT_B, replaces: 0 })),
      StoreError,
      "the KMS CA in force is version 1, not 0",
    );
    assertEquals(stale.code, "conflict");
    const v2 = await s.installKmsCa(ca({ certificate: CERT_B, replaces: 1 }));
    assertEquals([v2.version, v2.requestedBy, v2.approvedBy], [2, "carol", "dave"]);
    assertEquals((await s.currentKmsCa())?.certificate, CERT_B);
  });

  test("bad input: self-approval, a clear key, a bad certificate, nothing stored", async (s) => {
    const before = await s.stateHash();
    const pem =
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const cases: [Partial<KmsCaInput>, string][] = [
      [{ approvedBy: "carol" }, "ca.approvedBy must be another operator than ca.requestedBy"],
      [{ keyBlock: pem }, "ca.keyBlock must be a TR-31 key block"],
      [{ certificate: pem }, "ca.certificate must be one PEM block labelled CERTIFICATE"],
      [{ keyFingerprint: "XYZ" }, "ca.keyFingerprint must be uppercase hex"],
      [{ requestedBy: "" }, "ca.requestedBy must be 1-64 characters"],
      [{ replaces: -1 }, "ca.replaces must be an integer from 0"],
    ];
    for (const [over, msg] of cases) {
      const e = await assertRejects(() => s.installKmsCa(ca(over)), RangeError, msg);
      assert(!e.message.includes("MIIE"), `the clear key is never echoed: ${e.message}`);
    }
    assertEquals(await s.stateHash(), before);
    assertEquals(await s.currentKmsCa(), null);
    // The database itself refuses a row approved by its requester.
    await assertRejects(() =>
      f.rawSql(
        s,
        `INSERT INTO kms_ca (version, certificate, key_block, key_fingerprint, installed_at,
           requested_by, approved_by) VALUES (1, 'c', 'k', 'f', '2026-12-07T12:00:00.000Z',
           'carol', 'carol')`,
      )
    );
    assertEquals(await s.currentKmsCa(), null);
  });

  test("history is append-only in the database", async (s) => {
    const v1 = await s.installKmsCa(ca());
    for (
      const sql of [
        "UPDATE kms_ca SET key_block = 'x'",
        "DELETE FROM kms_ca",
        "DELETE FROM kms_ca WHERE version = 1",
      ]
    ) {
      const e = await assertRejects(() => f.rawSql(s, sql), Error);
      assertStringIncludes(e.message, "append-only", sql);
    }
    assertEquals(await s.currentKmsCa(), v1);
  });

  Deno.test({
    name:
      `store[${f.name}]: kms ca: two connections see one CA; racing installs, one wins${skipped}`,
    ignore: f.skip !== undefined,
    fn: async () => {
      const { a, b, cleanup } = await f.openShared();
      try {
        const installed = await a.installKmsCa(ca());
        assertEquals(await b.currentKmsCa(), installed);
        const race = await Promise.allSettled([
          a.installKmsCa(ca({ certificate: CERT_B, replaces: 1 })),
          b.installKmsCa(ca({ certificate: CERT_B, replaces: 1, requestedBy: "erin" })),
        ]);
        assertEquals(race.filter((r) => r.status === "fulfilled").length, 1);
        const lost = race.find((r) => r.status === "rejected") as PromiseRejectedResult;
        assert(lost.reason instanceof StoreError);
        assertEquals((lost.reason as StoreError).code, "conflict");
        assertEquals((await a.currentKmsCa())?.version, 2);
        assertEquals(await a.currentKmsCa(), await b.currentKmsCa());
      } finally {
        await cleanup();
      }
    },
  });
}
