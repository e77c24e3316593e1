/**
 * How an HSM refusal reaches the wire: a refusal about the request's keys
 * (usage, KCV, hash, a block that does not unwrap) is the client's 422 with
 * the protocol's code; a condition of the HSM itself (its state, its LMK)
 * is the server's 503 `hsm_unavailable`, logged, never blamed on the client.
 */
import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { HsmError, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { IntegrityError } from "../../src/protocol/mod.ts";
import { errorResponse } from "../../servers/_lib/errors.ts";
import { HSM_CONDITIONS, hsmCall } from "../../servers/_lib/hsm.ts";
import { makeHsm } from "../hsm/_fixtures.ts";

const core = await loadCore("wasm");

async function answer(p: Promise<unknown>): Promise<[number, string, string]> {
  const e = await assertRejects(() => p);
  const { response } = errorResponse(e);
  const body = await response.json();
  return [response.status, body.error.code, body.error.message];
}

Deno.test("hsmCall: a refusal about the request's key is 422 with its code", async () => {
  const { hsm } = await makeHsm(core);
  const tmk = (await hsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock;
  // A TMK (K0) asked to MAC: key usage.
  const e = await assertRejects(
    () => hsmCall("batch MAC", () => hsm.generateMac(tmk, new Uint8Array(8))),
    IntegrityError,
  );
  assertEquals(e.code, "key_usage");
  assertEquals(
    (await answer(hsmCall("batch MAC", () => hsm.generateMac(tmk, new Uint8Array(8)))))
      .slice(0, 2),
    [422, "key_usage"],
  );
  // A hash that does not match: tk_hash_mismatch.
  const [status, code] = await answer(
    hsmCall(
      "TMK issuance",
      () => hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tmk, { expectedKekHash: "00".repeat(32) }),
    ),
  );
  assertEquals([status, code], [422, "tk_hash_mismatch"]);
});

Deno.test("hsmCall: the HSM's own state is 503 hsm_unavailable, with no detail on the wire", async () => {
  const { hsm } = await makeHsm(core);
  const tmk = (await hsm.generateKey(KEY_TEMPLATES.TMK)).keyBlock;
  await hsm.setState("offline", "test");
  const e = await assertRejects(() => hsmCall("TMK issuance", () => hsm.keyInfo(tmk)));
  assertInstanceOf(e, HsmError);
  assertEquals(e.code, "wrong_state");
  assertEquals(await answer(hsmCall("TMK issuance", () => hsm.keyInfo(tmk))), [
    503,
    "hsm_unavailable",
    "the HSM cannot serve requests now; the server log has the detail",
  ]);
  assertEquals(errorResponse(e).error.expected, false, "logged as unexpected, with its detail");
  assertEquals([...HSM_CONDITIONS].sort(), [
    "lmk_present",
    "no_lmk",
    "self_test",
    "test_only",
    "wrong_state",
  ]);
});
