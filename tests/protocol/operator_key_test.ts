/**
 * Operator requests signed with each operator's Ed25519 key: a signature
 * verifies only for the same key, method, path, query, body, time and
 * nonce; a malformed header, a foreign key and a stale time are refused
 * with their codes; the header names the operator; the PEM round-trips.
 *
 * @module
 */
import { assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { UnauthorizedError } from "../../src/protocol/errors.ts";
import {
  generateOperatorKey,
  importOperatorKey,
  parseOperatorHeader,
  signOperatorRequestWithKey,
  verifyOperatorRequestWithKey,
} from "../../src/protocol/operator_key.ts";

const NOW = new Date("2026-11-23T12:00:00.000Z");
const NONCE = "00112233445566778899aabbccddeeff";
const enc = new TextEncoder();
const req = (over: Partial<{ method: string; url: string; body: Uint8Array }> = {}) => ({
  method: "POST",
  url: "http://kms.test/v1/terminals/SN000001/unlock?x=1",
  body: enc.encode('{"a":1}'),
  ...over,
});

async function verify(publicKey: string, header: string, r = req(), now = NOW) {
  const h = parseOperatorHeader(header);
  if (h.scheme !== "ed25519") throw new Error("not an Ed25519 header");
  return await verifyOperatorRequestWithKey(publicKey, h.parts, r, now);
}

Deno.test("operator key: the PEM round-trips and a signed request verifies once per field", async () => {
  const k = await generateOperatorKey();
  assertMatch(k.publicKey, /^[0-9A-F]{64}$/);
  const imported = await importOperatorKey(k.privateKeyPem);
  assertEquals(imported.publicKey, k.publicKey);
  const header = await signOperatorRequestWithKey(imported.privateKey, "alice", req(), {
    now: NOW,
    nonce: NONCE,
  });
  assertMatch(header, /^TMK-ED25519 key=alice,ts=\d+,nonce=[0-9a-f]{32},sig=[0-9a-f]{128}$/);
  const ok = await verify(k.publicKey, header);
  assertEquals(ok.nonce, NONCE);
  const other = await generateOperatorKey();
  for (
    const [what, publicKey, r] of [
      ["another operator's key", other.publicKey, req()],
      ["another method", k.publicKey, req({ method: "PUT" })],
      [
        "another path",
        k.publicKey,
        req({ url: "http://kms.test/v1/terminals/SN000002/unlock?x=1" }),
      ],
      [
        "another query",
        k.publicKey,
        req({ url: "http://kms.test/v1/terminals/SN000001/unlock?x=2" }),
      ],
      ["another body", k.publicKey, req({ body: enc.encode('{"a":2}') })],
    ] as const
  ) {
    const e = await assertRejects(() => verify(publicKey, header, r), UnauthorizedError, "", what);
    assertEquals(e.code, "unauthorized", what);
  }
  // The key id is signed: the same signature under another name fails.
  const renamed = header.replace("key=alice", "key=bobby");
  assertEquals(
    (await assertRejects(() => verify(k.publicKey, renamed), UnauthorizedError)).code,
    "unauthorized",
  );
  const late = new Date(NOW.getTime() + 301_000);
  assertEquals(
    (await assertRejects(() => verify(k.publicKey, header, req(), late), UnauthorizedError)).code,
    "request_expired",
  );
});

Deno.test("operator key: headers, ids and keys in the wrong form are refused precisely", async () => {
  assertEquals(parseOperatorHeader("TMK-HMAC-SHA256 ts=1,nonce=x,sig=y").scheme, "hmac");
  for (const h of [null, ""]) {
    assertEquals(
      assertThrows(() => parseOperatorHeader(h), UnauthorizedError).code,
      "unauthorized",
    );
  }
  const bad = assertThrows(
    () => parseOperatorHeader("TMK-ED25519 key=Alice,ts=1,nonce=00,sig=00"),
    UnauthorizedError,
  );
  assertMatch(bad.message, /key=<operator id>/);
  const k = await importOperatorKey((await generateOperatorKey()).privateKeyPem);
  await assertRejects(
    () => signOperatorRequestWithKey(k.privateKey, "Bad Id", req()),
    RangeError,
    "keyId must be",
  );
  await assertRejects(() => importOperatorKey("not a key"), RangeError, "PKCS#8 PEM");
  await assertRejects(
    () => importOperatorKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
    RangeError,
    "not an Ed25519",
  );
});
