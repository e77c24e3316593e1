/**
 * A request body of the listener (servers/_lib/listener.ts) as a fetch-style stream that reads
 * the socket only when the handler pulls, with two clocks on the client: the body-read timeout
 * (each wait for more bytes) and the body's deadline (all those waits together), so that a
 * client sending a byte now and then cannot hold a connection.
 *
 * @module
 */
import type http from "node:http";

/** The reason a request is aborted with when its client goes away. */
export const clientGone = () => new DOMException("the client closed the connection", "AbortError");

/** The limits of a body (see `ServeLimits` in listener.ts). */
export interface BodyLimits {
  bodyReadTimeoutMs: number;
  bodyTimeoutMs: number;
  bodyMinRate: number;
}

/** What a body stream needs of, and reports to, the request it belongs to. */
export interface BodyHooks {
  /** Starts the connection's timer (one at a time: a new one replaces the last). */
  arm(ms: number, onFire: () => void): void;
  /** Stops the connection's timer. */
  disarm(): void;
  /** The handler cancelled the body (the rest is not read: the connection is not reused). */
  cancel(): void;
  /** The client went away mid-body. */
  gone(): void;
  /** No byte came within the body-read timeout: the connection is closed. */
  stalled(reason: DOMException): void;
  /** The body's deadline passed: the request is answered 408 and the connection closed. */
  late(reason: DOMException): void;
}

/**
 * How long the next wait for body bytes may last before the body's deadline passes: the
 * deadline, extended by the bytes received so far, less the time already waited.
 */
function bodyTimeLeft(limits: BodyLimits, received: number, waited: number): number {
  const earned = limits.bodyMinRate > 0 ? (received / limits.bodyMinRate) * 1000 : 0;
  return Math.max(0, limits.bodyTimeoutMs + earned - waited);
}

/**
 * A request's body as a stream that reads only when pulled. Only the time spent waiting for
 * the client counts toward the body's deadline: the time the handler takes between its reads
 * does not, so a long stream it consumes slowly is not cut.
 *
 * @param req the request being read.
 * @param limits the body-read timeout, the body's deadline and its extension per byte.
 * @param hooks the request's timer and what the stream reports.
 * @returns the body.
 */
export function bodyStream(
  req: http.IncomingMessage,
  limits: BodyLimits,
  hooks: BodyHooks,
): ReadableStream<Uint8Array> {
  req.pause();
  let waiting: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failed: unknown;
  let received = 0;
  let waited = 0;
  req.on("data", (b: Uint8Array) => {
    received += b.byteLength;
    chunks.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    req.pause();
    waiting?.resolve();
  });
  req.on("end", () => {
    ended = true;
    waiting?.resolve();
  });
  const fail = (e: unknown) => {
    failed ??= e;
    waiting?.reject(failed);
  };
  // The client went away mid-body ("aborted", or a close before the end): the
  // request's signal is aborted first, so the handler's error is logged as such.
  const gone = () => {
    if (ended) return;
    hooks.gone();
    fail(clientGone());
  };
  req.on("error", gone);
  req.on("close", gone);
  const armWait = () => {
    const left = bodyTimeLeft(limits, received, waited);
    const late = left <= limits.bodyReadTimeoutMs;
    hooks.arm(late ? left : limits.bodyReadTimeoutMs, () => {
      const reason = new DOMException(
        late ? "the request body's deadline passed" : "request body read timed out",
        "TimeoutError",
      );
      fail(reason);
      if (late) hooks.late(reason);
      else hooks.stalled(reason);
    });
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (chunks.length === 0 && !ended) {
        if (failed !== undefined) throw failed;
        const got = new Promise<void>((resolve, reject) => (waiting = { resolve, reject }));
        const since = Date.now();
        req.resume();
        armWait();
        try {
          await got;
        } finally {
          hooks.disarm();
          waiting = undefined;
          waited += Date.now() - since;
        }
      }
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else if (ended) controller.close();
    },
    cancel() {
      hooks.cancel();
      req.resume();
    },
  }, { highWaterMark: 0 });
}
