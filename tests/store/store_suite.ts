/**
 * The repository test suite, written once against the {@link Store}
 * interface: every implementation (SQLite now, PostgreSQL with the
 * scale-out issue) registers it with its own factory.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertFalse,
  assertGreater,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import {
  type ImportedTk,
  type Store,
  StoreError,
  terminalPages,
  tmkDelivery,
  type TmkIssue,
} from "../../src/store/mod.ts";

/** How a store implementation is opened for the suite. */
export interface StoreFactory {
  /** Shown in test names. */
  name: string;
  /** The schema version a fresh store has. */
  expectedVersion: number;
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Two connections to one fresh database, and a cleanup (closes both, removes the database). */
  openShared(): Promise<{ a: Store; b: Store; cleanup: () => Promise<void> }>;
  /** Runs raw SQL on a store's connection (for the append-only checks). */
  rawSql(store: Store, sql: string): Promise<unknown>;
  /** Skip reason when the database is not available (tests then print it and do nothing). */
  skip?: string;
}

const T0 = new Date("2026-11-23T12:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

let counter = 0;
/** A string in TR-31 key block form (the store checks form only, never contents). */
export function fakeKeyBlock(usage = "K0", algorithm = "T"): string {
  const body = (++counter).toString(16).toUpperCase().padStart(8, "0").repeat(12);
  const total = 16 + body.length;
  return `D${String(total).padStart(4, "0")}${usage}${algorithm}B00E0000${body}`;
}

const hash = (n: number) => n.toString(16).toUpperCase().padStart(64, "0");
const sn = (i: number) => `SN${String(i).padStart(7, "0")}`;

function tks(n: number, start = 0): ImportedTk[] {
  return Array.from({ length: n }, (_, i) => ({
    sn: sn(start + i),
    tkBlock: fakeKeyBlock(),
    tkKcv: "ABCDEF",
    tkHash: hash(start + i + 1),
  }));
}

function issue(s: string, when = T0, kcv = "123456"): TmkIssue {
  return {
    sn: s,
    tmkBlock: fakeKeyBlock("K0"),
    tmkUnderTk: fakeKeyBlock("K0"),
    tmkKcv: kcv,
    issuedAt: when,
  };
}

async function rejectsStore(
  fn: () => Promise<unknown>,
  code: string,
  includes?: string,
): Promise<StoreError> {
  const e = await assertRejects(fn, StoreError, includes);
  assertEquals(e.code, code, `StoreError code (message: ${e.message})`);
  return e;
}

/**
 * Registers the whole suite for one implementation.
 *
 * @param f how to open the implementation's stores.
 */
export function storeSuite(f: StoreFactory): void {
  const skipped = f.skip !== undefined ? ` (skipped: ${f.skip})` : "";
  const test = (name: string, fn: (s: Store) => Promise<void>) =>
    Deno.test({
      name: `store[${f.name}]: ${name}${skipped}`,
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
  if (f.skip !== undefined) console.log(`store[${f.name}] tests skipped: ${f.skip}`);

  test("a fresh store is at the latest schema version", async (s) => {
    assertEquals(await s.schemaVersion(), f.expectedVersion);
  });

  test("server keys: the first key block kept under a name stays; bad arguments named", async (s) => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const a = fakeKeyBlock("M3");
    const b = fakeKeyBlock("M3");
    const put = (name: string, keyBlock: string, kcv = "ABCDEF") =>
      s.putServerKey({ name, keyBlock, kcv, createdAt: at });
    assertEquals((await put("flow-a-challenge", a)).keyBlock, a);
    assertEquals((await put("flow-a-challenge", b, "123456")).keyBlock, a, "the first one stays");
    assertEquals((await s.getServerKey("flow-a-challenge"))?.kcv, "ABCDEF");
    assertEquals((await put("other", b)).keyBlock, b);
    assertEquals(await s.getServerKey("none"), null);
    await assertRejects(() => put("", a), RangeError, "name");
    await assertRejects(() => put("x", "not a block"), RangeError, "keyBlock");
  });

  test("server key versions: a chain from version 1, first writer wins, gaps refused", async (s) => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const put = (
      version: number,
      kcv: string,
      previousKcv: string | null,
      keyBlock = fakeKeyBlock(),
    ) =>
      s.putServerKeyVersion({
        name: "PK",
        version,
        keyBlock,
        kcv,
        previousKcv,
        createdAt: at,
        createdBy: "ceremony",
      });
    assertEquals(await s.listServerKeyVersions("PK"), []);
    const v1 = await put(1, "AAAAAA", null);
    assertEquals([v1.version, v1.kcv, v1.previousKcv, v1.createdAt], [
      1,
      "AAAAAA",
      null,
      at.toISOString(),
    ]);
    assertEquals((await put(1, "BBBBBB", null)).kcv, "AAAAAA", "the first version 1 stays");
    const gap = await assertRejects(() => put(3, "CCCCCC", "BBBBBB"), StoreError);
    assertEquals(gap.code, "conflict");
    assertEquals(gap.message, "PK version 3: version 2 is not stored; nothing stored");
    const fork = await assertRejects(() => put(2, "CCCCCC", "999999"), StoreError);
    assertEquals(
      fork.message,
      "PK version 2: version 1 has KCV AAAAAA, not 999999; nothing stored",
    );
    await put(2, "BBBBBB", "AAAAAA");
    assertEquals((await put(2, "DDDDDD", "AAAAAA")).kcv, "BBBBBB", "the first version 2 stays");
    assertEquals(
      (await s.listServerKeyVersions("PK")).map((v) => [v.version, v.kcv, v.previousKcv]),
      [
        [1, "AAAAAA", null],
        [2, "BBBBBB", "AAAAAA"],
      ],
    );
    assertEquals(await s.listServerKeyVersions("MAK"), []);
    await assertRejects(() => s.listServerKeyVersions("TK"), RangeError, "name");
    await assertRejects(() => put(2, "EEEEEE", null), RangeError, "key.previousKcv");
    await assertRejects(() => put(0, "EEEEEE", null), RangeError, "key.version");
  });

  test("transaction commits when fn resolves and rolls back when it rejects", async (s) => {
    const r = await s.transaction(async (tx) => {
      await tx.createOrder({ orderId: "PO-1", state: "collecting", createdAt: T0 });
      return 42;
    });
    assertEquals(r, 42);
    assertEquals((await s.getOrder("PO-1"))?.state, "collecting");

    const boom = new Error("boom");
    const e = await assertRejects(() =>
      s.transaction(async (tx) => {
        await tx.createOrder({
          orderId: "PO-2",
          state: "collecting",
          createdAt: T0,
          serialNumbers: ["SNX00001"],
        });
        await tx.appendAudit({ at: T0, actor: "t", event: "tk_collected", outcome: "success" });
        await tx.setOrderState("PO-1", "collecting", "transferred");
        throw boom;
      })
    );
    assert(e === boom, "the transaction rethrows fn's own error");
    assertEquals(await s.getOrder("PO-2"), null);
    assertEquals(await s.getCollectedTk("SNX00001"), null);
    assertEquals((await s.getOrder("PO-1"))?.state, "collecting");
    assertEquals(await s.listAudit({ limit: 10 }), []);
  });

  test("nested transactions are savepoints; an ended tx is refused", async (s) => {
    let saved: Store | undefined;
    await s.transaction(async (tx) => {
      saved = tx;
      await tx.createOrder({ orderId: "PO-OUT", state: "imported", createdAt: T0 });
      await assertRejects(
        () =>
          tx.transaction(async (inner) => {
            await inner.createOrder({ orderId: "PO-IN", state: "imported", createdAt: T0 });
            throw new Error("inner fails");
          }),
        Error,
        "inner fails",
      );
      assertEquals(await tx.getOrder("PO-IN"), null);
    });
    assertEquals((await s.getOrder("PO-OUT"))?.orderId, "PO-OUT");
    await rejectsStore(() => saved!.getOrder("PO-OUT"), "closed", "transaction has ended");
  });

  test("a failing multi-row write leaves nothing behind", async (s) => {
    await s.createOrder({
      orderId: "PO-A",
      state: "collecting",
      createdAt: T0,
      serialNumbers: ["SN0000A1"],
    });
    await rejectsStore(
      () =>
        s.createOrder({
          orderId: "PO-B",
          state: "collecting",
          createdAt: T0,
          serialNumbers: ["SN0000B1", "SN0000A1"],
        }),
      "duplicate",
      "serial number SN0000A1 is already in order PO-A",
    );
    assertEquals(await s.getOrder("PO-B"), null);
    assertEquals(await s.getCollectedTk("SN0000B1"), null);
    await rejectsStore(
      () => s.createOrder({ orderId: "PO-A", state: "collecting", createdAt: T0 }),
      "duplicate",
      "order PO-A already exists",
    );
  });

  test("MTMS collection: once per SN, same TK again is idempotent, closed after transfer", async (s) => {
    const o = await s.createOrder({
      orderId: "PO-7",
      state: "collecting",
      createdAt: T0,
      serialNumbers: [sn(1), sn(2), sn(3)],
    });
    assertEquals(o, {
      orderId: "PO-7",
      state: "collecting",
      createdAt: T0.toISOString(),
      terminals: 3,
    });
    const up = {
      orderId: "PO-7",
      sn: sn(1),
      tkBlock: fakeKeyBlock(),
      tkKcv: "0A0B0C",
      tkHash: hash(1),
      mac: "0011223344556677",
      uploadedAt: at(1),
    };
    assertEquals(await s.putCollectedTk(up), "stored");
    assertEquals(await s.putCollectedTk({ ...up, tkBlock: fakeKeyBlock() }), "same");
    await rejectsStore(
      () => s.putCollectedTk({ ...up, tkHash: hash(99) }),
      "conflict",
      `a different TK is already stored for ${sn(1)}`,
    );
    await rejectsStore(
      () => s.putCollectedTk({ ...up, sn: sn(9) }),
      "not_found",
      `serial number ${sn(9)} is not in order PO-7`,
    );
    await rejectsStore(
      () => s.putCollectedTk({ ...up, orderId: "PO-8" }),
      "not_found",
      `serial number ${sn(1)} is not in order PO-8`,
    );
    assertEquals(await s.putCollectedTk({ ...up, sn: sn(3), tkHash: hash(3) }), "stored");
    assertEquals(await s.countCollected("PO-7"), { terminals: 3, collected: 2 });
    const got = await s.getCollectedTk(sn(1));
    assertEquals(got?.tkBlock, up.tkBlock);
    assertEquals(got?.mac, "0011223344556677");
    assertEquals(got?.uploadedAt, at(1).toISOString());
    assertEquals(
      (await s.listCollectedTks("PO-7", { limit: 1 })).map((t) => t.sn),
      [sn(1)],
    );
    assertEquals(
      (await s.listCollectedTks("PO-7", { after: sn(1), limit: 10 })).map((t) => t.sn),
      [sn(3)],
    );
    assertEquals(await s.setOrderState("PO-7", "collecting", "transferred"), true);
    assertEquals(await s.setOrderState("PO-7", "collecting", "transferred"), false);
    await rejectsStore(
      () => s.putCollectedTk({ ...up, sn: sn(2), tkHash: hash(2) }),
      "conflict",
      "order PO-7 is transferred: it no longer accepts TKs",
    );
    await rejectsStore(() => s.setOrderState("PO-X", "collecting", "transferred"), "not_found");
    await rejectsStore(() => s.countCollected("PO-X"), "not_found", "order PO-X does not exist");
  });

  test("one TK per terminal, enforced by unique indexes: a held TK is refused for another SN", async (s) => {
    // The services check first; these calls skip the checks, as two racing requests would.
    await s.createOrder({
      orderId: "PO-U",
      state: "collecting",
      createdAt: T0,
      serialNumbers: [sn(91), sn(92)],
    });
    const up = {
      orderId: "PO-U",
      sn: sn(91),
      tkBlock: fakeKeyBlock(),
      tkKcv: "0A0B0C",
      tkHash: hash(9100),
      uploadedAt: at(1),
    };
    assertEquals(await s.putCollectedTk(up), "stored");
    const e = await rejectsStore(
      () => s.putCollectedTk({ ...up, sn: sn(92), tkBlock: fakeKeyBlock() }),
      "tk_reused",
      "one TK per terminal",
    );
    assertFalse(e.message.includes(hash(9100)), "the TK's hash is not in the message");
    assertEquals((await s.getCollectedTk(sn(92)))?.tkBlock, null);
    assertEquals(await s.countCollected("PO-U"), { terminals: 2, collected: 1 });
    // KMS: a batch giving a held TK to a new SN is refused whole: no order, no terminal.
    const first = tks(2, 93);
    await s.importTkBatch({ orderId: "PO-U1", bodyHash: hash(1), receivedAt: T0, tks: first });
    const second = [...tks(2, 95), { ...first[1], sn: sn(97), tkBlock: fakeKeyBlock() }];
    for (
      const batch of [
        second,
        (async function* () {
          yield* second;
        })(),
      ]
    ) {
      await rejectsStore(
        () => s.importTkBatch({ orderId: "PO-U2", bodyHash: hash(2), receivedAt: T0, tks: batch }),
        "tk_reused",
        "one TK per terminal",
      );
      assertEquals(await s.getTkBatch("PO-U2"), null);
      for (const t of second) assertEquals(await s.getTerminal(t.sn), null);
    }
    assertEquals((await s.getTerminal(first[1].sn))?.tkKcv, first[1].tkKcv);
  });

  test("one TK per terminal: TK hashes found among collected TKs, terminals and an upload's staged TKs", async (s) => {
    await s.createOrder({
      orderId: "PO-H",
      state: "collecting",
      createdAt: T0,
      serialNumbers: [sn(51), sn(52)],
    });
    const up = {
      orderId: "PO-H",
      sn: sn(51),
      tkBlock: fakeKeyBlock(),
      tkKcv: "0A0B0C",
      tkHash: hash(5100),
      mac: "0011223344556677",
      uploadedAt: at(1),
    };
    assertEquals(await s.collectedTkHolders(hash(5100)), []);
    assertEquals(await s.putCollectedTk(up), "stored");
    assertEquals(await s.collectedTkHolders(hash(5100)), [sn(51)]);
    assertEquals(await s.collectedTkHolders(hash(5101)), []);
    await assertRejects(() => s.collectedTkHolders("ab"), RangeError, "tkHash");
    // KMS: a terminal's TK, and a TK staged by this upload (not by another one).
    await s.importTkBatch({ orderId: "PO-HK", bodyHash: hash(1), receivedAt: T0, tks: tks(2, 60) });
    await s.stageTks("up-h", 0, tks(1, 70), T0);
    await s.stageTks("up-other", 0, tks(1, 80), T0);
    const found = await s.knownTkHashes("up-h", [hash(61), hash(71), hash(81), hash(999)]);
    assertEquals(
      found.sort((a, b) => a.sn.localeCompare(b.sn)),
      [
        { tkHash: hash(61), sn: sn(60), staged: false },
        { tkHash: hash(71), sn: sn(70), staged: true },
      ],
    );
    assertEquals(await s.knownTkHashes("up-h", []), []);
    await assertRejects(() => s.knownTkHashes("up-h", ["00"]), RangeError, "tkHashes[0]");
    await assertRejects(
      () => s.knownTkHashes("up-h", Array.from({ length: 1001 }, (_, i) => hash(i))),
      RangeError,
      "at most 1000",
    );
  });

  test("KMS staging: staged TKs in order, a duplicate SN named, dropped, purged when idle; never terminals", async (s) => {
    const before = await s.stateHash();
    const batch = tks(7, 200);
    assertEquals(await s.stageTks("up-1", 0, batch.slice(0, 4), T0), -1);
    assertEquals(await s.stageTks("up-1", 4, batch.slice(4), at(1)), -1);
    // Another upload may stage the same SNs (another request for the same order).
    assertEquals(await s.stageTks("up-2", 0, batch.slice(0, 2), at(2)), -1);
    const page1 = await s.listStagedTks("up-1", { after: -1, limit: 5 });
    assertEquals(page1.map((t) => t.seq), [0, 1, 2, 3, 4]);
    assertEquals(page1.map(({ seq: _, ...t }) => t), batch.slice(0, 5));
    const page2 = await s.listStagedTks("up-1", { after: 4, limit: 5 });
    assertEquals(page2.map(({ seq: _, ...t }) => t), batch.slice(5));
    assertEquals(await s.getTerminal(batch[0].sn), null, "a staged TK is no terminal");
    // A duplicate SN within the upload: its index in the chunk.
    assertEquals(await s.stageTks("up-1", 7, [...tks(2, 300), batch[3]], at(3)), 2);
    await assertRejects(() => s.stageTks("up 1", 0, batch, T0), RangeError, "uploadId");
    // Purge by idle time: up-1 staged last at 3 s, up-2 at 2 s.
    assertEquals(await s.purgeStaged(at(2)), 0);
    assertEquals(await s.purgeStaged(at(2.5)), 2);
    assertEquals(await s.listStagedTks("up-2", { after: -1, limit: 10 }), []);
    assertEquals((await s.listStagedTks("up-1", { after: -1, limit: 100 })).length, 9);
    assertEquals(await s.dropStaged("up-1"), 9);
    assertEquals(await s.dropStaged("up-1"), 0);
    assertEquals(await s.stateHash(), before, "nothing left");
  });

  test("KMS staging: staged TKs become terminals in one transaction with the batch, or not at all", async (s) => {
    const batch = tks(5, 400);
    await s.stageTks("up-m", 0, batch, T0);
    const move = (orderId: string) =>
      s.transaction(async (tx) => {
        const r = await tx.importTkBatch({
          orderId,
          bodyHash: hash(0xee),
          receivedAt: T0,
          tks: (async function* () {
            let after = -1;
            while (true) {
              const page = await tx.listStagedTks("up-m", { after, limit: 2 });
              for (const { seq: _, ...t } of page) yield t;
              if (page.length < 2) return;
              after = page[page.length - 1].seq;
            }
          })(),
          auditActor: "kms",
        });
        await tx.dropStaged("up-m");
        return r;
      });
    // A terminal already known: the move fails, staging and terminals stay as they were.
    await s.importTkBatch({ orderId: "PO-S0", bodyHash: hash(1), receivedAt: T0, tks: [batch[4]] });
    const before = await s.stateHash();
    await rejectsStore(() => move("PO-S1"), "conflict", `serial number ${batch[4].sn}`);
    assertEquals(await s.stateHash(), before);
    assertEquals((await s.listStagedTks("up-m", { after: -1, limit: 10 })).length, 5);
    // Without the conflict: all five move, with their audit records, and staging is empty.
    await s.dropStaged("up-m");
    await s.stageTks("up-m", 0, batch.slice(0, 4), T0);
    assertEquals(await move("PO-S2"), { duplicate: false, tks: 4 });
    assertEquals(await s.listStagedTks("up-m", { after: -1, limit: 10 }), []);
    assertEquals((await s.getTerminal(batch[3].sn))?.tkBlock, batch[3].tkBlock);
    assertEquals((await s.listAudit({ limit: 100, event: "tk_imported" })).length, 4);
  });

  test("KMS batch import: all or nothing, idempotent on the body hash", async (s) => {
    const batch = tks(5);
    const r = await s.importTkBatch({
      orderId: "PO-K",
      bodyHash: hash(0xaa),
      receivedAt: T0,
      tks: batch,
    });
    assertEquals(r, { duplicate: false, tks: 5 });
    assertEquals((await s.getOrder("PO-K"))?.terminals, 5);
    assertEquals((await s.getOrder("PO-K"))?.state, "imported");
    assertEquals(await s.getTkBatch("PO-K"), {
      orderId: "PO-K",
      bodyHash: hash(0xaa),
      tks: 5,
      receivedAt: T0.toISOString(),
    });
    let consumed = false;
    const again = await s.importTkBatch({
      orderId: "PO-K",
      bodyHash: hash(0xaa),
      receivedAt: at(5),
      tks: (function* () {
        consumed = true;
        yield* batch;
      })(),
    });
    assertEquals(again, { duplicate: true, tks: 5 });
    assertFalse(consumed, "a duplicate batch is not read");
    await rejectsStore(
      () => s.importTkBatch({ orderId: "PO-K", bodyHash: hash(0xbb), receivedAt: T0, tks: batch }),
      "conflict",
      "order PO-K already has a different TK batch",
    );
    const t = await s.getTerminal(sn(2));
    assertEquals(t?.state, "tk_received");
    assertEquals(t?.tkBlock, batch[2].tkBlock);
    assertEquals(t?.tkHash, batch[2].tkHash);
    assertEquals(t?.orderId, "PO-K");
    assertEquals(t?.tmkBlock, null);

    // An SN already known: nothing of the second order is stored.
    await rejectsStore(
      () =>
        s.importTkBatch({
          orderId: "PO-L",
          bodyHash: hash(0xcc),
          receivedAt: T0,
          tks: [...tks(3, 100), ...tks(1, 4)],
        }),
      "conflict",
      `serial number ${sn(4)} is already known to KMS`,
    );
    assertEquals(await s.getOrder("PO-L"), null);
    assertEquals(await s.getTkBatch("PO-L"), null);
    assertEquals(await s.getTerminal(sn(100)), null);

    // A bad entry found half-way through an async stream: nothing stored.
    await assertRejects(
      () =>
        s.importTkBatch({
          orderId: "PO-M",
          bodyHash: hash(0xdd),
          receivedAt: T0,
          tks: (async function* () {
            yield* tks(2, 200);
            yield { ...tks(1, 202)[0], tkBlock: "00112233445566778899AABBCCDDEEFF" };
          })(),
        }),
      RangeError,
      "tks[2].tkBlock must be a TR-31 key block",
    );
    assertEquals(await s.getOrder("PO-M"), null);
    assertEquals(await s.getTerminal(sn(200)), null);

    await assertRejects(
      () => s.importTkBatch({ orderId: "PO-N", bodyHash: hash(1), receivedAt: T0, tks: [] }),
      RangeError,
      "batch.tks must hold at least one TK, got none",
    );
    assertEquals(await s.getOrder("PO-N"), null);
  });

  test("per-key audit records: one per TK imported and per TMK issued, in the same transaction", async (s) => {
    // Import: one tk_imported record per TK, in the batch's order, with its KCV.
    const batch = tks(4, 300).map((t, i) => ({ ...t, tkKcv: `A0000${i}` }));
    await s.importTkBatch({
      orderId: "PO-AU",
      bodyHash: hash(0x51),
      receivedAt: at(1),
      tks: batch,
      auditActor: "kms",
    });
    const imported = await s.listAudit({ limit: 100, event: "tk_imported" });
    assertEquals(
      imported.map((r) => [r.at, r.actor, r.subject, r.keyId, r.kcv, r.outcome, r.detail]),
      batch.map((t) => [at(1).toISOString(), "kms", t.sn, "TK", t.tkKcv, "success", null]),
    );
    // The same batch again: a duplicate stores nothing and records no key.
    await s.importTkBatch({
      orderId: "PO-AU",
      bodyHash: hash(0x51),
      receivedAt: at(2),
      tks: batch,
      auditActor: "kms",
    });
    // A refused batch (one SN known): neither its TKs nor their records.
    await rejectsStore(
      () =>
        s.importTkBatch({
          orderId: "PO-AV",
          bodyHash: hash(0x52),
          receivedAt: at(3),
          tks: [...tks(2, 310), batch[0]],
          auditActor: "kms",
        }),
      "conflict",
    );
    assertEquals((await s.listAudit({ limit: 100, event: "tk_imported" })).length, 4);
    // Without an actor, no records (the caller audits itself).
    await s.importTkBatch({
      orderId: "PO-AW",
      bodyHash: hash(0x53),
      receivedAt: T0,
      tks: tks(1, 320),
    });
    assertEquals((await s.listAudit({ limit: 100, event: "tk_imported" })).length, 4);

    // Issuance: one tmk_issued per TMK this call stored; none for one already issued or unknown.
    assertEquals(await s.issueTmk(issue(sn(300), at(4), "B00000")), true);
    const page = [
      issue(sn(300), at(5), "B00001"),
      issue(sn(301), at(5), "B00002"),
      issue(sn(302), at(6), "B00003"),
      issue("SNUNKNOWN", at(6), "B00004"),
    ];
    assertEquals(await s.issueTmks(page, { auditActor: "kms-2" }), 2);
    const issued = await s.listAudit({ limit: 100, event: "tmk_issued" });
    assertEquals(
      issued.map((r) => [r.at, r.actor, r.subject, r.keyId, r.kcv, r.outcome]),
      [
        [at(5).toISOString(), "kms-2", sn(301), "TMK", "B00002", "success"],
        [at(6).toISOString(), "kms-2", sn(302), "TMK", "B00003", "success"],
      ],
    );
    // Rolled back with the transaction around it: the TMK and its record both go.
    await assertRejects(
      () =>
        s.transaction(async (tx) => {
          assertEquals(await tx.issueTmks([issue(sn(303), at(7))], { auditActor: "kms" }), 1);
          throw new Error("boom");
        }),
      Error,
      "boom",
    );
    assertEquals((await s.getTerminal(sn(303)))?.tmkBlock, null);
    assertEquals((await s.listAudit({ limit: 100, event: "tmk_issued" })).length, 2);
    // A bad entry: the page is refused before anything is written.
    await assertRejects(
      () =>
        s.issueTmks([issue(sn(303)), { ...issue(sn(320)), tmkKcv: "x" }], { auditActor: "kms" }),
      RangeError,
      "issues[1].tmkKcv",
    );
    await assertRejects(
      () => s.issueTmks([issue(sn(303))], { auditActor: "" }),
      RangeError,
      "options.auditActor must be 1 to 200 characters, got 0",
    );
    await assertRejects(
      () =>
        s.importTkBatch({
          orderId: "PO-AX",
          bodyHash: hash(0x54),
          receivedAt: T0,
          tks: tks(1, 330),
          auditActor: 7 as unknown as string,
        }),
      TypeError,
      "batch.auditActor",
    );
    assertEquals((await s.getTerminal(sn(303)))?.tmkBlock, null);
    assertEquals((await s.listAudit({ limit: 100, event: "tmk_issued" })).length, 2);
    assertEquals(await s.getOrder("PO-AX"), null);
  });

  test("paging streams an order by SN with flat pages, filters track issuance", async (s) => {
    const n = 2345;
    await s.importTkBatch({ orderId: "PO-P", bodyHash: hash(7), receivedAt: T0, tks: tks(n) });
    const seen: string[] = [];
    let pages = 0;
    for await (const page of terminalPages(s, "PO-P", { pageSize: 500 })) {
      pages++;
      assert(page.length <= 500);
      for (const t of page) seen.push(t.sn);
    }
    assertEquals(pages, 5);
    assertEquals(seen, Array.from({ length: n }, (_, i) => sn(i)));

    // What bulk issuance reads: the same terminals as "without_tmk", three columns.
    const full = await s.listTerminals("PO-P", {
      after: sn(100),
      limit: 700,
      filter: "without_tmk",
    });
    assertEquals(
      await s.listTksToIssue("PO-P", { after: sn(100), limit: 700 }),
      full.map((t) => ({ sn: t.sn, tkBlock: t.tkBlock, tkHash: t.tkHash })),
    );
    assertEquals(full.length, 700);
    assertEquals(full[0].sn, sn(101));
    await s.issueTmks(full.slice(0, 5).map((t) => issue(t.sn)));
    assertEquals(
      (await s.listTksToIssue("PO-P", { after: sn(100), limit: 2 })).map((t) => t.sn),
      [sn(106), sn(107)],
    );
    assertEquals(await s.listTksToIssue("PO-Q", { limit: 2 }), []);
    await assertRejects(() => s.listTksToIssue("PO-P", { limit: 0 }), RangeError, "page.limit");

    // Issue while iterating "without_tmk": every terminal exactly once.
    let issued = 0;
    for await (const page of terminalPages(s, "PO-P", { pageSize: 1000, filter: "without_tmk" })) {
      issued += await s.issueTmks(page.map((t) => issue(t.sn)));
    }
    assertEquals(issued, n - 5);
    assertEquals(await s.countTerminals("PO-P"), { terminals: n, withTmk: n, delivered: 0 });
    assertEquals((await s.listTerminals("PO-P", { limit: 10, filter: "without_tmk" })).length, 0);
    assertEquals((await s.listTerminals("PO-P", { limit: 10, filter: "with_tmk" })).length, 10);
  });

  test("one TMK per terminal: a second issue is refused, unknown SN is not_found", async (s) => {
    await s.importTkBatch({ orderId: "PO-T", bodyHash: hash(8), receivedAt: T0, tks: tks(3) });
    const first = issue(sn(0));
    assertEquals(await s.issueTmk(first), true);
    assertEquals(await s.issueTmk(issue(sn(0))), false);
    const t = await s.getTerminal(sn(0));
    assertEquals(t?.tmkBlock, first.tmkBlock);
    assertEquals(t?.tmkUnderTk, first.tmkUnderTk);
    assertEquals(t?.state, "tmk_issued");
    assertEquals(t?.tmkIssuedAt, T0.toISOString());
    await rejectsStore(() => s.issueTmk(issue("SNUNKNOWN")), "not_found");
    assertEquals(await s.issueTmks([issue(sn(0)), issue(sn(1)), issue("SNUNKNOWN")]), 1);
  });

  Deno.test({
    name:
      `store[${f.name}]: one TMK per terminal under concurrent issuers on two connections${skipped}`,
    ignore: f.skip !== undefined,
    fn: async () => {
      const { a, b, cleanup } = await f.openShared();
      try {
        const n = 300;
        await a.importTkBatch({ orderId: "PO-C", bodyHash: hash(9), receivedAt: T0, tks: tks(n) });
        // A walks the order forwards, B backwards: they meet and overlap in the middle.
        const issuer = async (s: Store, tag: string, backwards: boolean) => {
          let mine = 0;
          const mark: Record<string, string> = {};
          const pages: { sn: string }[][] = [];
          for await (const page of terminalPages(s, "PO-C", { pageSize: 30 })) pages.push(page);
          if (backwards) pages.reverse();
          for (const page of pages) {
            const rows = page.map((t) => {
              const r = issue(t.sn, T0, tag);
              mark[t.sn] = r.tmkBlock;
              return r;
            });
            mine += await s.issueTmks(rows, { auditActor: `kms-${tag}` });
            await new Promise((r) => setTimeout(r, 0));
          }
          return { mine, mark };
        };
        const [ra, rb] = await Promise.all([
          issuer(a, "AAAAAA", false),
          issuer(b, "BBBBBB", true),
        ]);
        assertEquals(ra.mine + rb.mine, n, "every terminal issued exactly once");
        assert(ra.mine > 0 && rb.mine > 0, `both issuers won some (${ra.mine}, ${rb.mine})`);
        let fromA = 0;
        for await (const page of terminalPages(b, "PO-C")) {
          for (const t of page) {
            const owner = t.tmkKcv === "AAAAAA" ? ra : rb;
            assertEquals(t.tmkBlock, owner.mark[t.sn], `${t.sn} keeps the winner's TMK`);
            if (t.tmkKcv === "AAAAAA") fromA++;
          }
        }
        assertEquals(fromA, ra.mine);
        // One audit record per TMK stored, by its winner, with its KCV; none for the losers.
        const audit = [];
        for (let afterId = 0;;) {
          const rows = await b.listAudit({ afterId, limit: 1000, event: "tmk_issued" });
          if (rows.length === 0) break;
          audit.push(...rows);
          afterId = rows[rows.length - 1].id;
        }
        assertEquals(audit.length, n);
        assertEquals(new Set(audit.map((r) => r.subject)).size, n);
        for (const r of audit) assertEquals(r.actor, `kms-${r.kcv}`, `${r.subject}`);

        // Many single issues of one SN at once on both connections: one wins.
        await a.registerTerminal("SNRACE01", T0);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).issueTmk(issue("SNRACE01"))),
        );
        assertEquals(results.filter((x) => x).length, 1);
      } finally {
        await cleanup();
      }
    },
  });

  test("download and acknowledgement: sent before delivered, KCV must match, once", async (s) => {
    await s.importTkBatch({ orderId: "PO-D", bodyHash: hash(10), receivedAt: T0, tks: tks(2) });
    assertFalse(await s.markTmkSent(sn(0), at(1)), "no TMK yet");
    await s.issueTmk(issue(sn(0), T0, "C0FFEE"));
    assertFalse(await s.markDelivered(sn(0), "C0FFEE", at(2)), "not sent yet");
    assert(await s.markTmkSent(sn(0), at(3)));
    assert(await s.markTmkSent(sn(0), at(4)), "a re-download before the ack is allowed");
    assertFalse(await s.markDelivered(sn(0), "BADBAD", at(5)), "wrong KCV");
    assert(await s.markDelivered(sn(0), "C0FFEE", at(6)));
    assertFalse(await s.markDelivered(sn(0), "C0FFEE", at(7)), "second ack");
    assertFalse(await s.markTmkSent(sn(0), at(8)), "no download after delivery");
    const t = await s.getTerminal(sn(0));
    assertEquals(t?.state, "delivered");
    assertEquals(t?.deliveredAt, at(6).toISOString());
    assertEquals(t?.tmkSentAt, at(4).toISOString());
    assertEquals(await s.countTerminals("PO-D"), { terminals: 2, withTmk: 1, delivered: 1 });
  });

  test("delivery state: one answer for both flows, from the rows the updates change", async (s) => {
    const delivery = async (id: string) => {
      const t = await s.getTerminal(id);
      assert(t, `terminal ${id}`);
      return tmkDelivery(t);
    };
    await s.importTkBatch({ orderId: "PO-S", bodyHash: hash(11), receivedAt: T0, tks: tks(1) });
    assertEquals(await delivery(sn(0)), "none");
    await s.issueTmk(issue(sn(0), T0, "C0FFEE"));
    assertEquals(await delivery(sn(0)), "issued");
    await s.markTmkSent(sn(0), at(1));
    assertEquals(await delivery(sn(0)), "sent");
    assertFalse(await s.markDelivered(sn(0), "BADBAD", at(2)));
    assertEquals(await delivery(sn(0)), "sent", "a wrong KCV delivers nothing");
    await s.markDelivered(sn(0), "C0FFEE", at(3));
    assertEquals(await delivery(sn(0)), "delivered");
    assertFalse(await s.markTmkSent(sn(0), at(4)));
    assertEquals(await delivery(sn(0)), "delivered", "final");

    assert(await s.registerTerminal("SNB00009", T0));
    assertEquals(await delivery("SNB00009"), "none");
    await s.issueTmk({ ...issue("SNB00009", at(1), "ABCDEF"), tmkUnderTk: null });
    assertEquals(await delivery("SNB00009"), "issued");
    await s.markTmkSent("SNB00009", at(2));
    assertEquals(await delivery("SNB00009"), "sent");
    await s.markDelivered("SNB00009", "ABCDEF", at(3));
    assertEquals(await delivery("SNB00009"), "delivered");
  });

  test("flow B: HSM key once (or rotate), transport key once after it", async (s) => {
    assert(await s.registerTerminal("SNB00001", T0));
    assertFalse(await s.registerTerminal("SNB00001", at(1)));
    assertEquals((await s.getTerminal("SNB00001"))?.state, "registered");
    const tkIn = {
      aukBlock: fakeKeyBlock("K1"),
      puTek: "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
      tkHash: hash(5),
      tkKcv: "A1B2C3",
      at: at(2),
    };
    assertFalse(await s.setTransportKey("SNB00001", tkIn), "no HSM key yet");
    const key = {
      puHsmCert: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----",
      prHsmBlock: fakeKeyBlock("K1", "R"),
      at: at(1),
    };
    assert(await s.setHsmKey("SNB00001", key));
    assertFalse(await s.setHsmKey("SNB00001", { ...key, prHsmBlock: fakeKeyBlock("K1", "R") }));
    assert(await s.setTransportKey("SNB00001", tkIn));
    assertFalse(await s.setTransportKey("SNB00001", { ...tkIn, aukBlock: fakeKeyBlock("K1") }));
    let t = await s.getTerminal("SNB00001");
    assertEquals(t?.state, "tk_received");
    assertEquals(t?.aukBlock, tkIn.aukBlock);
    assertEquals(t?.prHsmBlock, key.prHsmBlock);
    assertEquals(t?.puTek, tkIn.puTek);
    const rotated = { ...key, prHsmBlock: fakeKeyBlock("K1", "R"), replace: true };
    assert(await s.setHsmKey("SNB00001", rotated));
    t = await s.getTerminal("SNB00001");
    assertEquals(t?.state, "hsm_key_issued");
    assertEquals(t?.prHsmBlock, rotated.prHsmBlock);
    assertEquals(t?.aukBlock, null, "rotation drops the old transport key");
    await rejectsStore(() => s.setHsmKey("SNNOPE01", key), "not_found");
    await rejectsStore(() => s.setTransportKey("SNNOPE01", tkIn), "not_found");
    await s.importTkBatch({
      orderId: "PO-FA",
      bodyHash: hash(11),
      receivedAt: T0,
      tks: tks(1, 50),
    });
    assertFalse(await s.setHsmKey(sn(50), key), "a flow A terminal takes no flow B key");
  });

  test("flow B: failures lock at the limit once, success opens one session, unlock", async (s) => {
    await s.registerTerminal("SNL00001", T0);
    const fail = () => s.recordAuthFailure("SNL00001", { maxFailures: 3, at: at(1) });
    assertEquals(await fail(), { failures: 1, locked: false, lockedNow: false });
    assert(
      await s.recordAuthSuccess("SNL00001", { sessionExpiresAt: at(60), at: at(2) }),
    );
    assertEquals((await s.getTerminal("SNL00001"))?.authFailures, 0);
    assert(await s.consumeSession("SNL00001", at(10)));
    assertFalse(await s.consumeSession("SNL00001", at(11)), "a session is used once");
    await s.recordAuthSuccess("SNL00001", { sessionExpiresAt: at(60), at: at(2) });
    assertFalse(await s.consumeSession("SNL00001", at(61)), "expired session");
    assertEquals(await fail(), { failures: 1, locked: false, lockedNow: false });
    assertEquals(await fail(), { failures: 2, locked: false, lockedNow: false });
    assertEquals(await fail(), { failures: 3, locked: true, lockedNow: true });
    assertEquals(await fail(), { failures: 4, locked: true, lockedNow: false });
    assertFalse(
      await s.recordAuthSuccess("SNL00001", { sessionExpiresAt: at(60), at: at(3) }),
      "a locked SN cannot pass",
    );
    assertEquals((await s.getTerminal("SNL00001"))?.lockedAt, at(1).toISOString());
    assert(await s.unlockTerminal("SNL00001", at(4)));
    assertFalse(await s.unlockTerminal("SNL00001", at(5)));
    const t = await s.getTerminal("SNL00001");
    assertEquals([t?.lockedAt, t?.authFailures], [null, 0]);
    await rejectsStore(
      () => s.recordAuthFailure("SNNOPE01", { maxFailures: 3, at: T0 }),
      "not_found",
    );
  });

  test("state counts: orders and terminals by state, every state listed, lock-outs", async (s) => {
    const zero = await s.countByState();
    assertEquals(zero.orders, { collecting: 0, transferred: 0, imported: 0 });
    assertEquals(Object.values(zero.terminals).reduce((a, b) => a + b, 0), 0);
    assertEquals(Object.keys(zero.terminals).length, 6);
    assertEquals(zero.lockedTerminals, 0);
    await s.createOrder({ orderId: "PO-C1", state: "collecting", createdAt: T0 });
    await s.importTkBatch({ orderId: "PO-C2", bodyHash: hash(21), receivedAt: T0, tks: tks(3) });
    await s.issueTmk(issue(sn(0)));
    await s.issueTmk(issue(sn(1)));
    assert(await s.markTmkSent(sn(1), T0));
    await s.registerTerminal("SNC00001", T0);
    await s.recordAuthFailure("SNC00001", { maxFailures: 1, at: at(1) });
    const c = await s.countByState();
    assertEquals(c.orders, { collecting: 1, transferred: 0, imported: 1 });
    assertEquals(c.terminals, {
      registered: 1,
      hsm_key_issued: 0,
      tk_received: 1,
      tmk_issued: 1,
      tmk_sent: 1,
      delivered: 0,
    });
    assertEquals(c.lockedTerminals, 1);
  });

  test("flow B: a session keeps its context; a failure does not close it", async (s) => {
    await s.registerTerminal("SNS00001", T0);
    const context = "AB".repeat(16) + "01".repeat(8) + "02".repeat(8);
    await s.createChallenge({
      id: "AB".repeat(16),
      sn: "SNS00001",
      rnd: "02".repeat(8),
      rnd1: "01".repeat(8),
      createdAt: T0,
      expiresAt: at(30),
    });
    const r = await s.consumeChallenge("AB".repeat(16), "SNS00001", at(1));
    assert(r.ok);
    assertEquals([r.challenge.rnd, r.challenge.rnd1], ["02".repeat(8), "01".repeat(8)]);
    assert(
      await s.recordAuthSuccess("SNS00001", {
        sessionExpiresAt: at(60),
        at: at(2),
        sessionContext: context,
      }),
    );
    const before = await s.getTerminal("SNS00001");
    assertEquals([before?.sessionContext, before?.sessionExpiresAt], [
      context,
      at(60).toISOString(),
    ]);
    assertEquals(
      await s.recordAuthFailure("SNS00001", { maxFailures: 3, at: at(3) }),
      { failures: 1, locked: false, lockedNow: false },
    );
    const after = await s.getTerminal("SNS00001");
    assertEquals(
      [after?.sessionContext, after?.sessionExpiresAt],
      [context, at(60).toISOString()],
      "a failure never cancels the open session",
    );
    assert(await s.consumeSession("SNS00001", at(4)));
    assertEquals(
      (await s.getTerminal("SNS00001"))?.sessionContext,
      context,
      "the context outlives the download, for the acknowledgement's MAC",
    );
    await assertRejects(
      () =>
        s.recordAuthSuccess("SNS00001", {
          sessionExpiresAt: at(60),
          at: at(5),
          sessionContext: "XYZ",
        }),
      RangeError,
      "options.sessionContext must be uppercase hex",
    );
  });

  test("challenges are single use, for their SN, before expiry", async (s) => {
    await s.registerTerminal("SNC00001", T0);
    await s.registerTerminal("SNC00002", T0);
    const c = {
      id: "ch-1",
      sn: "SNC00001",
      rnd: "0123456789ABCDEF",
      createdAt: T0,
      expiresAt: at(30),
    };
    await s.createChallenge(c);
    await rejectsStore(() => s.createChallenge(c), "duplicate", "challenge ch-1 already exists");
    await rejectsStore(() => s.createChallenge({ ...c, id: "ch-x", sn: "SNNOPE01" }), "not_found");
    assertEquals(await s.consumeChallenge("ch-1", "SNC00002", at(1)), {
      ok: false,
      reason: "wrong_terminal",
    });
    const r = await s.consumeChallenge("ch-1", "SNC00001", at(1));
    assert(r.ok);
    assertEquals(r.challenge.rnd, c.rnd);
    assertEquals(r.challenge.usedAt, at(1).toISOString());
    assertEquals(await s.consumeChallenge("ch-1", "SNC00001", at(2)), {
      ok: false,
      reason: "used",
    });
    await s.createChallenge({ ...c, id: "ch-2" });
    assertEquals(await s.consumeChallenge("ch-2", "SNC00001", at(30)), {
      ok: false,
      reason: "expired",
    });
    assertEquals(await s.consumeChallenge("ch-9", "SNC00001", at(1)), {
      ok: false,
      reason: "not_found",
    });
    await s.createChallenge({ ...c, id: "ch-3" });
    const race = await Promise.all(
      Array.from({ length: 20 }, () => s.consumeChallenge("ch-3", "SNC00001", at(2))),
    );
    assertEquals(race.filter((x) => x.ok).length, 1);
  });

  test("nonces: first use accepted, replay refused until purged", async (s) => {
    const rnd = "00112233445566778899AABBCCDDEEFF";
    assert(await s.rememberNonce("flow-a-rnd", rnd, at(60)));
    assertFalse(await s.rememberNonce("flow-a-rnd", rnd, at(60)));
    assert(await s.rememberNonce("other-scope", rnd, at(60)), "scopes are separate");
    assert(await s.rememberNonce("flow-a-rnd", "AA", at(10)));
    assertEquals(await s.purgeNonces(at(30)), 1);
    assertFalse(await s.rememberNonce("flow-a-rnd", rnd, at(60)), "unexpired stays remembered");
    const race = await Promise.all(
      Array.from({ length: 20 }, () => s.rememberNonce("flow-a-rnd", "BEEF", at(60))),
    );
    assertEquals(race.filter((x) => x).length, 1);
  });

  test("audit log: append and read back; UPDATE and DELETE are refused by the database", async (s) => {
    const id1 = await s.appendAudit({
      at: T0,
      actor: "kms",
      event: "tmk_issued",
      subject: "SN0000001",
      keyId: "tmk",
      kcv: "ABC123",
      outcome: "success",
    });
    const id2 = await s.appendAudit({
      at: at(1),
      actor: "kms",
      event: "auth_failed",
      subject: "SN0000002",
      outcome: "failure",
      detail: "rnd mismatch",
    });
    assertGreater(id2, id1);
    const all = await s.listAudit({ limit: 10 });
    assertEquals(all, [
      {
        id: id1,
        at: T0.toISOString(),
        actor: "kms",
        event: "tmk_issued",
        subject: "SN0000001",
        keyId: "tmk",
        kcv: "ABC123",
        outcome: "success",
        detail: null,
      },
      {
        id: id2,
        at: at(1).toISOString(),
        actor: "kms",
        event: "auth_failed",
        subject: "SN0000002",
        keyId: null,
        kcv: null,
        outcome: "failure",
        detail: "rnd mismatch",
      },
    ]);
    assertEquals((await s.listAudit({ limit: 10, subject: "SN0000002" })).map((r) => r.id), [id2]);
    assertEquals((await s.listAudit({ limit: 10, event: "tmk_issued" })).map((r) => r.id), [id1]);
    assertEquals((await s.listAudit({ limit: 10, afterId: id1 })).map((r) => r.id), [id2]);
    for (
      const sql of [
        "UPDATE audit_log SET outcome = 'failure'",
        "UPDATE audit_log SET detail = 'x' WHERE id = " + id1,
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = " + id2,
      ]
    ) {
      const e = await assertRejects(() => f.rawSql(s, sql), Error);
      assertStringIncludes(e.message, "append-only", sql);
    }
    assertEquals(await s.listAudit({ limit: 10 }), all, "rows unchanged");
  });

  test("state hash: unchanged by reads and refused writes, changed by any write", async (s) => {
    await s.importTkBatch({ orderId: "PO-H", bodyHash: hash(12), receivedAt: T0, tks: tks(3) });
    const h0 = await s.stateHash();
    assertMatch(h0, /^[0-9A-F]{64}$/);
    await s.getTerminal(sn(1));
    await s.listTerminals("PO-H", { limit: 10 });
    await rejectsStore(
      () =>
        s.importTkBatch({ orderId: "PO-H", bodyHash: hash(13), receivedAt: T0, tks: tks(1, 9) }),
      "conflict",
    );
    assertFalse(await s.markTmkSent(sn(1), at(1)));
    await assertRejects(
      () => s.issueTmks([issue(sn(1)), { ...issue(sn(2)), tmkKcv: "x" }]),
      RangeError,
    );
    assertEquals(await s.stateHash(), h0);
    await s.issueTmk(issue(sn(1)));
    const h1 = await s.stateHash();
    assertNotEquals(h1, h0);
    await s.appendAudit({ at: T0, actor: "kms", event: "tmk_issued", outcome: "success" });
    assertNotEquals(await s.stateHash(), h1);
  });

  test("bad arguments: exact error, nothing stored", async (s) => {
    const good = { orderId: "PO-1", state: "collecting" as const, createdAt: T0 };
    const cases: [string, () => Promise<unknown>, ErrorConstructor, string][] = [
      [
        "order id type",
        () => s.createOrder({ ...good, orderId: 7 as unknown as string }),
        TypeError,
        "order.orderId must be a string, got number",
      ],
      [
        "order id form",
        () => s.createOrder({ ...good, orderId: "bad id" }),
        RangeError,
        'order.orderId must be 1-64 characters A-Z a-z 0-9 . _ : - starting with a letter or digit, got "bad id"',
      ],
      [
        "order state",
        () => s.createOrder({ ...good, state: "open" as "collecting" }),
        RangeError,
        'order.state must be one of "collecting", "transferred", "imported", got "open"',
      ],
      [
        "created at",
        () => s.createOrder({ ...good, createdAt: new Date("x") }),
        RangeError,
        "order.createdAt must be a valid Date",
      ],
      [
        "created at type",
        () => s.createOrder({ ...good, createdAt: "2026" as unknown as Date }),
        TypeError,
        "order.createdAt must be a Date, got string",
      ],
      [
        "SN in list",
        () => s.createOrder({ ...good, serialNumbers: ["SN1", ""] }),
        RangeError,
        "order.serialNumbers[1] must be 1-64 characters",
      ],
      [
        "clear key as TK block",
        () =>
          s.putCollectedTk({
            orderId: "PO-1",
            sn: "SN1",
            tkBlock: "0123456789ABCDEF0123456789ABCDEF",
            tkKcv: "ABCDEF",
            tkHash: hash(1),
            uploadedAt: T0,
          }),
        RangeError,
        "tk.tkBlock must be a TR-31 key block",
      ],
      [
        "key block length field",
        () =>
          s.putCollectedTk({
            orderId: "PO-1",
            sn: "SN1",
            tkBlock: fakeKeyBlock() + "00",
            tkKcv: "ABCDEF",
            tkHash: hash(1),
            uploadedAt: T0,
          }),
        RangeError,
        "tk.tkBlock must be a TR-31 key block",
      ],
      [
        "lowercase KCV",
        () =>
          s.putCollectedTk({
            orderId: "PO-1",
            sn: "SN1",
            tkBlock: fakeKeyBlock(),
            tkKcv: "abcdef",
            tkHash: hash(1),
            uploadedAt: T0,
          }),
        RangeError,
        "tk.tkKcv must be uppercase hex of even length",
      ],
      [
        "short hash",
        () =>
          s.putCollectedTk({
            orderId: "PO-1",
            sn: "SN1",
            tkBlock: fakeKeyBlock(),
            tkKcv: "ABCDEF",
            tkHash: "AB",
            uploadedAt: T0,
          }),
        RangeError,
        "tk.tkHash must be 64 hex characters, got 2",
      ],
      [
        "batch hash",
        () => s.importTkBatch({ orderId: "PO-1", bodyHash: "xyz", receivedAt: T0, tks: [] }),
        RangeError,
        "batch.bodyHash must be uppercase hex",
      ],
      [
        "batch tks type",
        () =>
          s.importTkBatch({
            orderId: "PO-1",
            bodyHash: hash(1),
            receivedAt: T0,
            tks: 5 as unknown as ImportedTk[],
          }),
        TypeError,
        "batch.tks must be an iterable or async iterable of TKs",
      ],
      [
        "clear key as TMK block",
        () => s.issueTmk({ ...issue("SN1"), tmkBlock: "00".repeat(16) }),
        RangeError,
        "issue.tmkBlock must be a TR-31 key block",
      ],
      [
        "TMK under TK partial block",
        () => s.issueTmk({ ...issue("SN1"), tmkUnderTk: "0011" }),
        RangeError,
        "issue.tmkUnderTk must be a TR-31 key block or uppercase hex of whole 8-byte blocks",
      ],
      [
        "issues not an array",
        () => s.issueTmks("x" as unknown as TmkIssue[]),
        TypeError,
        "issues must be an array",
      ],
      [
        "one bad row refuses the whole bulk",
        () => s.issueTmks([issue("SN1"), { ...issue("SN2"), tmkKcv: "Z" }]),
        RangeError,
        "issues[1].tmkKcv must be uppercase hex",
      ],
      [
        "page limit",
        () => s.listTerminals("PO-1", { limit: 0 }),
        RangeError,
        "page.limit must be an integer from 1 to 10000, got 0",
      ],
      [
        "page filter",
        () => s.listTerminals("PO-1", { limit: 1, filter: "some" as "all" }),
        RangeError,
        "page.filter must be one of",
      ],
      [
        "max failures",
        () => s.recordAuthFailure("SN1", { maxFailures: 0, at: T0 }),
        RangeError,
        "options.maxFailures must be an integer from 1 to 1000000, got 0",
      ],
      [
        "challenge expiry",
        () =>
          s.createChallenge({
            id: "c",
            sn: "SN1",
            rnd: "0011223344556677",
            createdAt: at(5),
            expiresAt: at(5),
          }),
        RangeError,
        "challenge.expiresAt must be after challenge.createdAt",
      ],
      [
        "challenge rnd",
        () => s.createChallenge({ id: "c", sn: "SN1", rnd: "00", createdAt: T0, expiresAt: at(5) }),
        RangeError,
        "challenge.rnd must be 16 to 128 hex characters, got 2",
      ],
      [
        "nonce",
        () => s.rememberNonce("scope", "a b", at(5)),
        RangeError,
        "nonce must be 1-256 characters",
      ],
      [
        "audit event name",
        () => s.appendAudit({ at: T0, actor: "x", event: "TMK Issued", outcome: "success" }),
        RangeError,
        "event.event must be a lowercase name",
      ],
      [
        "audit outcome",
        () => s.appendAudit({ at: T0, actor: "x", event: "x", outcome: "ok" as "success" }),
        RangeError,
        'event.outcome must be one of "success", "failure", got "ok"',
      ],
      [
        "audit detail",
        () =>
          s.appendAudit({
            at: T0,
            actor: "x",
            event: "x",
            outcome: "success",
            detail: "d".repeat(501),
          }),
        RangeError,
        "event.detail must be 1 to 500 characters, got 501",
      ],
      [
        "audit kcv",
        () =>
          s.appendAudit({
            at: T0,
            actor: "x",
            event: "x",
            outcome: "success",
            kcv: "00".repeat(16),
          }),
        RangeError,
        "event.kcv must be 4 to 16 hex characters, got 32",
      ],
      [
        "transaction fn",
        () => s.transaction(5 as unknown as () => Promise<void>),
        TypeError,
        "fn must be a function, got number",
      ],
    ];
    for (const [name, fn, cls, msg] of cases) {
      const e = await assertRejects(fn, cls, msg, name);
      assertFalse(
        /0123456789ABCDEF0123456789ABCDEF|00000000000000000000000000000000/.test(e.message),
        `${name}: no key-like value echoed`,
      );
    }
    assertEquals(await s.getOrder("PO-1"), null);
    assertEquals(await s.listAudit({ limit: 10 }), []);
  });
}
