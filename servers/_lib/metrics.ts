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

/** One sample of a gauge read at scrape time: its label values and its value. */
export interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

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
