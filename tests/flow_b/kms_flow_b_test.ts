/**
 * Flow B end to end, in process (the KMS handler called with `new
 * Request`): every step of CN103714641A, then every refusal with its
 * status and code, and after each refusal a check that nothing was left
 * half-done. The KMS is the real stack (routes, service, software HSM,
 * SQLite store, KMS CA); the PIN pads are real devices.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import type { CryptoCore } from "../../src/core/mod.ts";
import {
  exportSpkiPem,
  fromHex,
  generateRsaKeyPair,
  oaepEncrypt,
  setOddParity,
  toHex,
} from "../../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import {
  answerSigningInput,
  AuthenticationError,
  challengeSigningInput,
  IntegrityError,
  type TransportKeyRequest,
  transportKeySigningInput,
} from "../../src/protocol/mod.ts";
import { pinPadFlowBTestHarness } from "../../devices/pin_pad_flow_b.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { OPERATOR_NONCE_SCOPE } from "../../servers/_lib/mod.ts";
import { call, makePki, makeWorld, type Pki, VIAS } from "./_world.ts";

const cores = await allCores();
const core: CryptoCore = cores[0];
const pki: Pki = await makePki(core);

type Body = Awaited<ReturnType<typeof call>>["body"];

function errorOf(r: { status: number; body: Body }): [number, string] {
  return [r.status, r.body.error?.code ?? "(no error)"];
}

for (const c of cores) {
  Deno.test(`S1-S7 on the ${c.name} core: KCVs agree, state and audit trail`, async () => {
    const w = await makeWorld(c, { pki: c === core ? pki : undefined });
    try {
      const pos = w.terminal("FB100001");
      const steps: string[] = [];
      const r = await pos.run((s) => steps.push(s.step));
      assertEquals(steps, ["S1", "S1", "S2", "S3", "S4", "S5", "S5", "S5", "S5", "S6", "S7"]);
      assertEquals(r.kmsKcv, r.pinPadKcv);
      assertEquals(r.state, "delivered");
      assertEquals(pos.pinPad.state().tmkKcv, r.kmsKcv);
      assertEquals(pos.pinPad.state().aukKcv, r.aukKcv);
      const s = await call(w.handler, "GET", "/v1/terminals/FB100001", undefined, w.token);
      assertEquals(s.status, 200);
      assertEquals(
        { ...s.body, updatedAt: "" },
        {
          sn: "FB100001",
          flow: "B",
          state: "delivered",
          aukKcv: r.aukKcv,
          tmkKcv: r.kmsKcv,
          authFailures: 0,
          locked: "no",
          updatedAt: "",
        },
      );
      const events = (await w.store.listAudit({ limit: 100, subject: "FB100001" }))
        .filter((a) => a.outcome === "success").map((a) => a.event);
      assertEquals(events, [
        "hsm_key_issued",
        "tk_imported",
        "challenge_opened",
        "challenge_passed",
        "tmk_issued",
        "tmk_sent",
        "tmk_delivered",
      ]);
      const t = (await w.store.getTerminal("FB100001"))!;
      assertEquals([t.orderId, t.tmkUnderTk, t.sessionExpiresAt], [null, null, null]);
    } finally {
      await w.close();
    }
  });
}

for (const via of VIAS) {
  Deno.test(
    `${via}: ` + "S1: rotates before S3 (the old Pu_hsm no longer works), refused after S3",
    async () => {
      const w = await makeWorld(core, { pki, via });
      try {
        const sn = "FB200001";
        const first = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
        assertEquals([first.status, first.body.rotated], [201, "no"]);
        const pad = w.newPad();
        await pad.installHsmKey(sn, first.body as { certificate: string; caCertificate: string });
        const second = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
        assertEquals([second.status, second.body.rotated], [200, "yes"]);
        assertNotEquals(second.body.certificate, first.body.certificate);
        // AUK under the replaced Pu_hsm: the new Pr_hsm cannot recover it.
        const stale = await pad.makeTransportKey();
        const r = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, stale);
        assertEquals(errorOf(r), [422, "auk_undecryptable"]);
        assertEquals((await w.store.getTerminal(sn))!.aukBlock, null);
        // With the current Pu_hsm it goes through; then S1 is refused and changes nothing.
        await pad.installHsmKey(sn, second.body as { certificate: string; caCertificate: string });
        const ok = await call(
          w.handler,
          "PUT",
          `/v1/terminals/${sn}/transport-key`,
          await pad.makeTransportKey(),
        );
        assertEquals(ok.status, 201);
        const before = await w.store.getTerminal(sn);
        const third = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
        assertEquals(errorOf(third), [409, "transport_key_registered"]);
        assertEquals(await w.store.getTerminal(sn), before);
        // A flow A terminal (from a production order) gets no Pu_hsm.
        const tk = await w.hsm.generateKey(KEY_TEMPLATES.TK);
        await w.store.importTkBatch({
          orderId: "PO-B-1",
          bodyHash: "00".repeat(32),
          receivedAt: w.clock.date(),
          tks: [{ sn: "FA000001", tkBlock: tk.keyBlock, tkKcv: tk.kcv, tkHash: "11".repeat(32) }],
        });
        const fa = await call(
          w.handler,
          "POST",
          "/v1/terminals/FA000001/hsm-key",
          await w.s1("FA000001"),
        );
        assertEquals(errorOf(fa), [409, "flow_a_terminal"]);
        assertEquals((await w.store.getTerminal("FA000001"))!.prHsmBlock, null);
        // Malformed SN: 400 before anything runs.
        const bad = await call(w.handler, "POST", "/v1/terminals/fb-1/hsm-key");
        assertEquals(errorOf(bad), [400, "invalid_field"]);
      } finally {
        await w.close();
      }
    },
  );
}

for (const via of VIAS) {
  Deno.test(
    `${via}: ` +
      "S1: the PIN pad refuses a Pu_hsm certificate from another CA, for another SN, or expired",
    async () => {
      const w = await makeWorld(core, { pki, via });
      try {
        // A fake KMS that copies every name of the real PKI, with keys of its own.
        const fake = await makePki(core, "TMK");
        const fakeCert = await issueCertificate({
          profile: "terminal-hsm",
          subject: { commonName: "Pu_hsm FB300001", serialNumber: "FB300001" },
          publicKey: fake.kmsCa.key,
          notBefore: new Date(w.clock.ms() - 60_000),
          notAfter: new Date(w.clock.ms() + 86_400_000),
          issuer: { privateKey: fake.kmsCa.key, certificate: fake.kmsCa.certificate },
        }, { core });
        // Another CA under the same root (a sibling of the KMS CA, with the kms-ca profile):
        // the PIN pad takes Pu_hsm only from the KMS CA written at flashing.
        const siblingKey = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
        const sibling = await issueCertificate({
          profile: "kms-ca",
          subject: { commonName: "TMK KMS CA" },
          publicKey: siblingKey,
          notBefore: new Date(w.clock.ms() - 60_000),
          notAfter: new Date(w.clock.ms() + 86_400_000),
          issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
        }, { core });
        const siblingLeaf = await issueCertificate({
          profile: "terminal-hsm",
          subject: { commonName: "Pu_hsm FB300001", serialNumber: "FB300001" },
          publicKey: siblingKey,
          notBefore: new Date(w.clock.ms() - 60_000),
          notAfter: new Date(w.clock.ms() + 86_400_000),
          issuer: { privateKey: siblingKey, certificate: sibling },
        }, { core });
        const rootLeaf = await issueCertificate({
          profile: "terminal-hsm",
          subject: { commonName: "Pu_hsm FB300001", serialNumber: "FB300001" },
          publicKey: siblingKey,
          notBefore: new Date(w.clock.ms() - 60_000),
          notAfter: new Date(w.clock.ms() + 86_400_000),
          issuer: { privateKey: pki.root.key, certificate: pki.root.certificate },
        }, { core });
        const real = await call(
          w.handler,
          "POST",
          "/v1/terminals/FB300001/hsm-key",
          await w.s1("FB300001"),
        );
        const realCert = real.body as { certificate: string; caCertificate: string };
        const cases: [string, string, { certificate: string; caCertificate: string }, string][] = [
          ["a fake KMS's own chain", "FB300001", {
            certificate: fakeCert,
            caCertificate: fake.kmsCa.certificate,
          }, "bad_signature"],
          ["a fake leaf with the real KMS CA", "FB300001", {
            certificate: fakeCert,
            caCertificate: pki.kmsCa.certificate,
          }, "bad_signature"],
          ["the real certificate of another SN", "FB300002", realCert, "subject_mismatch"],
          ["a leaf from another CA under the same root", "FB300001", {
            certificate: siblingLeaf,
            caCertificate: sibling,
          }, "bad_signature"],
          ["a leaf issued by the root itself", "FB300001", {
            certificate: rootLeaf,
            caCertificate: pki.root.certificate,
          }, "not_kms_ca"],
          ["a KMS CA certificate as the leaf", "FB300001", {
            certificate: pki.kmsCa.certificate,
            caCertificate: pki.kmsCa.certificate,
          }, "key_usage"],
        ];
        for (const [what, sn, answer, check] of cases) {
          const pad = w.newPad();
          const e = await assertRejects(() => pad.installHsmKey(sn, answer), AuthenticationError);
          assertEquals(e.code, "hsm_certificate_untrusted", what);
          assertStringIncludes(e.message, `(${check})`, what);
          assertEquals(pad.state(), {
            hsmKeyFor: undefined,
            aukKcv: undefined,
            tekBits: undefined,
            tmkKcv: undefined,
          }, what);
        }
        // A PIN pad flashed with another root refuses the real KMS.
        const other = w.newPad(fake.root.certificate);
        const e1 = await assertRejects(
          () => other.installHsmKey("FB300001", realCert),
          AuthenticationError,
        );
        assertEquals(e1.code, "hsm_certificate_untrusted");
        // The real certificate is accepted now, and refused once it has expired (30 days).
        await w.newPad().installHsmKey("FB300001", realCert);
        w.clock.advance(31 * 86_400_000);
        const e2 = await assertRejects(
          () => w.newPad().installHsmKey("FB300001", realCert),
          AuthenticationError,
        );
        assertStringIncludes(e2.message, "expired");
      } finally {
        await w.close();
      }
    },
  );
}

for (const via of VIAS) {
  Deno.test(
    `${via}: ` +
      "S3-S4: every refusal leaves nothing stored; once stored, same is 200 and different is 409",
    async () => {
      const w = await makeWorld(core, { pki, via });
      try {
        const sn = "FB400001";
        const unknown = {
          encryptedAuk: "00".repeat(256),
          aukKcv: "000000",
          puTek: exportSpkiPem(pki.root.key),
          tkHash: "00".repeat(32),
        };
        const none = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
          ...unknown,
          ...(await w.sign(sn, transportKeySigningInput(sn, unknown))),
        });
        assertEquals(errorOf(none), [404, "unknown_terminal"]);
        const s1 = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
        const pad = w.newPad();
        await pad.installHsmKey(sn, s1.body as { certificate: string; caCertificate: string });
        const good = await pad.makeTransportKey();
        const puHsm = (await import("../../src/pki/mod.ts")).parseCertificate(
          s1.body.certificate as string,
        ).publicKey;
        const small = await generateRsaKeyPair({ bits: 1024, core });
        const otherTek = await generateRsaKeyPair({ bits: 2048, core });
        const enc = async (key: Uint8Array) =>
          toHex(await oaepEncrypt(puHsm, key, { hash: "SHA-256", core }));
        const flip = (h: string, i = 10) =>
          h.slice(0, i) + (h[i] === "0" ? "1" : "0") + h.slice(i + 1);
        const cases: [string, Partial<TransportKeyRequest>, number, string][] = [
          [
            "AUK under another key",
            {
              encryptedAuk: toHex(await oaepEncrypt(pki.root.key, randomBytes(16), { core })),
            },
            422,
            "auk_undecryptable",
          ],
          ["random bytes", { encryptedAuk: toHex(randomBytes(256)) }, 422, "auk_undecryptable"],
          ["all zeros", { encryptedAuk: "00".repeat(256) }, 422, "auk_undecryptable"],
          ["above the modulus", { encryptedAuk: "FF".repeat(256) }, 422, "auk_undecryptable"],
          ["a flipped bit", { encryptedAuk: flip(good.encryptedAuk) }, 422, "auk_undecryptable"],
          [
            "a 24-byte key",
            { encryptedAuk: await enc(setOddParity(randomBytes(24))) },
            422,
            "auk_undecryptable",
          ],
          [
            "OAEP-SHA1 instead of SHA-256",
            {
              encryptedAuk: toHex(
                await oaepEncrypt(puHsm, randomBytes(16), { hash: "SHA-1", core }),
              ),
            },
            422,
            "auk_undecryptable",
          ],
          [
            "another AUK than the KCV's",
            { encryptedAuk: await enc(setOddParity(randomBytes(16))) },
            422,
            "kcv_mismatch",
          ],
          ["a wrong KCV", { aukKcv: flip(good.aukKcv, 0) }, 422, "kcv_mismatch"],
          ["a wrong TK hash", { tkHash: flip(good.tkHash) }, 422, "tk_hash_mismatch"],
          [
            "another Pu_tek under the same hash",
            { puTek: exportSpkiPem(otherTek.publicKey) },
            422,
            "tk_hash_mismatch",
          ],
          ["a 1024-bit Pu_tek", { puTek: exportSpkiPem(small.publicKey) }, 400, "pu_tek_invalid"],
          [
            "Pu_tek with e = 3",
            {
              puTek: exportSpkiPem({ n: otherTek.publicKey.n, e: Uint8Array.of(3) }),
            },
            400,
            "pu_tek_invalid",
          ],
          [
            "Pu_tek that is not a key",
            {
              puTek: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            },
            400,
            "pu_tek_invalid",
          ],
          ["a certificate as Pu_tek", { puTek: pki.root.certificate }, 400, "invalid_field"],
          [
            "lowercase hex",
            { encryptedAuk: good.encryptedAuk.toLowerCase() },
            400,
            "invalid_field",
          ],
          ["a short ciphertext", { encryptedAuk: "00".repeat(100) }, 400, "invalid_field"],
        ];
        const messages = new Set<string>();
        for (const [what, change, status, code] of cases) {
          // Signed by the genuine device key: the KMS's own checks are what refuse it.
          const changed = { ...good, ...change };
          const r = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
            ...changed,
            ...(await w.sign(sn, transportKeySigningInput(sn, changed))),
          });
          assertEquals(errorOf(r), [status, code], what);
          if (code === "auk_undecryptable") messages.add(r.body.error!.message);
          const t = (await w.store.getTerminal(sn))!;
          assertEquals(
            [t.state, t.aukBlock, t.puTek, t.tkHash],
            ["hsm_key_issued", null, null, null],
            what,
          );
        }
        assertEquals(messages.size, 1, "one message for every undecryptable AUK");
        const extra = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, {
          ...good,
          x: 1,
        });
        assertEquals(errorOf(extra), [400, "unknown_field"]);
        const ok = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, good);
        assertEquals([ok.status, ok.body.duplicate, ok.body.aukKcv, ok.body.tekBits], [
          201,
          "no",
          good.aukKcv,
          2048,
        ]);
        const again = await call(w.handler, "PUT", `/v1/terminals/${sn}/transport-key`, good);
        assertEquals([again.status, again.body.duplicate], [200, "yes"]);
        const before = await w.store.getTerminal(sn);
        const pad2 = w.newPad();
        await pad2.installHsmKey(sn, s1.body as { certificate: string; caCertificate: string });
        const different = await call(
          w.handler,
          "PUT",
          `/v1/terminals/${sn}/transport-key`,
          await pad2.makeTransportKey(),
        );
        assertEquals(errorOf(different), [409, "transport_key_registered"]);
        assertEquals(await w.store.getTerminal(sn), before);
        const failures =
          (await w.store.listAudit({ limit: 100, subject: sn, event: "tk_imported" }))
            .filter((a) => a.outcome === "failure").length;
        assertEquals(failures, 12);
      } finally {
        await w.close();
      }
    },
  );
}

/** A terminal through S1-S4, ready for S5. */
async function registered(w: Awaited<ReturnType<typeof makeWorld>>, sn: string) {
  const pos = w.terminal(sn);
  await pos.requestHsmKey();
  await pos.sendTransportKey();
  return pos;
}

