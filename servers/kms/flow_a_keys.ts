/**
 * The KMS's key operations of flow A's proof of possession (S16-S17,
 * `src/protocol/flow_a_proof.ts`) on its HSM: the tags of its nonces under
 * the challenge key, and the device's MACs under keys derived from TK and
 * TMK (`Hsm.verifyDerivedMac`: the derived keys never leave the HSM).
 *
 * The challenge key is made once by the HSM of the first KMS that starts on
 * a database and kept there as a key block under the LMK
 * (`Store.putServerKey`): every KMS instance on that database tags and
 * checks the same nonces, so a nonce issued by one is accepted by another.
 *
 * @module
 */
import { type Hsm, KEY_TEMPLATES } from "../../src/hsm/mod.ts";
import { proofDerivation, type ProofStep, ValidationError } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { hsmCall } from "../_lib/hsm.ts";

/** The name the challenge key is kept under in the store. */
export const CHALLENGE_KEY_NAME = "flow-a-challenge";

/** What flow A's delivery needs from the HSM. */
export interface FlowAProofOps {
  /** The retail MAC (ISO 9797-1 alg. 3, 8 bytes) of a nonce's fields under the challenge key. */
  tagNonce(data: Uint8Array): Promise<Uint8Array>;
  /** Checks a nonce's tag under the challenge key, in constant time. */
  verifyNonceTag(data: Uint8Array, tag: Uint8Array): Promise<boolean>;
  /**
   * Checks a device's proof: a CMAC under the key derived from `keyBlock`
   * (TK for "download", TMK for "ack") with the step's label and the SN.
   */
  verifyProof(
    keyBlock: string,
    step: ProofStep,
    sn: string,
    data: Uint8Array,
    mac: Uint8Array,
  ): Promise<boolean>;
}

/**
 * Loads the challenge key (made by `hsm` and kept in `store` if the
 * database has none yet) and returns the operations.
 *
 * @param hsm the KMS's HSM (authorized, LMK loaded).
 * @param store the KMS's store.
 * @param now the clock of the key's creation record.
 * @returns the operations.
 * @throws {ValidationError} `invalid_challenge_key` if the kept key block is not an M3 key under this LMK.
 */
export async function flowAProofOps(
  hsm: Hsm,
  store: Store,
  now: () => Date = () => new Date(),
): Promise<FlowAProofOps> {
  const fresh = await hsm.generateKey(KEY_TEMPLATES.CHALLENGE);
  const key = (await store.putServerKey({
    name: CHALLENGE_KEY_NAME,
    keyBlock: fresh.keyBlock,
    kcv: fresh.kcv,
    createdAt: now(),
  })).keyBlock;
  let usage: string;
  try {
    usage = (await hsm.keyInfo(key)).keyUsage;
  } catch (e) {
    throw new ValidationError(
      "invalid_challenge_key",
      `the flow A challenge key in the database is not a key block under this KMS's LMK: ${
        (e as Error).message
      }`,
    );
  }
  if (usage !== KEY_TEMPLATES.CHALLENGE.keyUsage) {
    throw new ValidationError(
      "invalid_challenge_key",
      `the flow A challenge key in the database has usage ${usage}, not ${KEY_TEMPLATES.CHALLENGE.keyUsage}`,
    );
  }
  if (key === fresh.keyBlock) {
    await store.appendAudit({
      at: now(),
      actor: "kms",
      event: "challenge_key_created",
      outcome: "success",
      keyId: CHALLENGE_KEY_NAME,
      kcv: fresh.kcv,
    });
  }
  return {
    tagNonce: (data) => hsmCall("nonce tag", () => hsm.generateMac(key, data)),
    verifyNonceTag: (data, tag) => hsmCall("nonce tag", () => hsm.verifyMac(key, data, tag)),
    verifyProof: (keyBlock, step, sn, data, mac) =>
      hsmCall(
        "proof of possession",
        () => hsm.verifyDerivedMac(keyBlock, proofDerivation(step, sn), data, mac),
      ),
  };
}
