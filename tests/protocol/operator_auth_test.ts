/**
 * The S1-S9 state machine, each failure with its own code. The crypto the
 * machine needs (S6 chain, S7 recovery) is given here by node:crypto, an
 * implementation independent of ours; certificates are made with node-forge.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import nodeCrypto from "node:crypto";
import { forge } from "../../src/core/mod.ts";
import {
  type AuthCrypto,
  decodeRndTime,
  encodeRndTime,
  OperatorAuthenticator,
} from "../../src/protocol/operator_auth.ts";
import { AuthenticationError } from "../../src/protocol/errors.ts";

function keyPair() {
  const { privateKey } = nodeCrypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  return { node: privateKey, forge: forge.pki.privateKeyFromPem(pem) };
}

function makeCert(
  subject: string,
  key: ReturnType<typeof keyPair>,
  issuer: { name: string; key: ReturnType<typeof keyPair> },
  notBefore: Date,
  notAfter: Date,
  ca: boolean,
): string {
  const c = forge.pki.createCertificate();
  c.serialNumber = "0" + nodeCrypto.randomBytes(8).toString("hex");
  c.validity.notBefore = notBefore;
  c.validity.notAfter = notAfter;
  c.publicKey = forge.pki.setRsaPublicKey(key.forge.n, key.forge.e);
  c.setSubject([{ name: "commonName", value: subject }]);
  c.setIssuer([{ name: "commonName", value: issuer.name }]);
  c.setExtensions([{ name: "basicConstraints", cA: ca }]);
  c.sign(issuer.key.forge, forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86400_000;
const rootKey = keyPair();
const otherKey = keyPair();
const opKey = keyPair();
const root = { name: "OpRCRT Test Root", key: rootKey };
const rootPem = makeCert(
  root.name,
  rootKey,
  root,
  new Date(NOW - DAY),
  new Date(NOW + 365 * DAY),
  true,
);
const opPem = makeCert(
  "Operator 0042",
  opKey,
  root,
  new Date(NOW - DAY),
  new Date(NOW + DAY),
  false,
);
const expiredPem = makeCert(
  "Operator 0042",
  opKey,
  root,
  new Date(NOW - 3 * DAY),
  new Date(NOW - DAY),
  false,
);
const futurePem = makeCert(
  "Operator 0042",
  opKey,
  root,
  new Date(NOW + DAY),
  new Date(NOW + 3 * DAY),
  false,
);
const foreignPem = makeCert(
  "Operator 0042",
  opKey,
  { name: root.name, key: otherKey },
  new Date(NOW - DAY),
  new Date(NOW + DAY),
  false,
);

/** S6/S7 by node:crypto (independent of src/crypto and src/pki). */
const nodeAuthCrypto: AuthCrypto = {
  checkCertificate(pem, rootPem, at) {
    let cert: nodeCrypto.X509Certificate;
    try {
      cert = new nodeCrypto.X509Certificate(pem);
    } catch {
      return Promise.reject(new AuthenticationError("certificate_invalid", "unparsable"));
    }
    const r = new nodeCrypto.X509Certificate(rootPem);
    if (at < new Date(cert.validFrom)) {
      return Promise.reject(new AuthenticationError("certificate_not_yet_valid", "not yet"));
    }
    if (at > new Date(cert.validTo)) {
      return Promise.reject(new AuthenticationError("certificate_expired", "expired"));
    }
    if (!cert.verify(r.publicKey)) {
      return Promise.reject(new AuthenticationError("certificate_untrusted", "other CA"));
    }
    const jwk = cert.publicKey.export({ format: "jwk" });
    return Promise.resolve({
      subject: cert.subject,
      serial: cert.serialNumber,
      publicKey: {
        n: new Uint8Array(Buffer.from(jwk.n!, "base64url")),
        e: new Uint8Array(Buffer.from(jwk.e!, "base64url")),
      },
    });
  },
  recover(publicKey, c) {
    const key = nodeCrypto.createPublicKey({
      key: {
        kty: "RSA",
        n: Buffer.from(publicKey.n).toString("base64url"),
        e: Buffer.from(publicKey.e).toString("base64url"),
      },
      format: "jwk",
    });
    try {
      return Promise.resolve(
        new Uint8Array(
          nodeCrypto.publicDecrypt({ key, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, c),
        ),
      );
    } catch {
      return Promise.reject(new AuthenticationError("cryptogram_invalid", "bad padding"));
    }
  },
};

function sign(key: nodeCrypto.KeyObject, msg: Uint8Array): Uint8Array {
  return new Uint8Array(
    nodeCrypto.privateEncrypt({ key, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, msg),
  );
}

function setup(clock = { t: NOW }) {
  return {
    clock,
    pos: new OperatorAuthenticator({
      root: rootPem,
      windowMs: 30_000,
      now: () => clock.t,
      crypto: nodeAuthCrypto,
    }),
  };
}

const rnd = () => new Uint8Array(nodeCrypto.randomBytes(16));

Deno.test("operator auth: Rnd || TimeOne encodes to 24 bytes and back", () => {
  const r = rnd();
  const m = encodeRndTime(r, NOW);
  assertEquals(m.length, 24);
  assertEquals(decodeRndTime(m), { rnd: r, timeOneMs: NOW });
  assertThrows(
    () => encodeRndTime(new Uint8Array(15), NOW),
    RangeError,
    "rnd must be 16 bytes, got 15",
  );
  assertThrows(
    () => encodeRndTime(r, -1),
    RangeError,
    "timeOneMs must be a non-negative safe integer, got -1",
  );
  assertThrows(() => decodeRndTime(new Uint8Array(23)), AuthenticationError, "must be 24 bytes");
});

Deno.test("operator auth: S1-S9 pass with a good card, and report what they saw", async () => {
  const { pos, clock } = setup();
  const r = rnd();
  assertEquals(pos.begin(r).rnd.length, 32);
  clock.t += 1500;
  const c = sign(opKey.node, encodeRndTime(r, NOW + 1000));
  const ok = await pos.verify({ certificate: opPem, cryptogram: c });
  assertEquals(ok.operator, "CN=Operator 0042");
  assertEquals(ok.skewMs, 500);
  assertEquals(ok.timeOneMs, NOW + 1000);
});

// [name, how to build the answer, expected code]
type Case = [
  string,
  (r: Uint8Array, pos: OperatorAuthenticator, clock: { t: number }) => {
    certificate: string;
    cryptogram: Uint8Array;
  },
  string,
];
const FAILURES: Case[] = [
  [
    "S6 expired OpWCRT",
    (r) => ({ certificate: expiredPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW)) }),
    "certificate_expired",
  ],
  [
    "S6 not yet valid OpWCRT",
    (r) => ({ certificate: futurePem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW)) }),
    "certificate_not_yet_valid",
  ],
  [
    "S6 OpWCRT from another CA",
    (r) => ({ certificate: foreignPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW)) }),
    "certificate_untrusted",
  ],
  [
    "S6 garbage certificate",
    (r) => ({
      certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      cryptogram: sign(opKey.node, encodeRndTime(r, NOW)),
    }),
    "certificate_invalid",
  ],
  [
    "S7 signed by another key",
    (r) => ({ certificate: opPem, cryptogram: sign(otherKey.node, encodeRndTime(r, NOW)) }),
    "cryptogram_invalid",
  ],
  [
    "S7 recovered message of wrong length",
    (r) => ({ certificate: opPem, cryptogram: sign(opKey.node, new Uint8Array([...r, 1, 2])) }),
    "cryptogram_invalid",
  ],
  [
    "S8 another Rnd",
    () => ({ certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(rnd(), NOW)) }),
    "rnd_mismatch",
  ],
  [
    "S9 TimeOne too old",
    (r) => ({ certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW - 30_001)) }),
    "time_outside_window",
  ],
  [
    "S9 TimeOne in the future",
    (r) => ({ certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW + 30_001)) }),
    "time_outside_window",
  ],
  ["challenge too old", (r, _p, clock) => {
    clock.t += 30_001;
    return { certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(r, clock.t)) };
  }, "challenge_expired"],
];