for (const via of VIAS) {
  Deno.test(
    `${via}: ` +
      "S5: replayed, expired, unknown and foreign challenges, reflected Rnds, wrong AUK; lock-out and unlock",
    async () => {
      const w = await makeWorld(core, { pki, via });
      try {
        const sn = "FB500001";
        const s1 = await call(w.handler, "POST", `/v1/terminals/${sn}/hsm-key`, await w.s1(sn));
        assertEquals(s1.status, 201);
        const early = await call(w.handler, "POST", `/v1/terminals/${sn}/challenges`, {
          rnd1: "0011223344556677",
          ...(await w.sign(sn, challengeSigningInput(sn, "0011223344556677"))),
        });
        assertEquals(errorOf(early), [409, "transport_key_required"]);
        const a = await registered(w, "FB500002");
        const b = await registered(w, "FB500003");
        const open = async (pos: typeof a) => {
          const r = await call(
            w.handler,
            "POST",
            `/v1/terminals/${pos.sn}/challenges`,
            await pos.pinPad.challenge(pos.sn),
          );
          assertEquals(r.status, 201);
          return r.body as { challengeId: string; crnd1: string; rnd2: string; expiresAt: string };
        };
        const respond = async (sn: string, id: string, crnd2: string) =>
          call(w.handler, "POST", `/v1/terminals/${sn}/challenges/${id}/response`, {
            crnd2,
            ...(await w.sign(sn, answerSigningInput(sn, id, crnd2))),
          });
        const audited = async (sn: string) =>
          (await w.store.listAudit({ limit: 200, subject: sn }))
            .length;
        const failures = async (sn: string) => (await w.store.getTerminal(sn))!.authFailures;

        // A pass, then the same answer again: replay (refused, not counted).
        const ch = await open(a);
        const ans = await a.pinPad.answer(a.sn, ch);
        assertEquals((await respond(a.sn, ch.challengeId, ans.crnd2)).status, 200);
        const auditedA = await audited(a.sn);
        assertEquals(errorOf(await respond(a.sn, ch.challengeId, ans.crnd2)), [
          401,
          "challenge_replayed",
        ]);
        assertEquals(await failures(a.sn), 0);
        assertEquals(await audited(a.sn), auditedA, "a replay writes no audit record");
        // A's challenge answered at B's path: refused, not counted (the signed answer could be a
        // replay), and A's challenge stays usable.
        const chA = await open(a);
        const ansA = await a.pinPad.answer(a.sn, chA);
        assertEquals(errorOf(await respond(b.sn, chA.challengeId, ansA.crnd2)), [
          401,
          "challenge_wrong_terminal",
        ]);
        assertEquals(await failures(b.sn), 0);
        // Unknown id and expired challenge: refused, not counted.
        assertEquals(errorOf(await respond(b.sn, "AB".repeat(16), ansA.crnd2)), [
          401,
          "challenge_unknown",
        ]);
        const chB = await open(b);
        const ansB = await b.pinPad.answer(b.sn, chB);
        w.clock.advance(30_001);
        assertEquals(errorOf(await respond(b.sn, chB.challengeId, ansB.crnd2)), [
          401,
          "challenge_expired",
        ]);
        assertEquals(await failures(b.sn), 0);
        // The PIN pad refuses a stale KMS answer too.
        await b.pinPad.challenge(b.sn);
        w.clock.advance(30_001);
        const stale = await assertRejects(() => b.pinPad.answer(b.sn, chB), AuthenticationError);
        assertEquals(stale.code, "challenge_expired");
        // Rnd1 reused, and KMS's own Rnd2 reflected back as Rnd1 (refused, not counted).
        const chB2 = await open(b);
        const reuse = await call(w.handler, "POST", `/v1/terminals/${b.sn}/challenges`, {
          rnd1: chB2.rnd2,
          ...(await w.sign(b.sn, challengeSigningInput(b.sn, chB2.rnd2))),
        });
        assertEquals(errorOf(reuse), [401, "rnd_replayed"]);
        assertEquals(await failures(b.sn), 0);
        // None of these refusals was audited.
        assertEquals(
          (await w.store.listAudit({ limit: 200, subject: b.sn }))
            .filter((x) => x.outcome === "failure").map((x) => x.detail),
          [],
          "no refusal of B was audited",
        );
        // Wrong answers signed by B's device key (counted).
        const chB3 = await open(b);
        assertEquals(errorOf(await respond(b.sn, chB3.challengeId, "00".repeat(8))), [
          401,
          "terminal_not_authenticated",
        ]);
        assertEquals(await failures(b.sn), 1);
        const chB4 = await open(b);
        assertEquals(errorOf(await respond(b.sn, chB4.challengeId, "11".repeat(8))), [
          401,
          "terminal_not_authenticated",
        ]);
        assertEquals(await failures(b.sn), 2);
        // A wrong AUK on the terminal side: Crnd2 under another key. Third failure: B is locked.
        const wrong = toHex(core.tdesEncryptEcb(setOddParity(randomBytes(16)), fromHex(chB2.rnd2)));
        assertEquals(errorOf(await respond(b.sn, chB2.challengeId, wrong)), [
          401,
          "terminal_not_authenticated",
        ]);
        const t = (await w.store.getTerminal(b.sn))!;
        assertEquals([t.authFailures, t.lockedAt !== null], [3, true]);
        // Locked: every flow B step is refused, and nothing changes.
        for (
          const [method, path, body] of [
            ["POST", `/v1/terminals/${b.sn}/challenges`, {
              rnd1: "0102030405060708",
              ...(await w.sign(b.sn, challengeSigningInput(b.sn, "0102030405060708"))),
            }],
            ["POST", `/v1/terminals/${b.sn}/challenges/${chB2.challengeId}/response`, {
              crnd2: wrong,
              ...(await w.sign(b.sn, answerSigningInput(b.sn, chB2.challengeId, wrong))),
            }],
            ["POST", `/v1/terminals/${b.sn}/hsm-key`, await w.s1(b.sn)],
            ["POST", `/v1/terminals/${b.sn}/sessions/${chB2.challengeId}/tmk`, {
              mac: "00".repeat(8),
            }],
          ] as const
        ) {
          assertEquals(
            errorOf(await call(w.handler, method, path, body)),
            [401, "terminal_locked"],
            path,
          );
        }
        assertEquals((await w.store.getTerminal(b.sn))!.authFailures, 3);
        const st = await call(w.handler, "GET", `/v1/terminals/${b.sn}`, undefined, w.token);
        assertEquals([st.body.locked, st.body.authFailures], ["yes", 3]);
        // Only the operator lifts it.
        assertEquals(errorOf(await call(w.handler, "POST", `/v1/terminals/${b.sn}/unlock`)), [
          401,
          "unauthorized",
        ]);
        const u = await call(w.handler, "POST", `/v1/terminals/${b.sn}/unlock`, undefined, w.token);
        assertEquals([u.status, u.body.unlocked], [200, "yes"]);
        const lifted = (await w.store.listAudit({ limit: 200, subject: b.sn, event: "unlock" }))
          .map((x) => x.detail);
        assertEquals(lifted, ["lifted by admin"], "the audit record names who lifted it");
        const u2 = await call(
          w.handler,
          "POST",
          `/v1/terminals/${b.sn}/unlock`,
          undefined,
          w.token,
        );
        assertEquals(u2.body.unlocked, "no");
        await b.authenticate();
        const audit = (await w.store.listAudit({ limit: 200, subject: b.sn })).map((x) =>
          `${x.event}:${x.outcome}`
        );
        for (
          const e of [
            "lockout:failure",
            "unlock:success",
            "challenge_failed:failure",
            "challenge_passed:success",
          ]
        ) {
          assert(audit.includes(e), `audit has ${e}`);
        }
        // A KMS that does not hold AUK (Crnd1 altered): the PIN pad refuses and sends nothing.
        const chA2 = await open(a);
        const forged = { ...chA2, crnd1: toHex(randomBytes(8)) };
        const e = await assertRejects(() => a.pinPad.answer(a.sn, forged), AuthenticationError);
        assertEquals(e.code, "kms_not_authenticated");
      } finally {
        await w.close();
      }
    },
  );
}

