/**
 * A man in the middle between the POS and the KMS: a transport wrapper that
 * reads every HTTP body and may replace it. Whatever it does (its own
 * Pu_hsm certificate, its own Pu_tek, a TMK of its choice under the public
 * Pu_tek, replays, flipped characters in every field of every message), it
 * never sees TMK and the PIN pad never stores a TMK other than the KMS's.
 *
 * TMK at the KMS is read back from its key block with the LMK the test
 * built the HSM from, so "never sees TMK" is checked against the real key.
 */
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import {
  exportSpkiPem,
  generateRsaKeyPair,
  importPublicKeyPem,
  kcv,
  oaepDecrypt,
  oaepEncrypt,
  type RsaPrivateKey,
  setOddParity,
  toHex,
  xorBytes,
} from "../../src/crypto/mod.ts";
import { unwrapKeyBlock } from "../../src/keyblock/mod.ts";
import { issueCertificate } from "../../src/pki/mod.ts";
import { AuthenticationError, ProtocolError, type Transport } from "../../src/protocol/mod.ts";
import { pinPadFlowBTestHarness } from "../../devices/pin_pad_flow_b.ts";
import { allCores, randomBytes } from "../_helpers.ts";
import { makePki, makeWorld, type World } from "./_world.ts";

const [core] = await allCores();
const pki = await makePki(core);

/** One exchange as the man in the middle saw it (after its own changes). */
interface Seen {
  method: string;
  path: string;
  request: string;
  status: number;
  response: string;
}

type Rewrite = (path: string, method: string, body: string) => string | undefined;

/** The wrapper: `onRequest` / `onResponse` may return a replacement body. */
function mitm(
  inner: Transport,
  seen: Seen[],
  onRequest: Rewrite = () => undefined,
  onResponse: Rewrite = () => undefined,
): Transport {
  return async (req) => {
    const url = new URL(req.url);
    let body = req.body ? await req.text() : "";
    body = onRequest(url.pathname, req.method, body) ?? body;
    const r = await inner(
      new Request(req.url, {
        method: req.method,
        headers: req.headers,
        body: body === "" ? undefined : body,
      }),
    );
    let out = await r.text();
    out = onResponse(url.pathname, req.method, out) ?? out;
    seen.push({
      method: req.method,
      path: url.pathname,
      request: body,
      status: r.status,
      response: out,
    });
    return new Response(out, { status: r.status, headers: r.headers });
  };
}

/** The LMK of a world (XOR of its components), to read TMK back for the checks. */
function lmkOf(w: World): Uint8Array {
  return w.lmkComponents.reduce((a, b) => xorBytes(a, b));
}

/** The KMS's clear TMK for an SN, or undefined if none was issued. */
async function kmsTmk(w: World, sn: string): Promise<Uint8Array | undefined> {
  const t = await w.store.getTerminal(sn);
  if (!t?.tmkBlock) return undefined;
  return (await unwrapKeyBlock(lmkOf(w), t.tmkBlock, { core })).key;
}

/**
 * The checks after every scenario: TMK (if any) appears in no body in any
 * encoding, none of the attacker's private keys decrypts any TMK
 * ciphertext it saw into TMK, and the PIN pad holds the KMS's TMK or none.
 */
async function neverLearnsTmk(
  w: World,
  sn: string,
  pad: ReturnType<World["newPad"]>,
  seen: Seen[],
  attackerKeys: RsaPrivateKey[],
  chosen: Uint8Array[] = [],
): Promise<void> {
  const tmk = await kmsTmk(w, sn);
  const padKeys = await pinPadFlowBTestHarness(pad).clearKeys();
  if (padKeys.tmk) {
    assert(tmk !== undefined, "the PIN pad holds a TMK the KMS never issued");
    assertEquals(padKeys.tmk, tmk, "the PIN pad holds a TMK other than the KMS's");
  }
  for (const c of chosen) {
    assertNotEquals(padKeys.tmk, c, "the PIN pad accepted the attacker's TMK");
  }
  if (!tmk) return;
  const needles = [toHex(tmk), toHex(tmk).toLowerCase(), btoa(String.fromCharCode(...tmk))];
  for (const s of seen) {
    for (const n of needles) {
      assert(
        !s.request.includes(n) && !s.response.includes(n),
        `TMK seen in ${s.method} ${s.path}`,
      );
    }
    const m = /"encryptedTmk":"([0-9A-F]+)"/.exec(s.response);
    if (!m) continue;
    const c = Uint8Array.from(m[1].match(/../g)!.map((h) => parseInt(h, 16)));
    for (const k of attackerKeys) {
      const got = await oaepDecrypt(k, c, { hash: "SHA-256", core }).catch(() => undefined);
      assertNotEquals(got, tmk, "an attacker key decrypts the TMK ciphertext");
    }
  }
}

