/**
 * The KMS's key operations (S14-S15) on its HSM: the batch MAC under MAK,
 * TK from PK to the LMK (KCV and SHA-256 checked inside the HSM), and a TMK
 * generated and exported under TK (TK's hash checked first).
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import { fromHex } from "../../src/crypto/mod.ts";
import { type HsmMode, KEY_TEMPLATES, type TestKeyObserver } from "../../src/hsm/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { hsmCall, openHsm, parseComponents } from "../_lib/hsm.ts";
import type { KmsKeyOps } from "./service.ts";

/**
 * Opens the KMS HSM (LMK from components) and forms PK and MAK from theirs.
 *
 * @param o LMK components (`CUSTODIAN:KEY:KCV`) and KCV, HSM mode, PK and MAK components
 *   (`[CUSTODIAN:]KEY:KCV`), core, store (audit log).
 * @returns the operations the KMS service needs.
 */
export async function kmsKeyOps(o: {
  lmkComponents: string[];
  lmkKcv?: string;
  hsmMode: HsmMode;
  pkComponents: string[];
  makComponents: string[];
  core: CryptoCore;
  store: Store;
  /** Tests only: see `SoftwareHsmOptions.testKeyObserver`. */
  testKeyObserver?: TestKeyObserver;
}): Promise<KmsKeyOps> {
  const hsm = await openHsm({
    lmkComponents: o.lmkComponents,
    lmkKcv: o.lmkKcv,
    mode: o.hsmMode,
    core: o.core,
    store: o.store,
    actor: "kms",
    testKeyObserver: o.testKeyObserver,
  });
  const pk = await hsm.importKeyFromComponents(
    parseComponents(o.pkComponents, "PK component"),
    KEY_TEMPLATES.PK,
  );
  const mak = await hsm.importKeyFromComponents(
    parseComponents(o.makComponents, "MAK component"),
    KEY_TEMPLATES.MAK,
  );
  return {
    verifyBatchMac: (data, mac) =>
      hsmCall("batch MAC", () => hsm.verifyMac(mak.keyBlock, data, fromHex(mac))),
    importTk: (tkUnderPk, expected) =>
      hsmCall("TK import from PK", async () => {
        const r = await hsm.importKey(tkUnderPk, pk.keyBlock, {
          template: KEY_TEMPLATES.TK,
          expectedKcv: expected.kcv,
          expectedHash: expected.hash,
        });
        return { tkBlock: r.keyBlock };
      }),
    issueTmk: (tkBlock, tkHash) =>
      hsmCall("TMK issuance", async () => {
        const r = await hsm.generateKeyUnderKek(KEY_TEMPLATES.TMK, tkBlock, {
          expectedKekHash: tkHash,
        });
        return { tmkBlock: r.keyBlock, tmkUnderTk: r.exported, tmkKcv: r.kcv };
      }),
  };
}
