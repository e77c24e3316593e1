/**
 * The software HSM as a security boundary:
 *
 * 1. states: every HSM operation in every state (offline, secure,
 *    authorized) is allowed or refused as the test's own table {@link EXPECT}
 *    says (written from payShield's states and PCI PIN, not copied from the
 *    HSM's `OPERATION_STATES`); a refusal is `HsmError` `wrong_state` naming
 *    the state and the operation, with exactly one `operation_refused` audit
 *    entry; every transition is allowed and audited once, except into
 *    authorized without an LMK (`no_lmk`, one entry);
 * 2. custodians: the LMK only from two or more components of distinct
 *    custodians, each with its KCV; every wrong set refused with its exact
 *    code, one `lmk_load_failed` entry, no LMK kept (the HSM cannot be
 *    authorized, the right set loads afterwards); any order of the same
 *    components gives the same LMK;
 * 3. production mode: test-only options, an LMK without its ceremony KCV,
 *    every published test LMK (`TEST_LMKS`), and every key block a test HSM
 *    made are refused with their exact code and one audit entry each; the
 *    same LMK and keys made in production work.
 *
 * Prints `figure hsm-states[<core>]`, `figure lmk-custodians[<core>]`,
 * `figure production-mode[<core>]`.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  fromHex,
  generateRsaKeyPair,
  kcv,
  oaepEncrypt,
  type RsaPrivateKey,
  setOddParity,
  toHex,
} from "../../src/crypto/mod.ts";
import {
  type HsmAuditEvent,
  HsmError,
  type HsmState,
  KEY_TEMPLATES,
  type LmkComponent,
  SoftwareHsm,
  TEST_LMKS,
} from "../../src/hsm/mod.ts";
import { readKeyBlockHeader } from "../../src/keyblock/mod.ts";
import { parseServerFlags } from "../../servers/_lib/serve.ts";
import { ValidationError } from "../../src/protocol/mod.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makeComponents } from "../hsm/_fixtures.ts";
import { figure, proofCores, Tally } from "./_figures.ts";
import { makePki } from "../tr34/_pki.ts";

const STATES: HsmState[] = ["offline", "secure", "authorized"];

/**
 * The test's table: the states each operation must run in. payShield: LMK
 * loading (LK) only in secure; forming keys from clear components and
 * entering clear keys are custodian actions (secure) that the authorized
 * state also permits; host key operations only when authorized; offline
 * nothing.
 */
const EXPECT: Record<string, HsmState[]> = {
  loadLmk: ["secure"],
  importKeyFromComponents: ["secure", "authorized"],
  importRsaPrivateKey: ["secure", "authorized"],
  generateKey: ["authorized"],
  keyInfo: ["authorized"],
  keyCheckValue: ["authorized"],
  keyHash: ["authorized"],
  exportKey: ["authorized"],
  importKey: ["authorized"],
  generateKeyUnderKek: ["authorized"],
  generateMac: ["authorized"],
  verifyMac: ["authorized"],
  encryptData: ["authorized"],
  decryptData: ["authorized"],
  sign: ["authorized"],
  generateRsaKeyPair: ["authorized"],
  importKeyRsa: ["authorized"],
  translateKeyFromRsa: ["authorized"],
  exportKeyRsa: ["authorized"],
  exportKeyTr34: ["authorized"],
};

/** Components (with custodians and KCVs) of a TDES key of `length` bytes. */
async function tdesComponents(length: 16 | 24, core: CryptoCore): Promise<LmkComponent[]> {
  const out: LmkComponent[] = [];
  for (let i = 0; i < 2; i++) {
    const k = setOddParity(randomBytes(length));
    out.push({
      custodian: `officer-${i + 1}`,
      key: toHex(k),
      kcv: toHex(await kcv(k, { method: "legacy", core })),
    });
  }
  return out;
}