Deno.test("operator auth: each failed check has its own code", async () => {
  for (const [name, build, code] of FAILURES) {
    const { pos, clock } = setup({ t: NOW });
    const r = rnd();
    pos.begin(r);
    const answer = build(r, pos, clock);
    const e = await assertRejects(() => pos.verify(answer), AuthenticationError, undefined, name);
    assertEquals(e.code, code, name);
  }
});

Deno.test("operator auth: a replayed answer fails even inside the window", async () => {
  const { pos } = setup();
  const r = rnd();
  pos.begin(r);
  const answer = { certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW)) };
  await pos.verify(answer);
  const again = await assertRejects(() => pos.verify(answer), AuthenticationError);
  assertEquals(again.code, "rnd_unknown");
  // A new challenge: the old answer is for the old Rnd.
  pos.begin(rnd());
  const old = await assertRejects(() => pos.verify(answer), AuthenticationError);
  assertEquals(old.code, "rnd_mismatch");
  // The same Rnd cannot be issued twice.
  const e = assertThrows(() => pos.begin(r), AuthenticationError);
  assertEquals(e.code, "rnd_replayed");
});

Deno.test("operator auth: a failed answer consumes the challenge", async () => {
  const { pos } = setup();
  const r = rnd();
  pos.begin(r);
  await assertRejects(
    () =>
      pos.verify({ certificate: opPem, cryptogram: sign(otherKey.node, encodeRndTime(r, NOW)) }),
    AuthenticationError,
  );
  const e = await assertRejects(
    () => pos.verify({ certificate: opPem, cryptogram: sign(opKey.node, encodeRndTime(r, NOW)) }),
    AuthenticationError,
  );
  assertEquals(e.code, "rnd_unknown");
});

Deno.test("operator auth: bad options", () => {
  assertThrows(
    () => new OperatorAuthenticator({ root: rootPem, windowMs: 0, crypto: nodeAuthCrypto }),
    RangeError,
    "windowMs must be a positive integer, got 0",
  );
});
