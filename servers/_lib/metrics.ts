/**
 * A server's metrics in the Prometheus text format, served at `/metrics`:
 * requests by route and status with their latency, store call latency,
 * counters the services bump (TMKs issued, lock-outs, refused requests), and
 * gauges read when scraped (orders and terminals by state, the HSM's state).
 *
 * Labels carry route patterns, never concrete paths, so a client cannot grow
 * the series without bound by inventing URLs; no label ever holds a key, a
 * serial number or a request body.
 *
 * @module
 */
import client from "prom-client";
import type { Store } from "../../src/store/mod.ts";
import { HSM_STATES, type HsmState } from "../../src/hsm/mod.ts";
import { type Running, serveHandler } from "./serve.ts";
import { type HsmFactory, openHsm } from "./hsm.ts";

/** One sample of a gauge read at scrape time: its label values and its value. */
export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** The metrics of one server process. */
export class ServerMetrics {
  readonly #registry = new client.Registry();
  readonly #requests: client.Counter<"route" | "method" | "status">;
  readonly #latency: client.Histogram<"route" | "method">;
  readonly #store: client.Histogram<"op">;
  readonly #events: client.Counter<"event">;

  /** @param server the server's name, a constant label on every series (`kms`, `mtms`). */
  constructor(server: string) {
    this.#registry.setDefaultLabels({ server });
    const registers = [this.#registry];
    this.#requests = new client.Counter({
      name: "tmk_http_requests_total",
      help: "HTTP requests answered, by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.#latency = new client.Histogram({
      name: "tmk_http_request_seconds",
      help: "Time from request to response, by route pattern and method",
      labelNames: ["route", "method"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.#store = new client.Histogram({
      name: "tmk_store_call_seconds",
      help: "Time of each store call, by operation",
      labelNames: ["op"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.#events = new client.Counter({
      name: "tmk_events_total",
      help: "Events the services count: tmk_issued, lockout, refused, ...",
      labelNames: ["event"],
      registers,
    });
  }

  /**
   * Counts one answered request.
   *
   * @param route the route's pattern (`/v1/orders/:orderId`), or `unmatched`.
   * @param method the HTTP method.
   * @param status the response status.
   * @param seconds how long it took.
   */
  request(route: string, method: string, status: number, seconds: number): void {
    // Methods a client invents are one label value, so they cannot grow the series.
    if (!METHODS.has(method)) method = "other";
    this.#requests.inc({ route, method, status: String(status) });
    this.#latency.observe({ route, method }, seconds);
  }

  /** Records how long one store call took. */
  storeCall(op: string, seconds: number): void {
    this.#store.observe({ op }, seconds);
  }

  /** Adds `n` to an event counter. */
  count(event: string, n = 1): void {
    this.#events.inc({ event }, n);
  }

  /**
   * Declares a gauge whose samples are read when `/metrics` is scraped.
   *
   * @param name the metric name (`tmk_terminals`).
   * @param help one line.
   * @param labelNames the labels each sample carries.
   * @param read returns the current samples.
   */
  gauge(
    name: string,
    help: string,
    labelNames: string[],
    read: () => Promise<GaugeSample[]> | GaugeSample[],
  ): void {
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [this.#registry],
      async collect() {
        this.reset();
        for (const s of await read()) this.set(s.labels, s.value);
      },
    });
  }

  /** The exposition text, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.#registry.metrics(), contentType: this.#registry.contentType };
  }

  /** `/metrics` as a response. */
  async response(): Promise<Response> {
    const { text, contentType } = await this.render();
    return new Response(text, { status: 200, headers: { "content-type": contentType } });
  }
}

/** Store methods that are not calls to time: the kind, and the transaction wrapper itself. */
const UNTIMED = new Set(["kind", "transaction", "constructor"]);