/** An HSM (test mode unless said) with a recording audit sink. */
async function newHsm(
  core: CryptoCore,
  mode: "test" | "production" = "test",
): Promise<{ hsm: SoftwareHsm; events: HsmAuditEvent[] }> {
  const events: HsmAuditEvent[] = [];
  const hsm = await SoftwareHsm.create({ mode, core, audit: (e) => void events.push(e) });
  return { hsm, events };
}

/** Components of a given LMK: a random one and the XOR of the LMK with it, with KCVs. */
async function splitLmk(
  lmk: Uint8Array,
  algorithm: "aes" | "tdes",
  core: CryptoCore,
): Promise<LmkComponent[]> {
  const a = randomBytes(lmk.length);
  const b = lmk.map((x, i) => x ^ a[i]);
  const check = async (k: Uint8Array) =>
    toHex(
      await kcv(k, {
        method: algorithm === "aes" ? "cmac" : "legacy",
        algorithm,
        length: algorithm === "aes" ? 5 : 3,
        core,
      }),
    );
  return [
    { custodian: "alice", key: toHex(a), kcv: await check(a) },
    { custodian: "bob", key: toHex(b), kcv: await check(b) },
  ];
}

/** A KRD and a KDH certificate for the TR-34 export. */
const tr34 = await makePki();

const rsaKeys = new Map<string, RsaPrivateKey>();
async function rsaKey(core: CryptoCore): Promise<RsaPrivateKey> {
  let k = rsaKeys.get(core.name);
  if (!k) {
    k = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
    rsaKeys.set(core.name, k);
  }
  return k;
}

