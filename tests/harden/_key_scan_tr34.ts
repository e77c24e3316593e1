/**
 * TEST ONLY: the TR-34 error paths of the key scan's run
 * (`_key_scan_run.ts`), against the demo's running KMS: a key token for an
 * unbound SN, a KRD certificate of another SN, a replayed random number (at
 * the KMS and at the PIN pad), a header the TMK slot forbids, a token for
 * another KRD. Each is printed by the runner's `expectRefused` and
 * `expectThrows`; the PIN pads made here are returned so their keys join
 * the scan.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { callJson, Tr34KeyTokenResponse, type Transport } from "../../src/protocol/mod.ts";
import { TMK_POLICY } from "../../src/tr34/mod.ts";
import type { RunningDemo } from "../../demo/run.ts";
import { makeTr34PinPad } from "../../demo/tr34.ts";
import type { PinPadTr34 } from "../../devices/pin_pad_tr34.ts";
import { Tr34Terminal } from "../../devices/pos_tr34.ts";

/** The runner's checks: a refused request, a refused device call. */
export interface Expect {
  refused(name: string, method: string, url: string, body: unknown, codes: string[]): Promise<void>;
  throws(name: string, fn: () => Promise<unknown>, codes: string[]): Promise<void>;
}

/**
 * Runs the TR-34 error paths.
 *
 * @returns the PIN pads they made.
 */
export async function tr34Errors(
  d: RunningDemo,
  transport: Transport,
  core: CryptoCore,
  expect: Expect,
): Promise<PinPadTr34[]> {
  const a = await makeTr34PinPad("TE00000001", d.pki, core);
  const b = await makeTr34PinPad("TE00000002", d.pki, core);
  const strict = await makeTr34PinPad("TE00000003", d.pki, core, {
    ...TMK_POLICY,
    exportability: ["N"],
  });
  const pos = (sn: string, pad: PinPadTr34) =>
    new Tr34Terminal({ sn, pinPad: pad, transport, kmsUrl: d.kmsUrl });
  const url = (sn: string, step: string) => `${d.kmsUrl}/v1/terminals/${sn}/tr34/${step}`;
  await expect.refused("TR-34 key token before binding", "POST", url("TE00000001", "key-token"), {
    credentialToken: await a.credentialToken(),
    randomNumberToken: a.randomNumberToken(),
  }, ["not_bound"]);
  await expect.refused(
    "TR-34 binding with another SN's KRD certificate",
    "POST",
    url("TE00000009", "bind"),
    {
      credentialToken: await a.credentialToken(),
    },
    ["krd_untrusted"],
  );
  await pos("TE00000001", a).bind();
  await pos("TE00000002", b).bind();
  const req = {
    credentialToken: await a.credentialToken(),
    randomNumberToken: a.randomNumberToken(),
  };
  const first = await callJson(
    transport,
    "POST",
    url("TE00000001", "key-token"),
    req,
    Tr34KeyTokenResponse,
  );
  await expect.refused(
    "TR-34 random number replayed",
    "POST",
    url("TE00000001", "key-token"),
    req,
    [
      "nonce_replayed",
    ],
  );
  await a.installTmk(first.body.keyToken, first.body.tmkKcv);
  await expect.throws(
    "TR-34 key token replayed to the PIN pad",
    () => a.installTmk(first.body.keyToken, first.body.tmkKcv),
    ["nonce_replayed"],
  );
  const other = await callJson(transport, "POST", url("TE00000001", "key-token"), {
    credentialToken: await a.credentialToken(),
    randomNumberToken: b.randomNumberToken(),
  }, Tr34KeyTokenResponse);
  await expect.throws(
    "TR-34 key token for another KRD",
    () => b.installTmk(other.body.keyToken, other.body.tmkKcv),
    ["wrong_recipient"],
  );
  await pos("TE00000003", strict).bind();
  await expect.throws(
    "TR-34 header the TMK slot forbids",
    () => pos("TE00000003", strict).loadTmk(),
    ["header_forbidden"],
  );
  return [a, b, strict];
}
