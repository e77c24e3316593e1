/**
 * S5 of CN103714641A (claim 4) as state machines: the PIN pad's
 * {@link MutualAuthInitiator} against the KMS's {@link MutualAuthResponder},
 * with TDES from the crypto core and the challenge ledger of the real store
 * where it is available. Every refusal has its own code.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  type AukCipher,
  AuthenticationError,
  eitherOf,
  flowBPolicy,
  FlowBTmkAckRequest,
  FlowBTmkRequest,
  MutualAuthInitiator,
  MutualAuthResponder,
  tkHashInput,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { allCores, toHex } from "../_helpers.ts";
import { flowBLedgers } from "./_ledgers.ts";

const [core] = await allCores();

function cipher(key: Uint8Array): AukCipher {
  return {
    encrypt: (b) => Promise.resolve(core.tdesEncryptEcb(key, b)),
    decrypt: (b) => Promise.resolve(core.tdesDecryptEcb(key, b)),
  };
}

const AUK = crypto.getRandomValues(new Uint8Array(16));
const OTHER = crypto.getRandomValues(new Uint8Array(16));

function clock(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
  let t = start;
  return { ms: () => t, date: () => new Date(t), advance: (d: number) => (t += d) };
}

Deno.test("the TK hash input is a fixed byte string of two SHA-256 digests", () => {
  const x = tkHashInput(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
  assertEquals(toHex(x), "544D4B422D544B31" + "01".repeat(32) + "02".repeat(32));
  assertThrows(
    () => tkHashInput(new Uint8Array(31), new Uint8Array(32)),
    RangeError,
    "aukDigest must be 32",
  );
  assertThrows(() => tkHashInput(new Uint8Array(32), new Uint8Array(0)), RangeError, "puTekDigest");
  assertThrows(() => tkHashInput("x" as unknown as Uint8Array, new Uint8Array(32)), TypeError);
});

Deno.test("flowBPolicy: defaults and bad values", () => {
  assertEquals(flowBPolicy(), { challengeTtlMs: 30000, sessionTtlMs: 60000, maxFailures: 3 });
  const bad: [Record<string, number>, string][] = [
    [{ challengeTtlMs: 0 }, "challengeTtlMs must be"],
    [{ sessionTtlMs: 1.5 }, "sessionTtlMs must be"],
    [{ maxFailures: 0 }, "maxFailures must be"],
    [{ maxFailures: 1001 }, "maxFailures must be"],
  ];
  for (const [p, msg] of bad) assertThrows(() => flowBPolicy(p), RangeError, msg);
});

Deno.test("eitherOf: first matching alternative, else the first error", () => {
  const s = eitherOf([FlowBTmkAckRequest, FlowBTmkRequest], "either");
  assertEquals(s.parse({ mac: "0011223344556677" }, "b"), { mac: "0011223344556677" });
  assertThrows(() => s.parse({ x: 1 }, "b"), ValidationError, "unknown field");
});

Deno.test("initiator: every refusal has its code, and Rnd1 is single-use", async () => {
  const c = clock();
  const pad = new MutualAuthInitiator({ now: c.ms, ttlMs: 1000 });
  const kms = cipher(AUK);
  const answerFor = async (rnd1: string, rnd2 = "0102030405060708", key = kms) => ({
    crnd1: toHex(
      await key.encrypt(Uint8Array.from(rnd1.match(/../g)!.map((h) => parseInt(h, 16)))),
    ),
    rnd2,
  });
  // no outstanding Rnd1
  await assertRejects(
    () => pad.answer({ crnd1: "00".repeat(8), rnd2: "00".repeat(8) }, kms),
    AuthenticationError,
    "no outstanding Rnd1",
  );
  // right answer
  let { rnd1 } = pad.begin();
  const ok = await pad.answer(await answerFor(rnd1), cipher(AUK));
  assertEquals(ok.crnd2, toHex(core.tdesEncryptEcb(AUK, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))));
  assertEquals(ok.rnd1, rnd1, "the Rnd1 answered, for the session key's context");
  // the same answer again: consumed
  await assertRejects(
    () => pad.answer({ crnd1: "00".repeat(8), rnd2: "00".repeat(8) }, kms),
    AuthenticationError,
    "no outstanding",
  );
  // a KMS without AUK
  ({ rnd1 } = pad.begin());
  const e1 = await assertRejects(
    () => answerFor(rnd1, "1111111111111111", cipher(OTHER)).then((a) => pad.answer(a, kms)),
    AuthenticationError,
  );
  assertEquals((e1 as AuthenticationError).code, "kms_not_authenticated");
  // too late
  ({ rnd1 } = pad.begin());
  const late = await answerFor(rnd1, "2222222222222222");
  c.advance(1001);
  const e2 = await assertRejects(() => pad.answer(late, kms), AuthenticationError);
  assertEquals((e2 as AuthenticationError).code, "challenge_expired");
  // reflection: Rnd2 = our own Rnd1
  ({ rnd1 } = pad.begin());
  const e3 = await assertRejects(
    async () => pad.answer(await answerFor(rnd1, rnd1), kms),
    AuthenticationError,
  );
  assertEquals((e3 as AuthenticationError).code, "rnd_reflected");
  // a Rnd2 already answered once (replayed KMS answer)
  ({ rnd1 } = pad.begin());
  const e4 = await assertRejects(
    async () => pad.answer(await answerFor(rnd1), kms),
    AuthenticationError,
  );
  assertEquals((e4 as AuthenticationError).code, "rnd_reflected");
});

for (const { name, make } of flowBLedgers()) {
  Deno.test(`responder (${name}): claim 4 round trip, then every refusal`, async () => {
    const c = clock();
    const { ledger, sn, other, close } = await make(c.date);
    const events: string[] = [];
    const kms = new MutualAuthResponder({
      ledger,
      now: c.date,
      policy: { challengeTtlMs: 1000, sessionTtlMs: 5000, maxFailures: 2 },
      onEvent: (e) => void events.push(`${e.event} ${e.sn}`),
    });
    const pad = new MutualAuthInitiator({ now: c.ms });
    try {
      // success
      const ch = await kms.open(sn, pad.begin(), cipher(AUK));
      const ans = await pad.answer(ch, cipher(AUK));
      const ok = await kms.verify(sn, ch.challengeId, ans, cipher(AUK));
      assertEquals(ok.sessionExpiresAt, new Date(c.ms() + 5000).toISOString());
      assertEquals(ok.sessionId, ch.challengeId, "the session is the passed challenge");
      // replay of the same answer
      const code = async (p: Promise<unknown>) =>
        ((await assertRejects(() => p, AuthenticationError)) as AuthenticationError).code;
      assertEquals(
        await code(kms.verify(sn, ch.challengeId, ans, cipher(AUK))),
        "challenge_replayed",
      );
      // unknown id
      assertEquals(
        await code(kms.verify(sn, "00".repeat(16), ans, cipher(AUK))),
        "challenge_unknown",
      );
      // another SN's challenge
      const ch2 = await kms.open(sn, pad.begin(), cipher(AUK));
      assertEquals(
        await code(kms.verify(other, ch2.challengeId, ans, cipher(AUK))),
        "challenge_wrong_terminal",
      );
      // expired
      const ch3 = await kms.open(sn, { rnd1: "A1A2A3A4A5A6A7A8" }, cipher(AUK));
      c.advance(1001);
      assertEquals(
        await code(kms.verify(sn, ch3.challengeId, { crnd2: "00".repeat(8) }, cipher(AUK))),
        "challenge_expired",
      );
      // a replayed Rnd1, and reflection of KMS's own Rnd2 as Rnd1
      assertEquals(
        await code(kms.open(sn, { rnd1: "A1A2A3A4A5A6A7A8" }, cipher(AUK))),
        "rnd_replayed",
      );
      const ch4 = await kms.open(sn, { rnd1: "B1B2B3B4B5B6B7B8" }, cipher(AUK));
      assertEquals(await code(kms.open(sn, { rnd1: ch4.rnd2 }, cipher(AUK))), "rnd_replayed");
      // Replays, unknown, expired and foreign challenges, reused Rnd1s: refused, nothing
      // recorded (anyone who overheard an exchange can send them again).
      assertEquals(events.filter((e) => e === `lockout ${sn}`).length, 0);
      assertEquals(
        events.filter((e) => e.startsWith("challenge_failed")),
        [],
        "replay, unknown id, foreign, expired, two reused Rnd1: no event",
      );
      // A wrong answer (counted: 1 of 2), then a wrong AUK on the terminal side (2 of 2): locked.
      const ch6 = await kms.open(sn, { rnd1: "C1C2C3C4C5C6C7C8" }, cipher(AUK));
      assertEquals(
        await code(kms.verify(sn, ch6.challengeId, { crnd2: "00".repeat(8) }, cipher(AUK))),
        "terminal_not_authenticated",
      );
      assertEquals(events.filter((e) => e === `lockout ${sn}`).length, 0);
      const wrong = {
        crnd2: toHex(core.tdesEncryptEcb(
          OTHER,
          Uint8Array.from(ch4.rnd2.match(/../g)!.map((h) => parseInt(h, 16))),
        )),
      };
      assertEquals(
        await code(kms.verify(sn, ch4.challengeId, wrong, cipher(AUK))),
        "terminal_not_authenticated",
      );
      assertEquals(events.filter((e) => e === `lockout ${sn}`).length, 1);
      // locked: even a right answer does not open a session
      const ch5 = await kms.open(sn, pad.begin(), cipher(AUK));
      const ans5 = await pad.answer(ch5, cipher(AUK));
      assertEquals(
        await code(kms.verify(sn, ch5.challengeId, ans5, cipher(AUK))),
        "terminal_locked",
      );
    } finally {
      await close();
    }
  });
}