Deno.test("MITM: its own Pu_hsm certificate is refused by the PIN pad; nothing is sent under it", async () => {
  const w = await makeWorld(core, { pki });
  try {
    const fake = await makePki(core, "TMK"); // copies every name of the real PKI
    const attacker = (await generateRsaKeyPair({ bits: 2048, core })).privateKey;
    const sn = "FM100001";
    const leaf = await issueCertificate({
      profile: "terminal-hsm",
      subject: { commonName: `Pu_hsm ${sn}`, serialNumber: sn },
      publicKey: attacker,
      notBefore: new Date(w.clock.ms() - 60_000),
      notAfter: new Date(w.clock.ms() + 86_400_000),
      issuer: { privateKey: fake.kmsCa.key, certificate: fake.kmsCa.certificate },
    }, { core });
    for (const ca of [fake.kmsCa.certificate, pki.kmsCa.certificate]) {
      const seen: Seen[] = [];
      const pad = w.newPad();
      const pos = w.terminal(sn, {
        pad,
        transport: mitm(w.handler, seen, undefined, (path, _m, body) => {
          if (!path.endsWith("/hsm-key")) return undefined;
          return JSON.stringify({ ...JSON.parse(body), certificate: leaf, caCertificate: ca });
        }),
      });
      const e = await assertRejects(() => pos.run(), AuthenticationError);
      assertEquals(e.code, "hsm_certificate_untrusted");
      assertEquals(pad.state().hsmKeyFor, undefined);
      assertEquals(seen.length, 1, "nothing after S1");
      await neverLearnsTmk(w, sn, pad, seen, [attacker, fake.kmsCa.key]);
    }
  } finally {
    await w.close();
  }
});