for (const via of VIAS) {
  Deno.test(
    `${via}: ` +
      "S6-S7: no TMK without a passed, unexpired session; one download per session; ack checks",
    async () => {
      const w = await makeWorld(core, { pki, via });
      try {
        const pos = await registered(w, "FB600001");
        const none = "AB".repeat(16);
        // S6 / S7 in the PIN pad's current session, MACed under its session key.
        const tmk = async (sn = pos.sn) => {
          const m = await pos.pinPad.sessionMac("S6", pos.sn);
          return call(w.handler, "POST", `/v1/terminals/${sn}/sessions/${m.sessionId}/tmk`, {
            mac: m.mac,
          });
        };
        const ackIn = async (tmkKcv: string) => {
          const m = await pos.pinPad.sessionMac("S7", pos.sn, tmkKcv);
          return call(
            w.handler,
            "POST",
            `/v1/terminals/${pos.sn}/sessions/${m.sessionId}/tmk/ack`,
            {
              tmkKcv,
              mac: m.mac,
            },
          );
        };
        const noSession = await call(
          w.handler,
          "POST",
          `/v1/terminals/${pos.sn}/sessions/${none}/tmk`,
          {
            mac: "00".repeat(8),
          },
        );
        assertEquals(errorOf(noSession), [401, "session_required"]);
        const unknown = await call(
          w.handler,
          "POST",
          `/v1/terminals/FB600999/sessions/${none}/tmk`,
          {
            mac: "00".repeat(8),
          },
        );
        assertEquals(errorOf(unknown), [404, "unknown_terminal"]);
        // The shared routes refuse a flow B SN: S6 and S7 happen in a session.
        assertEquals(errorOf(await call(w.handler, "POST", `/v1/terminals/${pos.sn}/tmk`)), [
          401,
          "session_route_required",
        ]);
        assertEquals(
          errorOf(
            await call(w.handler, "POST", `/v1/terminals/${pos.sn}/tmk/ack`, { tmkKcv: "000000" }),
          ),
          [401, "session_route_required"],
        );
        await pos.authenticate();
        assertEquals(errorOf(await ackIn("000000")), [409, "not_sent"]);
        // A MAC that does not verify under the session key: refused, nothing changes.
        const sid = (await pos.pinPad.sessionMac("S6", pos.sn)).sessionId;
        const before = await w.store.getTerminal(pos.sn);
        const badMac = await call(
          w.handler,
          "POST",
          `/v1/terminals/${pos.sn}/sessions/${sid}/tmk`,
          {
            mac: "00".repeat(8),
          },
        );
        assertEquals(errorOf(badMac), [401, "session_mac_invalid"]);
        assertEquals(await w.store.getTerminal(pos.sn), before);
        w.clock.advance(60_001);
        assertEquals(errorOf(await tmk()), [401, "session_expired"]);
        assertEquals(
          (await w.store.getTerminal(pos.sn))!.tmkBlock,
          null,
          "no TMK made for a refused download",
        );
        await pos.authenticate();
        assertEquals(errorOf(await tmk("FB600999")), [404, "unknown_terminal"]);
        const d1 = await tmk();
        assertEquals(d1.status, 200);
        assertEquals(errorOf(await tmk()), [401, "session_required"], "the session is used up");
        // The PIN pad refuses an answer whose KCV, ciphertext or tag was altered, one for another
        // SN, and a TMK somebody else chose under the public Pu_tek; it stores nothing.
        const body = d1.body as { encryptedTmk: string; tmkKcv: string; tmkMac: string };
        const flip = (h: string, i: number) =>
          h.slice(0, i) + (h[i] === "0" ? "1" : "0") + h.slice(i + 1);
        const chosen = setOddParity(randomBytes(16));
        const puTek = (await w.store.getTerminal(pos.sn))!.puTek!;
        const { importPublicKeyPem, kcv } = await import("../../src/crypto/mod.ts");
        const forged = {
          encryptedTmk: toHex(
            await oaepEncrypt(importPublicKeyPem(puTek), chosen, { hash: "SHA-256", core }),
          ),
          tmkKcv: toHex(await kcv(chosen, { method: "legacy", core })),
          tmkMac: toHex(randomBytes(8)),
        };
        const cases: [string, string, typeof body][] = [
          ["altered KCV", pos.sn, { ...body, tmkKcv: flip(body.tmkKcv, 0) }],
          ["altered ciphertext", pos.sn, { ...body, encryptedTmk: flip(body.encryptedTmk, 40) }],
          ["altered tag", pos.sn, { ...body, tmkMac: flip(body.tmkMac, 3) }],
          ["answer for another SN", "FB600002", body],
          ["a TMK chosen by someone else", pos.sn, forged],
        ];
        for (const [what, sn, answer] of cases) {
          const e = await assertRejects(
            () => pos.pinPad.installTmk(sn, answer),
            IntegrityError,
            undefined,
            what,
          );
          assertEquals(e.code, "mac_invalid", what);
        }
        assertEquals(pos.pinPad.state().tmkKcv, undefined);
        // A lost answer: a new session sends the same TMK (new OAEP ciphertext).
        await pos.authenticate();
        const d2 = await tmk();
        assertEquals(d2.body.tmkKcv, body.tmkKcv);
        assertNotEquals(d2.body.encryptedTmk, body.encryptedTmk);
        const { tmkKcv } = await pos.pinPad.installTmk(pos.sn, d2.body as typeof body);
        assertEquals(tmkKcv, body.tmkKcv);
        const badAck = await ackIn("ABCDEF");
        assertEquals(errorOf(badAck), [422, "kcv_mismatch"]);
        assertEquals((await w.store.getTerminal(pos.sn))!.deliveredAt, null);
        // The right KCV under another MAC (not the session's): refused, not delivered.
        const m7 = await pos.pinPad.sessionMac("S7", pos.sn, tmkKcv);
        const forgedAck = await call(
          w.handler,
          "POST",
          `/v1/terminals/${pos.sn}/sessions/${m7.sessionId}/tmk/ack`,
          { tmkKcv, mac: toHex(randomBytes(8)) },
        );
        assertEquals(errorOf(forgedAck), [401, "session_mac_invalid"]);
        assertEquals((await w.store.getTerminal(pos.sn))!.deliveredAt, null);
        const ack = await ackIn(tmkKcv);
        assertEquals([ack.status, ack.body.state], [200, "delivered"]);
        const ack2 = await ackIn(tmkKcv);
        assertEquals(errorOf(ack2), [409, "already_delivered"]);
        await pos.authenticate();
        assertEquals(errorOf(await tmk()), [409, "already_delivered"]);
      } finally {
        await w.close();
      }
    },
  );
}