for (const core of proofCores(await allCores())) {
  Deno.test(`[${core.name}] every HSM operation in every state, allowed or refused with wrong_state, audited`, async () => {
    const { components } = await makeComponents("aes", 2, core);
    // Inputs, made by an authorized HSM on the same LMK.
    const ref = await SoftwareHsm.open({ mode: "test", core }, { components });
    const tmk = await ref.generateKey(KEY_TEMPLATES.TMK);
    const tk = await ref.generateKey(KEY_TEMPLATES.TK);
    const pk = await ref.importKeyFromComponents(
      await tdesComponents(24, core),
      KEY_TEMPLATES.PK,
    );
    const mak = await ref.generateKey(KEY_TEMPLATES.MAK);
    const auk = await ref.generateKey(KEY_TEMPLATES.AUK);
    const transport = await ref.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_TRANSPORT });
    const ca = await ref.importRsaPrivateKey(await rsaKey(core), KEY_TEMPLATES.RSA_CA);
    const tmkUnderPk = await ref.exportKey(tmk.keyBlock, pk.keyBlock);
    const data = randomBytes(16);
    const mac = await ref.generateMac(mak.keyBlock, data);
    const rsaCt = await oaepEncrypt(transport.publicKey, setOddParity(randomBytes(16)), { core });
    const pkComponents = await tdesComponents(24, core);
    const privateKey = await rsaKey(core);

    const calls: Record<string, (h: SoftwareHsm) => Promise<unknown>> = {
      importKeyFromComponents: (h) => h.importKeyFromComponents(pkComponents, KEY_TEMPLATES.PK),
      importRsaPrivateKey: (h) => h.importRsaPrivateKey(privateKey, KEY_TEMPLATES.RSA_CA),
      generateKey: (h) => h.generateKey(KEY_TEMPLATES.TMK),
      keyInfo: (h) => h.keyInfo(tmk.keyBlock),
      keyCheckValue: (h) => h.keyCheckValue(tmk.keyBlock),
      keyHash: (h) => h.keyHash(tk.keyBlock),
      exportKey: (h) => h.exportKey(tmk.keyBlock, pk.keyBlock),
      importKey: (h) =>
        h.importKey(tmkUnderPk.exported, pk.keyBlock, { template: KEY_TEMPLATES.TMK }),
      generateKeyUnderKek: (h) => h.generateKeyUnderKek(KEY_TEMPLATES.TMK, tk.keyBlock),
      generateMac: (h) => h.generateMac(mak.keyBlock, data),
      verifyMac: (h) => h.verifyMac(mak.keyBlock, data, mac),
      encryptData: (h) => h.encryptData(auk.keyBlock, data),
      decryptData: (h) => h.decryptData(auk.keyBlock, data),
      sign: (h) => h.sign(ca.privateKeyBlock, data),
      generateRsaKeyPair: (h) => h.generateRsaKeyPair({ template: KEY_TEMPLATES.RSA_TRANSPORT }),
      importKeyRsa: (h) =>
        h.importKeyRsa(transport.privateKeyBlock, rsaCt, { template: KEY_TEMPLATES.AUK }),
      translateKeyFromRsa: (h) =>
        h.translateKeyFromRsa(transport.privateKeyBlock, rsaCt, pk.keyBlock, {
          template: KEY_TEMPLATES.TK,
        }),
      exportKeyRsa: (h) => h.exportKeyRsa(tmk.keyBlock, transport.publicKey),
      exportKeyTr34: (h) =>
        h.exportKeyTr34(tmk.keyBlock, {
          krdCertificate: tr34.krd.cert,
          kdhCertificate: tr34.kdh.cert,
        }),
    };
    assertEquals(
      Object.keys(calls).sort(),
      Object.keys(EXPECT).filter((o) => o !== "loadLmk").sort(),
    );

    const tally = new Tally();
    let unexpected = 0;
    let audited = 0;
    // One HSM with the LMK loaded, moved through the states.
    const { hsm, events } = await newHsm(core);
    await hsm.setState("secure", "test");
    await hsm.loadLmk(components);
    for (const state of STATES) {
      await hsm.setState(state, "test");
      assertEquals(hsm.state, state);
      for (const [op, call] of Object.entries(calls)) {
        const before = events.length;
        const allowed = EXPECT[op].includes(state);
        try {
          await call(hsm);
          if (!allowed) unexpected++;
          tally.add("allowed");
        } catch (e) {
          if (
            allowed || !(e instanceof HsmError) || e.code !== "wrong_state" ||
            e.state !== state || e.operation !== op ||
            e.message !==
              `${op} is refused in the ${state} state (allowed in: ${EXPECT[op].join(", ")})`
          ) {
            unexpected++;
            console.error(`${op} in ${state}:`, e);
            continue;
          }
          tally.add("refused wrong_state");
          const written = events.slice(before);
          assertEquals(written.length, 1, `${op} in ${state}: one audit entry`);
          assertEquals(
            [written[0].event, written[0].outcome],
            ["operation_refused", "failure"],
          );
          assert(written[0].detail!.startsWith(`wrong_state: ${op} is refused in the ${state}`));
          audited++;
        }
      }
    }
    // loadLmk in each state, on HSMs without an LMK (with one, authorized is the only other case).
    for (const state of STATES) {
      const fresh = await newHsm(core);
      if (state !== "authorized") await fresh.hsm.setState(state, "test");
      const target = state === "authorized" ? hsm : fresh.hsm;
      const ev = state === "authorized" ? events : fresh.events;
      const before = ev.length;
      try {
        await target.loadLmk(components);
        if (!EXPECT.loadLmk.includes(state)) unexpected++;
        tally.add("allowed");
        assertEquals(ev.slice(before).map((e) => e.event), ["lmk_loaded"]);
      } catch (e) {
        const ok = e instanceof HsmError && e.code === "wrong_state" && e.state === state &&
          e.operation === "loadLmk";
        if (!ok || EXPECT.loadLmk.includes(state)) unexpected++;
        else {
          tally.add("refused wrong_state");
          assertEquals(ev.slice(before).map((x) => x.event), ["operation_refused"]);
          audited++;
        }
      }
    }
    const operations = Object.keys(EXPECT).length;
    assertEquals(tally.total, operations * STATES.length);
    assertEquals(unexpected, 0);

    // Transitions: each of the 6 is allowed and audited once; staying is no change.
    let transitions = 0;
    for (const from of STATES) {
      for (const to of STATES) {
        await hsm.setState(from, "test");
        const before = events.length;
        await hsm.setState(to, "custodian-1");
        assertEquals(hsm.state, to);
        const written = events.slice(before);
        if (from === to) {
          assertEquals(written, []);
          continue;
        }
        assertEquals(written, [{
          event: "state_changed",
          outcome: "success",
          keyId: "HSM",
          detail: `${from} -> ${to} by custodian-1 (test mode)`,
        }]);
        transitions++;
      }
    }
    // Without an LMK: authorized is refused (no_lmk), key entry in secure too.
    const bare = await newHsm(core);
    for (const from of ["offline", "secure"] as const) {
      await bare.hsm.setState(from, "test");
      const before = bare.events.length;
      const e = await assertRejects(() => bare.hsm.setState("authorized", "test"), HsmError);
      assertEquals([e.code, e.state, e.operation], ["no_lmk", from, "setState"]);
      assertEquals(bare.events.slice(before).map((x) => x.event), ["state_change_refused"]);
      assertEquals(bare.hsm.state, from);
    }
    const e = await assertRejects(() => calls.importKeyFromComponents(bare.hsm), HsmError);
    assertEquals([e.code, e.state, e.operation], ["no_lmk", "secure", "importKeyFromComponents"]);
    assertEquals(bare.events.at(-1)!.event, "operation_refused");

    figure(
      `hsm-states[${core.name}]`,
      `${operations} operations x ${STATES.length} states = ${tally.total} calls: ${tally}; ` +
        `${unexpected} unexpected; ${audited} refusals with exactly 1 operation_refused audit entry each; ` +
        `${transitions} transitions allowed, 1 state_changed entry each; authorized without an LMK ` +
        `refused (no_lmk) from offline and secure, 1 entry each`,
    );
  });

  Deno.test(`[${core.name}] the LMK only from distinct custodians' components, each and the result KCV-checked`, async () => {
    const { components: [c1, c2, c3] } = await makeComponents("aes", 3, core);
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const cases: [string, unknown[], string | undefined, string, string][] = [
      [
        "the same custodian twice",
        [c1, { ...c2, custodian: c1.custodian }],
        undefined,
        "custodian",
        `LMK component 2 of 2: custodian "${c1.custodian}" already entered component 1`,
      ],
      [
        "the same custodian in other case",
        [c1, c2, { ...c3, custodian: c1.custodian!.toUpperCase() }],
        undefined,
        "custodian",
        `LMK component 3 of 3: custodian "${
          c1.custodian!.toUpperCase()
        }" already entered component 1`,
      ],
      [
        "no custodian",
        [c1, { key: c2.key, kcv: c2.kcv }],
        undefined,
        "custodian",
        "LMK component 2 of 2 has no custodian",
      ],
      [
        "a malformed custodian",
        [{ ...c1, custodian: "alice smith" }, c2],
        undefined,
        "custodian",
        "LMK component 1 of 2: the custodian must be 1 to 64 letters",
      ],
      [
        "a missing KCV",
        [c1, { custodian: c2.custodian, key: c2.key }],
        undefined,
        "component_kcv",
        "LMK component 2 of 2 has no KCV",
      ],
      [
        "a wrong KCV",
        [c1, { ...c2, kcv: flip(c2.kcv) }],
        undefined,
        "component_kcv",
        `LMK component 2 of 2 does not match its KCV ${flip(c2.kcv)}`,
      ],
      [
        "a changed component",
        [c1, c2, { ...c3, key: flip(c3.key as string) }],
        undefined,
        "component_kcv",
        `LMK component 3 of 3 does not match its KCV ${c3.kcv}`,
      ],
      ["one component", [c1], undefined, "components", "the LMK needs two or more components"],
      [
        "a wrong LMK KCV",
        [c1, c2, c3],
        "0000000000",
        "combined_kcv",
        "the combined LMK does not match the expected KCV 0000000000",
      ],
    ];
    const { hsm, events } = await newHsm(core);
    await hsm.setState("secure", "test");
    let refused = 0;
    for (const [name, comps, lmkKcv, code, msg] of cases) {
      const before = events.length;
      const e = await assertRejects(
        () => hsm.loadLmk(comps as LmkComponent[], { lmkKcv }),
        HsmError,
        msg,
        name,
      );
      assertEquals(e.code, code, name);
      const written = events.slice(before);
      assertEquals(
        written.map((x) => [x.event, x.outcome]),
        [["lmk_load_failed", "failure"]],
        name,
      );
      assertEquals(written[0].detail, `${code}: ${e.message}`, name);
      for (const c of [c1, c2, c3]) {
        assert(
          !JSON.stringify(written).includes(c.key as string),
          `${name}: a component in the audit`,
        );
      }
      // Nothing kept: no LMK, the HSM cannot be authorized.
      assertEquals(hsm.hasLmk, false, name);
      await assertRejects(() => hsm.setState("authorized", "test"), HsmError, "without an LMK");
      refused++;
    }
    const afterCases = events.length;
    // Order independence: every order of the three components gives one LMK.
    const orders = [[c1, c2, c3], [c1, c3, c2], [c2, c1, c3], [c2, c3, c1], [c3, c1, c2], [
      c3,
      c2,
      c1,
    ]];
    const kcvs = new Set<string>();
    const hsms: SoftwareHsm[] = [];
    for (const order of orders) {
      const h = await SoftwareHsm.open({ mode: "test", core }, { components: order });
      kcvs.add(h.lmkKcv);
      hsms.push(h);
    }
    assertEquals(kcvs.size, 1);
    const key = await hsms[0].generateKey(KEY_TEMPLATES.TMK);
    for (const h of hsms) assertEquals(await h.keyCheckValue(key.keyBlock), key.kcv);
    // The right set loads on the HSM that refused the others: one lmk_loaded entry.
    await hsm.loadLmk([c3, c1, c2], { lmkKcv: [...kcvs][0] });
    assertEquals(events.slice(afterCases).map((x) => x.event), ["lmk_loaded"]);
    assert(
      events.at(-1)!.detail!.includes(
        `custodians ${c3.custodian}, ${c1.custodian}, ${c2.custodian}`,
      ),
    );
    const again = await assertRejects(() => hsm.loadLmk([c1, c2]), HsmError);
    assertEquals(again.code, "lmk_present");
    figure(
      `lmk-custodians[${core.name}]`,
      `${cases.length} wrong component sets: ${refused} refused with the exact code, 1 lmk_load_failed ` +
        `entry each, 0 LMKs kept (authorized refused after each); ${orders.length} orders of 3 ` +
        `components: ${kcvs.size} LMK KCV, keys interchangeable; right set then loads (1 lmk_loaded); ` +
        `a second LMK refused (lmk_present)`,
    );
  });

  Deno.test(`[${core.name}] production mode refuses test-only options, test LMKs and test keys`, async () => {
    const tally = new Tally();
    let entries = 0;
    // Test-only options (a key observer, anything not in PRODUCTION_OPTIONS).
    for (const extra of [{ keyObserver: () => {} }, { debugKeys: true }]) {
      const events: HsmAuditEvent[] = [];
      const e = await assertRejects(
        () =>
          SoftwareHsm.create({
            mode: "production",
            core,
            audit: (x: HsmAuditEvent) => void events.push(x),
            ...extra,
          } as never),
        HsmError,
        `production mode refuses the test-only option options.${Object.keys(extra)[0]}`,
      );
      assertEquals(e.code, "test_only");
      assertEquals(events.map((x) => x.event), ["hsm_refused"]);
      entries++;
      tally.add("test_only");
      // Test mode takes them (the test-only hooks are for tests).
      await SoftwareHsm.create({ mode: "test", core, ...extra } as never);
    }
    // An LMK without the ceremony's KCV.
    const { components } = await makeComponents("aes", 2, core);
    {
      const { hsm, events } = await newHsm(core, "production");
      await hsm.setState("secure", "test");
      const before = events.length;
      const e = await assertRejects(
        () => hsm.loadLmk(components),
        HsmError,
        "production mode needs the LMK's KCV",
      );
      assertEquals(e.code, "combined_kcv");
      assertEquals(events.slice(before).map((x) => x.event), ["lmk_load_failed"]);
      entries++;
      tally.add("combined_kcv");
    }
    // Every published test LMK, entered as two components with the right KCVs.
    for (const t of TEST_LMKS) {
      const comps = await splitLmk(fromHex(t.key), t.algorithm, core);
      const testHsm = await SoftwareHsm.open({ mode: "test", core, lmkAlgorithm: t.algorithm }, {
        components: comps,
      });
      const events: HsmAuditEvent[] = [];
      const prod = await SoftwareHsm.create({
        mode: "production",
        core,
        lmkAlgorithm: t.algorithm,
        audit: (x) => void events.push(x),
      });
      await prod.setState("secure", "test");
      const before = events.length;
      const e = await assertRejects(
        () => prod.loadLmk(comps, { lmkKcv: testHsm.lmkKcv }),
        HsmError,
        `is a published test key (${t.source})`,
      );
      assertEquals(e.code, "test_lmk", t.source);
      assertEquals(events.slice(before).map((x) => x.event), ["lmk_load_failed"]);
      assertEquals(prod.hasLmk, false);
      entries++;
      tally.add("test_lmk");
    }
    // Test keys: a test HSM and a production HSM on one (random, not published) LMK.
    const testHsm = await SoftwareHsm.open({ mode: "test", core }, { components });
    const { hsm: prod, events } = await newHsm(core, "production");
    await prod.setState("secure", "test");
    await prod.loadLmk(components, { lmkKcv: testHsm.lmkKcv });
    await prod.setState("authorized", "test");
    const made = {
      TMK: (await testHsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock,
      TK: (await testHsm.generateKey(KEY_TEMPLATES.TK)).keyBlock,
      MAK: (await testHsm.generateKey(KEY_TEMPLATES.MAK)).keyBlock,
      AUK: (await testHsm.generateKey(KEY_TEMPLATES.AUK)).keyBlock,
      PK: (await testHsm.importKeyFromComponents(await tdesComponents(24, core), KEY_TEMPLATES.PK))
        .keyBlock,
      RSA_CA: (await testHsm.importRsaPrivateKey(await rsaKey(core), KEY_TEMPLATES.RSA_CA))
        .privateKeyBlock,
    };
    const prodTk = await prod.generateKey(KEY_TEMPLATES.TK);
    const data = randomBytes(16);
    // Each test key in the role it plays, and in keyInfo: refused with test_key, one entry each.
    const uses: [string, string, (b: string) => Promise<unknown>][] = [];
    for (const [name, block] of Object.entries(made)) {
      uses.push([name, "keyInfo", (b) => prod.keyInfo(b)]);
      const h = readKeyBlockHeader(block);
      assertEquals(
        h.optionalBlocks?.find((o) => o.id === "90")?.data,
        `TESTLMK${testHsm.lmkKcv}`,
        `${name}: the test marker`,
      );
    }
    uses.push(
      ["TMK", "exportKey", (b) => prod.exportKey(b, prodTk.keyBlock)],
      ["TK", "generateKeyUnderKek", (b) => prod.generateKeyUnderKek(KEY_TEMPLATES.TMK, b)],
      ["MAK", "generateMac", (b) => prod.generateMac(b, data)],
      ["AUK", "encryptData", (b) => prod.encryptData(b, data)],
      ["PK", "keyCheckValue", (b) => prod.keyCheckValue(b)],
      ["RSA_CA", "sign", (b) => prod.sign(b, data)],
    );
    for (const [name, op, use] of uses) {
      const before = events.length;
      const e = await assertRejects(
        () => use(made[name as keyof typeof made]),
        HsmError,
        "is a test key",
      );
      assertEquals(e.code, "test_key", `${name} ${op}`);
      assertEquals(events.slice(before).map((x) => x.event), ["key_refused"], `${name} ${op}`);
      entries++;
      tally.add("test_key");
    }
    // A key a test HSM exports (TR-31 under a KEK both hold) carries the marker too, and the
    // production HSM refuses to import it; a production export carries none and imports.
    const prodPk = await prod.importKeyFromComponents(
      await tdesComponents(24, core),
      KEY_TEMPLATES.PK,
    );
    const testExport = (await testHsm.exportKey(made.TMK, prodPk.keyBlock)).exported;
    assertEquals(
      readKeyBlockHeader(testExport).optionalBlocks?.find((o) => o.id === "90")?.data,
      `TESTLMK${testHsm.lmkKcv}`,
    );
    {
      const before = events.length;
      const e = await assertRejects(
        () => prod.importKey(testExport, prodPk.keyBlock, { template: KEY_TEMPLATES.TMK }),
        HsmError,
        "is a test key",
      );
      assertEquals(e.code, "test_key");
      assertEquals(events.slice(before).map((x) => x.event), ["key_refused"]);
      entries++;
      tally.add("test_key");
    }
    const prodExport = (await prod.exportKey(
      (await prod.generateKey(KEY_TEMPLATES.TMK)).keyBlock,
      prodPk.keyBlock,
    )).exported;
    assertEquals(readKeyBlockHeader(prodExport).optionalBlocks ?? [], []);
    await prod.importKey(prodExport, prodPk.keyBlock, { template: KEY_TEMPLATES.TMK });
    // The marker cannot be stripped: the header is under the block's MAC.
    const tmk = made.TMK;
    const rest = tmk.slice(5, 12) + "00" + tmk.slice(14, 16) + tmk.slice(headerLength(tmk));
    const stripped = tmk[0] + String(5 + rest.length).padStart(4, "0") + rest;
    assertEquals(readKeyBlockHeader(stripped).optionalBlocks ?? [], []);
    const e = await assertRejects(() => prod.keyInfo(stripped), HsmError);
    assertEquals(e.code, "key_block");
    // Production keys carry no marker and work; the test HSM opens them too.
    const prodTmk = await prod.generateKey(KEY_TEMPLATES.TMK);
    assertEquals(readKeyBlockHeader(prodTmk.keyBlock).optionalBlocks ?? [], []);
    assertEquals(await prod.keyCheckValue(prodTmk.keyBlock), prodTmk.kcv);
    assertEquals(await testHsm.keyCheckValue(prodTmk.keyBlock), prodTmk.kcv);
    figure(
      `production-mode[${core.name}]`,
      `${tally.total} refusals: ${tally} (${TEST_LMKS.length} published test LMKs, ` +
        `${
          Object.keys(made).length
        } test keys in ${uses.length} uses, 1 test export imported); ${entries} audit entries, 1 each; ` +
        `test marker stripped: refused (key_block); production keys: no marker, usable`,
    );
  });
}

/** Characters of a key block's header (fixed part and optional blocks, short length form). */
function headerLength(block: string): number {
  let pos = 16;
  const count = Number(block.slice(12, 14));
  for (let i = 0; i < count; i++) {
    const len = parseInt(block.slice(pos + 2, pos + 4), 16);
    pos += len;
  }
  return pos;
}

Deno.test("servers take --hsm-mode production|test, production by default", () => {
  const base = { envPrefix: "HSMTEST", defaultPort: 1, defaultDb: "x.db" };
  assertEquals(parseServerFlags([], base).hsmMode, "production");
  assertEquals(parseServerFlags(["--hsm-mode", "test"], base).hsmMode, "test");
  assertEquals(
    parseServerFlags(["--lmk-kcv", "0A1B2C3D4E"], base).lmkKcv,
    "0A1B2C3D4E",
  );
  const e = assertThrows(
    () => parseServerFlags(["--hsm-mode", "dev"], base),
    ValidationError,
  );
  assert(e instanceof ValidationError);
  assertEquals(e.code, "invalid_flag");
  assertEquals(e.message, '--hsm-mode (or HSMTEST_HSM_MODE) must be production or test, got "dev"');
});
