/**
 * Flow B S6 and S7 (CN103714641A) inside the session a passed S5 opened:
 * the TMK under Pu_tek with a tag under AUK ({@link tmkMacInput}), and its
 * acknowledgement. Beyond the patent, each request carries a MAC under the
 * session key, derived in the HSM from AUK and the session's context
 * (challenge id || Rnd1 || Rnd2; `src/protocol/flow_b_proof.ts`), so only
 * the party that passed S5 can use the session. A request without a valid
 * MAC changes nothing, writes no audit record and is counted by the guard.
 *
 * @module
 */
import { fromHex, toHex } from "../../src/crypto/mod.ts";
import { type Store, type Terminal, tmkDelivery } from "../../src/store/mod.ts";
import {
  AuthenticationError,
  ConflictError,
  type FlowBTerminalStatus,
  type FlowBTmkAckRequest,
  type FlowBTmkRequest,
  type FlowBTmkResponse,
  sessionContext,
  sessionError,
  sessionMacInput,
  tmkMacInput,
} from "../../src/protocol/mod.ts";
import type { FlowBKeyOps, HeldTransportKey } from "./flow_b_ports.ts";
import { acknowledgeTmk } from "./_delivery.ts";

/** What S6 and S7 use of the flow B service. */
export interface SessionContext {
  store: Store;
  keys: FlowBKeyOps;
  now: () => Date;
  /** The flow B terminal (refuses flow A and locked SNs). */
  terminal(sn: string): Promise<Terminal>;
  /** Its transport key, TK hash checked. */
  held(t: Terminal, step: string): Promise<HeldTransportKey>;
  audit(
    event: string,
    outcome: "success" | "failure",
    fields: { subject?: string; kcv?: string; detail?: string },
    store?: Store,
  ): Promise<void>;
  /** Counts an unauthenticated refusal and returns it to throw. */
  refuse(sn: string, source: string, e: AuthenticationError): AuthenticationError;
  /** The SN authenticated: its backoff ends. */
  passed(sn: string): void;
  status(sn: string, tx: Store): Promise<FlowBTerminalStatus>;
}

/**
 * Checks the session MAC of a request: the session must be the terminal's
 * (its id opens the stored context) and, for S6, still open.
 */
async function proven(
  c: SessionContext,
  sn: string,
  sessionId: string,
  mac: string,
  input: Uint8Array,
  source: string,
  step: "S6" | "S7",
): Promise<{ t: Terminal; tk: HeldTransportKey }> {
  const t = await c.terminal(sn);
  const ctx = t.sessionContext;
  if (ctx === null || ctx.length !== 64 || ctx.slice(0, 32) !== sessionId) {
    throw c.refuse(sn, source, sessionError(sn, false));
  }
  if (step === "S6" && t.sessionExpiresAt === null) {
    throw c.refuse(sn, source, sessionError(sn, false)); // used up
  }
  if (step === "S6" && Date.parse(t.sessionExpiresAt!) <= c.now().getTime()) {
    throw c.refuse(sn, source, sessionError(sn, true));
  }
  const tk = await c.held(t, step);
  const context = sessionContext(sessionId, ctx.slice(32, 48), ctx.slice(48, 64));
  if (!(await c.keys.verifySessionMac(tk.aukBlock, context, input, fromHex(mac)))) {
    throw c.refuse(
      sn,
      source,
      new AuthenticationError(
        "session_mac_invalid",
        `${step}: the MAC does not verify under the key of session ${sessionId}; refused`,
      ),
    );
  }
  c.passed(sn);
  return { t, tk };
}

/**
 * S6: TMK under Pu_tek with a tag under AUK, inside the open session, which
 * it uses up. The TMK is generated on the first download and kept under the
 * LMK; a later download (a lost answer, a new session) sends the same TMK
 * under a fresh OAEP encryption until it is acknowledged.
 *
 * @param c the service.
 * @param sn serial number.
 * @param sessionId the session.
 * @param req its MAC over `sessionMacInput("S6", sn, sessionId)`.
 * @param source the caller's address.
 * @returns the ciphertext, KCV and tag.
 * @throws {AuthenticationError} `session_required`, `session_expired`, `session_mac_invalid`,
 *   `terminal_locked`; {@link ConflictError} `already_delivered`, `transport_key_required`.
 */