Deno.test("MITM: its own Pu_tek (with or without its own TK hash) is refused; then its own TMK, replays", async () => {
  // The swapped Pu_tek breaks the device signature over S3; the TK hash check behind it is
  // tested with re-signed requests in kms_flow_b_test.ts.
  const w = await makeWorld(core, { pki });
  try {
    const sn = "FM200001";
    const tek = await generateRsaKeyPair({ bits: 2048, core });
    const mine = exportSpkiPem(tek.publicKey);
    const seen: Seen[] = [];
    let mode: "pu_tek" | "pu_tek+hash" | "pass" = "pu_tek";
    let realPuTek = "";
    const chosen = setOddParity(randomBytes(16));
    const pad = w.newPad();
    const pos = w.terminal(sn, {
      pad,
      transport: mitm(w.handler, seen, (path, _m, body) => {
        if (!path.endsWith("/transport-key")) return undefined;
        const b = JSON.parse(body);
        realPuTek = b.puTek;
        if (mode === "pu_tek") return JSON.stringify({ ...b, puTek: mine });
        if (mode === "pu_tek+hash") {
          return JSON.stringify({ ...b, puTek: mine, tkHash: toHex(randomBytes(32)) });
        }
        return undefined;
      }),
    });
    await pos.requestHsmKey();
    for (const m of ["pu_tek", "pu_tek+hash"] as const) {
      mode = m;
      const e = await assertRejects(() => pos.sendTransportKey(), ProtocolError);
      assertEquals(e.code, "device_signature_invalid", m);
      assertEquals((await w.store.getTerminal(sn))!.puTek, null, m);
    }
    mode = "pass";
    await pos.sendTransportKey();
    assertEquals((await w.store.getTerminal(sn))!.puTek, realPuTek);
    await pos.authenticate();
    // Its own TMK under the real (public) Pu_tek, with the right KCV, in place of the KMS's.
    const enc = toHex(
      await oaepEncrypt(importPublicKeyPem(realPuTek), chosen, { hash: "SHA-256", core }),
    );
    const chosenKcv = toHex(await kcv(chosen, { method: "legacy", core }));
    const swap = mitm(w.handler, seen, undefined, (path, _m, body) => {
      if (!path.endsWith("/tmk")) return undefined;
      const b = JSON.parse(body);
      return JSON.stringify({ ...b, encryptedTmk: enc, tmkKcv: chosenKcv });
    });
    const pos2 = w.terminal(sn, { pad, transport: swap });
    const e = await assertRejects(() => pos2.downloadTmk(), ProtocolError);
    assertEquals(e.code, "mac_invalid");
    assertEquals(pad.state().tmkKcv, undefined);
    // The genuine download, then replays: the S5 answer, the S6 answer, the S3 request.
    const last = seen.findLast((s) => s.path.endsWith("/response"))!;
    await pos.authenticate();
    await pos.downloadTmk();
    const replay = await w.handler(
      new Request(`http://kms.test${last.path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: last.request,
      }),
    );
    assertEquals([replay.status, (await replay.json()).error.code], [401, "challenge_replayed"]);
    const oldTmk = seen.findLast((s) => s.path.endsWith("/tmk") && s.status === 200)!;
    await pad.installTmk(sn, JSON.parse(oldTmk.response)); // the KMS's own TMK again: fine
    await neverLearnsTmk(w, sn, pad, seen, [tek.privateKey], [chosen]);
    assertEquals(
      pad.state().tmkKcv,
      toHex(await kcv((await kmsTmk(w, sn))!, { method: "legacy", core })),
    );
  } finally {
    await w.close();
  }
});

/** Changes one character of one string field of a JSON body, keeping it well-formed. */
function flipOneField(body: string, pick: number): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object") return undefined;
  const fields: [Record<string, unknown>, string][] = [];
  const walk = (o: Record<string, unknown>) => {
    for (const [k, x] of Object.entries(o)) {
      if (typeof x === "string" && x.length > 0) fields.push([o, k]);
      else if (x && typeof x === "object") walk(x as Record<string, unknown>);
    }
  };
  walk(v as Record<string, unknown>);
  if (fields.length === 0) return undefined;
  const [o, k] = fields[pick % fields.length];
  const s = o[k] as string;
  // A position inside the value that is hex or base64 (not PEM armour or punctuation).
  const positions = [...s].map((c, i) => [c, i] as const).filter(([c]) => /[0-9A-Za-z]/.test(c))
    .map(([, i]) => i);
  const inner = positions.filter((i) => !/-----/.test(s.slice(Math.max(0, i - 30), i + 30)));
  const at = (inner.length ? inner : positions)[(pick * 7919) % (inner.length || positions.length)];
  if (at === undefined) return undefined;
  const c = s[at];
  const repl = /[0-9A-F]/.test(c) ? (c === "0" ? "1" : "0") : c === "A" ? "B" : "A";
  o[k] = s.slice(0, at) + repl + s.slice(at + 1);
  return JSON.stringify(v);
}

Deno.test("MITM: a changed character in any field of any message never yields a foreign TMK", async () => {
  const w = await makeWorld(core, { pki });
  try {
    // Six exchanges per run (S1, S3, S5 x2, S6, ack), each request and each answer in turn.
    let n = 0;
    const outcomes: string[] = [];
    for (let exchange = 0; exchange < 6; exchange++) {
      for (const side of ["request", "response"] as const) {
        const sn = `FM3${String(++n).padStart(5, "0")}`;
        const seen: Seen[] = [];
        let count = 0;
        const at = (body: string) =>
          count++ === exchange ? flipOneField(body, n * 31 + exchange) : undefined;
        const transport = mitm(
          w.handler,
          seen,
          (_p, _m, b) => (side === "request" ? at(b) : undefined),
          (_p, _m, b) => (side === "response" ? at(b) : undefined),
        );
        const pad = w.newPad();
        const pos = w.terminal(sn, { pad, transport });
        let outcome: string;
        try {
          const r = await pos.run();
          outcome = `ok ${r.state}`;
        } catch (e) {
          assert(e instanceof ProtocolError, `${sn}: ${e}`);
          outcome = (e as ProtocolError).code;
        }
        outcomes.push(`${side}#${exchange}:${outcome}`);
        await neverLearnsTmk(w, sn, pad, seen, []);
      }
    }
    // Where a flip lands in a field the flow relies on, a check refuses it; the rest (answers
    // the terminal only displays or does not rely on) change nothing. Either way the checks
    // above held.
    // Every device request is signed (S1, S3, S5) or MACed under the session key (S6, S7): a
    // changed character there is refused by the KMS before anything runs.
    const signed = ["device_signature_invalid", "device_certificate_untrusted"];
    const expected: [string, string[]][] = [
      ["request#0", signed],
      // The PIN pad checks Pu_hsm against the KMS CA written at flashing and ignores the CA
      // certificate the answer carries (the field this flip lands in).
      ["response#0", ["ok delivered"]],
      // S3: the signature covers every field; a Pu_tek that no longer parses is refused first.
      ["request#1", [...signed, "pu_tek_invalid"]],
      ["response#1", ["invalid_field"]],
      ["request#2", signed],
      ["response#2", ["challenge_unknown"]],
      ["request#3", signed],
      ["response#3", ["ok delivered"]], // the S5 result: the terminal only reads the session end
      ["request#4", ["session_mac_invalid"]],
      ["response#4", ["mac_invalid"]],
      ["request#5", ["session_mac_invalid"]],
      ["response#5", ["ok delivered"]], // the ack's answer: displayed only
    ];
    assertEquals(outcomes.length, expected.length);
    for (const [i, [where, allowed]] of expected.entries()) {
      const [at, got] = outcomes[i].split(":");
      assertEquals(at, where);
      assert(allowed.includes(got), `${where}: got ${got}, expected one of ${allowed.join(", ")}`);
    }
  } finally {
    await w.close();
  }
});
