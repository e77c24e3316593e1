/**
 * The client side of the wire: an injected transport (`(Request) =>
 * Promise<Response>`: a server's handler in a test, `fetch` over a socket
 * in the demo) and one call helper that sends JSON, checks the answer
 * against the same schema the server documents, and turns an error body
 * into a {@link RemoteError} with the server's code.
 *
 * @module
 */
import { RemoteError, ValidationError } from "./errors.ts";
import type { Schema } from "./schema.ts";
import { signOperatorRequest } from "./operator_request.ts";

/** How a device or server reaches another: a handler, or `fetch`. */
export type Transport = (request: Request) => Promise<Response>;

/** A transport over the network (`fetch`). */
export const fetchTransport: Transport = (request) => fetch(request);

/** A transport over HTTPS with its own trust, and the release of its connections. */
export interface TlsTransport {
  /** Sends a request; the server's certificate must chain to the transport's roots. */
  transport: Transport;
  /** Closes the transport's connections (once; again does nothing). */
  close(): void;
}

/**
 * A transport over HTTPS (RFC 8446) that trusts the given roots only, not
 * the system's: a device's, with the root written into it at flashing, so a
 * server whose certificate comes from any other CA is refused before a byte
 * of the request is sent; the MTMS's to the KMS, with its client
 * certificate (mutual TLS).
 *
 * @param caCerts the roots (PEM), at least one.
 * @param client the client certificate (PEM) and its private key (PEM), for mutual TLS.
 * @returns the transport and its close.
 * @throws {TypeError} for no root, or a client certificate without its key.
 */
export function tlsTransport(
  caCerts: string[],
  client?: { cert: string; key: string },
): TlsTransport {
  if (caCerts.length === 0) throw new TypeError("tlsTransport needs at least one root");
  if (client && !(client.cert && client.key)) {
    throw new TypeError("a client certificate needs its key, and a key its certificate");
  }
  const http = client
    ? Deno.createHttpClient({ caCerts, cert: client.cert, key: client.key })
    : Deno.createHttpClient({ caCerts });
  let open = true;
  return {
    transport: (request) => fetch(request, { client: http }),
    close: () => {
      if (open) http.close();
      open = false;
    },
  };
}

/** Options of {@link callJson}. */
export interface CallOptions {
  /** The operator secret: the request is signed as a single-use operator request ({@link signOperatorRequest}). */
  token?: string;
  /** Called with each exchange (the demo's trace and the key scan collect bodies). */
  observe?: (exchange: Exchange) => void;
}

/** One request and its answer, as text (for traces and scans). */
export interface Exchange {
  method: string;
  url: string;
  requestBody: string;
  status: number;
  responseBody: string;
}

/**
 * Sends a JSON request and checks the answer.
 *
 * @param transport where to send it.
 * @param method HTTP method.
 * @param url absolute URL.
 * @param body JSON body, or `undefined` for none.
 * @param schema schema of a successful answer.
 * @param options operator secret, observer.
 * @returns the parsed answer and its status.
 * @throws {RemoteError} for a 4xx/5xx answer (its `code` is the server's); {@link ValidationError} `bad_response` for an answer that breaks the schema.
 */
export async function callJson<T>(
  transport: Transport,
  method: string,
  url: string,
  body: unknown,
  schema: Schema<T>,
  options: CallOptions = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { accept: "application/json" };
  const requestBody = body === undefined ? "" : JSON.stringify(body);
  if (body !== undefined) headers["content-type"] = "application/json";
  if (options.token) {
    headers["authorization"] = await signOperatorRequest(options.token, {
      method,
      url,
      body: new TextEncoder().encode(requestBody),
    });
  }
  const response = await transport(
    new Request(url, { method, headers, body: body === undefined ? undefined : requestBody }),
  );
  return await answer(response, method, url, requestBody, schema, options);
}

/**
 * Sends a streamed body (e.g. `application/x-ndjson`) and parses the JSON
 * answer as {@link callJson} does. The body is read as the transport sends
 * it, never held whole.
 *
 * @param transport where to send it.
 * @param url absolute URL (POST).
 * @param contentType the body's media type.
 * @param body the body stream.
 * @param describe what the observer sees instead of the body (it is not kept).
 * @param schema schema of a successful answer.
 * @param options observer (no operator signature: that needs the whole body).
 * @returns the parsed answer and its status.
 * @throws as {@link callJson}.
 */
export async function callStream<T>(
  transport: Transport,
  url: string,
  contentType: string,
  body: ReadableStream<Uint8Array>,
  describe: string,
  schema: Schema<T>,
  options: Omit<CallOptions, "token"> = {},
): Promise<{ status: number; body: T }> {
  const response = await transport(
    new Request(url, {
      method: "POST",
      headers: { accept: "application/json", "content-type": contentType },
      body,
    }),
  );
  return await answer(response, "POST", url, describe, schema, options);
}

async function answer<T>(
  response: Response,
  method: string,
  url: string,
  requestBody: string,
  schema: Schema<T>,
  options: CallOptions,
): Promise<{ status: number; body: T }> {
  const responseBody = await response.text();
  options.observe?.({ method, url, requestBody, status: response.status, responseBody });
  let parsed: unknown;
  try {
    parsed = JSON.parse(responseBody);
  } catch {
    throw new ValidationError(
      "bad_response",
      `${method} ${url}: answer ${response.status} is not JSON`,
    );
  }
  if (!response.ok) {
    const err = (parsed as { error?: { code?: unknown; message?: unknown } })?.error;
    const retryAfter = Number(response.headers.get("retry-after") ?? NaN);
    throw new RemoteError(
      response.status,
      typeof err?.code === "string" ? err.code : "unknown",
      typeof err?.message === "string" ? err.message : "(no message)",
      Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    );
  }
  return { status: response.status, body: schema.parse(parsed, "response") };
}