/**
 * The store with every call timed into `tmk_store_call_seconds{op}` and the
 * TMKs it records counted as `tmk_events_total{event="tmk_issued"}` (the
 * store's answer: TMKs actually written, never a second issue of one).
 * Calls inside a transaction are timed too.
 *
 * @param store the server's store.
 * @param metrics where the timings go.
 * @returns a store that behaves as `store`.
 */
export function meteredStore(store: Store, metrics: ServerMetrics): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof prop !== "string" || typeof value !== "function") return value;
      if (prop === "transaction") {
        return <T>(fn: (tx: Store) => Promise<T>) =>
          target.transaction((tx) => fn(meteredStore(tx, metrics)));
      }
      if (UNTIMED.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          const out = await value.apply(target, args);
          if (prop === "issueTmks" && typeof out === "number" && out > 0) {
            metrics.count("tmk_issued", out);
          } else if (prop === "issueTmk" && out === true) metrics.count("tmk_issued");
          return out;
        } finally {
          metrics.storeCall(prop, (performance.now() - t0) / 1000);
        }
      };
    },
  });
}

/**
 * The scrape-time gauges of a server: `tmk_orders{state}`,
 * `tmk_terminals{state}` and `tmk_terminals_locked` from the store
 * (`countByState`), and `tmk_hsm_state{state}` (1 for the state each HSM is
 * in) from the HSMs the server opened.
 *
 * @param metrics the server's metrics.
 * @param store its store.
 * @param hsmStates the current state of each HSM the server opened.
 */
export function serverGauges(
  metrics: ServerMetrics,
  store: Pick<Store, "countByState">,
  hsmStates: () => HsmState[],
): void {
  // The three store gauges share one query, run at most once a second.
  let cached: { at: number; counts: ReturnType<Store["countByState"]> } | undefined;
  const counts = () => {
    if (cached === undefined || Date.now() - cached.at > 1000) {
      cached = { at: Date.now(), counts: store.countByState() };
    }
    return cached.counts;
  };
  metrics.gauge(
    "tmk_orders",
    "Orders by state",
    ["state"],
    async () =>
      Object.entries((await counts()).orders).map(([state, value]) => ({
        labels: { state },
        value,
      })),
  );
  metrics.gauge(
    "tmk_terminals",
    "Terminals by state",
    ["state"],
    async () =>
      Object.entries((await counts()).terminals).map(([state, value]) => ({
        labels: { state },
        value,
      })),
  );
  metrics.gauge(
    "tmk_terminals_locked",
    "Terminals locked out by failed authentications",
    [],
    async () => [
      { labels: {}, value: (await counts()).lockedTerminals },
    ],
  );
  metrics.gauge("tmk_hsm_state", "HSMs of this server in each state", ["state"], () => {
    const now = hsmStates();
    return HSM_STATES.map((state) => ({
      labels: { state },
      value: now.filter((s) => s === state).length,
    }));
  });
}

/**
 * Serves `/metrics` alone on its own port of the loopback address, apart
 * from the API: whoever can reach 127.0.0.1 on this host may read it, and
 * nobody else (a scraper elsewhere goes through an agent on the host).
 *
 * @param metrics the server's metrics.
 * @param port the port (0: any free one).
 * @returns the running listener.
 */
export function serveMetrics(metrics: ServerMetrics, port: number): Running {
  return serveHandler(async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics") return new Response("not found\n", { status: 404 });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    return await metrics.response();
  }, { port, hostname: "127.0.0.1" });
}

/**
 * An HSM factory that remembers every HSM it opens, for the HSM state gauge.
 *
 * @param factory the server's factory (default `openHsm`).
 * @returns the factory to use, and the states of the HSMs it opened.
 */
export function trackedHsms(factory: HsmFactory = openHsm): {
  factory: HsmFactory;
  states(): HsmState[];
} {
  const opened: { state: HsmState }[] = [];
  return {
    factory: async (start) => {
      const h = await factory(start);
      opened.push(h);
      return h;
    },
    states: () => opened.map((h) => h.state),
  };
}
