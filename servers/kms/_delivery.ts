/**
 * The acknowledgement of a terminal's TMK as both KMS flows record it
 * (CN103714639A S17, CN103714641A S7), on the delivery state the store
 * decides ({@link tmkDelivery}).
 *
 * @module
 */
import { type Store, type Terminal, tmkDelivery } from "../../src/store/mod.ts";
import { ConflictError, IntegrityError } from "../../src/protocol/mod.ts";

/** What {@link acknowledgeTmk} needs from the service that calls it. */
export interface Acknowledgement<S> {
  /** The store the delivery is recorded in. */
  store: Store;
  /** The terminal as read before the acknowledgement. */
  terminal: Terminal;
  /** The KCV the PIN pad computed over the TMK it stored. */
  tmkKcv: string;
  /** Clock of the delivery time and the audit records. */
  now: () => Date;
  /** Detail of the success audit record (none if absent). */
  detail?: string;
  /** The answer, read inside the transaction that records the delivery. */
  status(tx: Store): Promise<S>;
}

/**
 * Records the acknowledgement of a TMK: the PIN pad's KCV must equal the
 * issued TMK's. The delivery, its `tmk_delivered` audit record and the
 * status read for the answer are one transaction: no failure after the
 * commit can turn a done acknowledgement into an error. A KCV mismatch is
 * audited; nothing is recorded.
 *
 * @param a store, terminal, KCV, clock, audit detail, status reader.
 * @returns the status read in the transaction.
 * @throws {ConflictError} `already_delivered`, `not_sent`; {@link IntegrityError} `kcv_mismatch`.
 */
export async function acknowledgeTmk<S>(a: Acknowledgement<S>): Promise<S> {
  const { terminal: t, tmkKcv } = a;
  const audit = (store: Store, outcome: "success" | "failure", detail?: string) =>
    store.appendAudit({
      at: a.now(),
      actor: "kms",
      event: "tmk_delivered",
      outcome,
      subject: t.sn,
      kcv: tmkKcv,
      ...(detail === undefined ? {} : { detail }),
    });
  const delivery = tmkDelivery(t);
  if (delivery === "delivered") {
    throw new ConflictError("already_delivered", `the TMK of ${t.sn} was already acknowledged`);
  }
  if (delivery !== "sent") {
    throw new ConflictError("not_sent", `no TMK has been sent to ${t.sn}; nothing to acknowledge`);
  }
  if (tmkKcv !== t.tmkKcv) {
    await audit(a.store, "failure", `kcv_mismatch: issued ${t.tmkKcv}`);
    throw new IntegrityError(
      "kcv_mismatch",
      `the PIN pad's KCV ${tmkKcv} differs from the issued TMK's ${t.tmkKcv}`,
    );
  }
  const status = await a.store.transaction(async (tx) => {
    if (!(await tx.markDelivered(t.sn, tmkKcv, a.now()))) return null;
    await audit(tx, "success", a.detail);
    return { value: await a.status(tx) };
  });
  if (!status) {
    throw new ConflictError("already_delivered", `the TMK of ${t.sn} was already acknowledged`);
  }
  return status.value;
}