for (const via of VIAS) {
  Deno.test(`${via}: ` + "TK hash: checked at every use, on the PIN pad and at KMS", async () => {
    const dir = await Deno.makeTempDir();
    const w = await makeWorld(core, { pki, via, dbPath: `${dir}/kms.db` });
    try {
      // PIN pad: a stored AUK that no longer matches the hash is refused at S5.
      const pos = await registered(w, "FB700001");
      await pinPadFlowBTestHarness(pos.pinPad).corruptAuk();
      const ch = await call(
        w.handler,
        "POST",
        `/v1/terminals/${pos.sn}/challenges`,
        await pos.pinPad.challenge(pos.sn),
      );
      const e = await assertRejects(
        () =>
          pos.pinPad.answer(
            pos.sn,
            ch.body as { challengeId: string; crnd1: string; rnd2: string },
          ),
        IntegrityError,
      );
      assertEquals(e.code, "tk_hash_mismatch");
      // KMS: a stored TK hash that no longer matches AUK and Pu_tek refuses S5 and S6.
      const other = await registered(w, "FB700002");
      await other.authenticate();
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(`${dir}/kms.db`);
      db.prepare("UPDATE terminals SET tk_hash = ? WHERE sn = ?").run("AA".repeat(32), other.sn);
      db.close();
      const m = await other.pinPad.sessionMac("S6", other.sn);
      const r1 = await call(
        w.handler,
        "POST",
        `/v1/terminals/${other.sn}/sessions/${m.sessionId}/tmk`,
        {
          mac: m.mac,
        },
      );
      assertEquals(errorOf(r1), [422, "tk_hash_mismatch"]);
      assertEquals((await w.store.getTerminal(other.sn))!.tmkBlock, null);
      const r2 = await call(w.handler, "POST", `/v1/terminals/${other.sn}/challenges`, {
        rnd1: "0102030405060708",
        ...(await w.sign(other.sn, challengeSigningInput(other.sn, "0102030405060708"))),
      });
      assertEquals(errorOf(r2), [422, "tk_hash_mismatch"]);
    } finally {
      await w.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("openapi.json lists every flow B route and documents repeated S1", async () => {
  const w = await makeWorld(core, { pki });
  try {
    const r = await w.handler(new Request("http://kms.test/openapi.json"));
    const doc = await r.json() as {
      paths: Record<string, Record<string, { summary: string; operationId: string }>>;
    };
    for (
      const [path, method] of [
        ["/v1/terminals/{sn}/hsm-key", "post"],
        ["/v1/terminals/{sn}/transport-key", "put"],
        ["/v1/terminals/{sn}/challenges", "post"],
        ["/v1/terminals/{sn}/challenges/{challengeId}/response", "post"],
        ["/v1/terminals/{sn}/tmk", "post"],
        ["/v1/terminals/{sn}/tmk/ack", "post"],
        ["/v1/terminals/{sn}/sessions/{sessionId}/tmk", "post"],
        ["/v1/terminals/{sn}/sessions/{sessionId}/tmk/ack", "post"],
        ["/v1/terminals/{sn}/unlock", "post"],
        ["/v1/terminals/{sn}/release", "post"],
        ["/v1/terminals/{sn}", "get"],
      ]
    ) {
      assertExists(doc.paths[path]?.[method], `${method} ${path}`);
    }
    assertStringIncludes(
      doc.paths["/v1/terminals/{sn}/hsm-key"].post.summary,
      "transport_key_registered",
    );
    assertStringIncludes(doc.paths["/v1/terminals/{sn}/hsm-key"].post.summary, "rotated");
  } finally {
    await w.close();
  }
});

Deno.test("S1: a KMS CA fault leaves no terminal behind (500, nothing stored)", async () => {
  const w = await makeWorld(core, { pki });
  try {
    const { FlowBService } = await import("../../servers/kms/flow_b_service.ts");
    const { hsmFlowBKeyOps } = await import("../../servers/kms/flow_b_keys.ts");
    const { withFlowB } = await import("../../servers/kms/flow_b_routes.ts");
    const { deviceVerifier } = await import("../../servers/kms/device_verifier.ts");
    const { createHandler, memoryLogger } = await import("../../servers/_lib/mod.ts");
    const service = new FlowBService({
      keys: hsmFlowBKeyOps(w.hsm, core),
      certifier: { certify: () => Promise.reject(new Error("the KMS CA is offline")) },
      devices: deviceVerifier([pki.root.certificate], core, w.clock.date),
      store: w.store,
      now: w.clock.date,
    });
    const { logger, lines } = memoryLogger();
    const handler = createHandler({
      title: "KMS",
      version: "test",
      routes: withFlowB([], service),
      operatorToken: w.token,
      rememberOperatorNonce: (nonce, expiresAt) =>
        w.store.rememberNonce(OPERATOR_NONCE_SCOPE, nonce, expiresAt),
      log: logger,
    });
    const r = await call(handler, "POST", "/v1/terminals/FB800001/hsm-key", await w.s1("FB800001"));
    assertEquals(errorOf(r), [500, "internal_error"]);
    assertEquals(await w.store.getTerminal("FB800001"), null);
    assert(lines.some((l) => l.includes("the KMS CA is offline")), "the cause is in the log");
  } finally {
    await w.close();
  }
});

Deno.test("release: only an operator drops a flow B registration that blocks an order's batch", async () => {
  const w = await makeWorld(core, { pki });
  try {
    // A genuine PIN pad of a pending production order ran flow B's S1 and S3 first.
    const sn = "FA900001";
    const pos = w.terminal(sn);
    await pos.requestHsmKey();
    await pos.sendTransportKey();
    const tk = await w.hsm.generateKey(KEY_TEMPLATES.TK);
    const batch = {
      orderId: "PO-R-1",
      bodyHash: "44".repeat(32),
      receivedAt: w.clock.date(),
      tks: [{ sn, tkBlock: tk.keyBlock, tkKcv: tk.kcv, tkHash: "55".repeat(32) }],
    };
    const { StoreError } = await import("../../src/store/mod.ts");
    const blocked = await assertRejects(() => w.store.importTkBatch(batch), StoreError);
    assertEquals(blocked.code, "conflict");
    // Not without the operator's signature; then released, and audited with the operator.
    assertEquals(errorOf(await call(w.handler, "POST", `/v1/terminals/${sn}/release`)), [
      401,
      "unauthorized",
    ]);
    assertExists(await w.store.getTerminal(sn));
    const r = await call(w.handler, "POST", `/v1/terminals/${sn}/release`, undefined, w.token);
    assertEquals([r.status, r.body.released], [200, "yes"]);
    assertEquals(await w.store.getTerminal(sn), null);
    const audit = await w.store.listAudit({ limit: 100, subject: sn, event: "flow_b_released" });
    assertEquals(audit.map((a) => a.detail), [
      "released by admin: the flow B registration is dropped",
    ]);
    // The batch imports, and the SN is now flow A's: nothing left to release.
    assertEquals((await w.store.importTkBatch(batch)).tks, 1);
    const again = await call(w.handler, "POST", `/v1/terminals/${sn}/release`, undefined, w.token);
    assertEquals(errorOf(again), [404, "unknown_terminal"]);
    assertEquals((await w.store.getTerminal(sn))!.orderId, "PO-R-1");
  } finally {
    await w.close();
  }
});