export async function downloadInSession(
  c: SessionContext,
  sn: string,
  sessionId: string,
  req: FlowBTmkRequest,
  source: string,
): Promise<FlowBTmkResponse> {
  const input = sessionMacInput("S6", sn, sessionId);
  const { t, tk } = await proven(c, sn, sessionId, req.mac, input, source, "S6");
  if (tmkDelivery(t) === "delivered") {
    await c.audit("tmk_sent", "failure", { subject: sn, detail: "already_delivered" });
    throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
  }
  const now = c.now();
  // Every HSM operation first (a new TMK on the first download, its export under Pu_tek,
  // the tag under AUK): a failure there leaves nothing behind.
  const fresh = !t.tmkBlock || !t.tmkKcv ? await c.keys.generateTmk() : null;
  const tmkBlock = fresh ? fresh.tmkBlock : t.tmkBlock!;
  const tmkKcv = fresh ? fresh.tmkKcv : t.tmkKcv!;
  const encryptedTmk = toHex(await c.keys.exportTmk(tmkBlock, tk.puTek));
  const h = await c.keys.sha256(tmkMacInput(sn, encryptedTmk, tmkKcv));
  const tmkMac = toHex(await c.keys.aukCipher(tk.aukBlock, "decrypt", h.subarray(0, 8)));
  // Then, in one transaction: the new TMK kept, the session used up (of concurrent
  // downloads exactly one gets it), the TMK marked sent, and the audit records.
  const outcome = await c.store.transaction(async (tx) => {
    if (fresh) {
      const mine = await tx.issueTmk({ sn, tmkBlock, tmkUnderTk: null, tmkKcv, issuedAt: now });
      // Another first download kept its TMK and used the session with it.
      if (!mine) return "session_used";
    }
    if (!(await tx.consumeSession(sn, c.now()))) return "session_used";
    if (!(await tx.markTmkSent(sn, c.now()))) return "already_delivered";
    if (fresh) {
      await c.audit("tmk_issued", "success", { subject: sn, kcv: tmkKcv, detail: "flow B" }, tx);
    }
    await c.audit(
      "tmk_sent",
      "success",
      { subject: sn, kcv: tmkKcv, detail: "under Pu_tek, in the session S5 opened" },
      tx,
    );
    return "sent";
  });
  if (outcome === "session_used") {
    // A concurrent copy of the same request used the session: a replay, not audited.
    throw c.refuse(sn, source, sessionError(sn, false));
  }
  if (outcome === "already_delivered") {
    throw new ConflictError("already_delivered", `the TMK of ${sn} was already delivered`);
  }
  return { sn, encryptedTmk, tmkKcv, tmkMac };
}

/**
 * S7: the acknowledgement, MACed under the key of the session that
 * downloaded the TMK; the PIN pad's KCV must equal the issued TMK's.
 *
 * @param c the service.
 * @param sn serial number.
 * @param sessionId the session.
 * @param req the KCV and its MAC over `sessionMacInput("S7", sn, sessionId, tmkKcv)`.
 * @param source the caller's address.
 * @returns the terminal's status (`delivered`).
 * @throws {AuthenticationError} `session_required`, `session_mac_invalid`;
 *   {@link ConflictError} `not_sent`, `already_delivered`; `IntegrityError` `kcv_mismatch`.
 */
export async function acknowledgeInSession(
  c: SessionContext,
  sn: string,
  sessionId: string,
  req: FlowBTmkAckRequest,
  source: string,
): Promise<FlowBTerminalStatus> {
  const input = sessionMacInput("S7", sn, sessionId, req.tmkKcv);
  const { t } = await proven(c, sn, sessionId, req.mac, input, source, "S7");
  return await acknowledgeTmk({
    store: c.store,
    terminal: t,
    tmkKcv: req.tmkKcv,
    now: c.now,
    detail: "flow B",
    status: (tx) => c.status(sn, tx),
  });
}
