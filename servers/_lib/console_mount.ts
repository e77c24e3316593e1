/**
 * Puts the console on the KMS's and the MTMS's handlers: each server's
 * `createKms` / `createMtms` calls one function here with what it opened.
 *
 * @module
 */
import type { CryptoCore } from "../../src/core/mod.ts";
import type { CrlSet } from "../../src/pki/mod.ts";
import type { CreateOrderRequest, OrderStatus } from "../../src/protocol/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { type ConsoleOptions, withConsole } from "./console.ts";
import { staticDirectory } from "./console_auth.ts";
import { kmsCertificates } from "./console_certs.ts";
import type { HsmWatch } from "./console_common.ts";
import { enrolledDirectory, gateApprovals, sealedChainState } from "./console_operators.ts";
import type { OperatorLayer } from "./operator_layer.ts";
import { KMS_PAGES, kmsConsoleRoutes } from "./console_kms.ts";
import { MTMS_PAGES, mtmsConsoleRoutes } from "./console_mtms.ts";
import type { Logger } from "./log.ts";

type Handler = (request: Request) => Promise<Response>;

/** The console's options with the directory of the enrolled operators. */
function enrolled(options: ConsoleOptions, store: Store): ConsoleOptions {
  return { ...options, directory: enrolledDirectory(store, options.directory) };
}

/** What the KMS hands its console. */
export interface KmsConsoleMount {
  console: ConsoleOptions | undefined;
  store: Store;
  core: CryptoCore;
  hsm: HsmWatch;
  log: Logger;
  service: {
    issueOrder(
      orderId: string,
      options: { onProgress?: (done: number, total: number) => void },
    ): Promise<unknown>;
  };
  /** Whether the KMS serves flow B. */
  flowB: boolean;
  kmsCaCertificate?: string;
  /** The CRLs in force (of the MTMS's and the devices' certificates). */
  crls?: () => CrlSet;
  /** The server's operators, dual control and audit sealer. */
  operators: OperatorLayer;
}

/**
 * The KMS's handler with its console at `/console/` (the handler alone without console options).
 */
export function mountKmsConsole(handler: Handler, m: KmsConsoleMount): Handler {
  if (!m.console) return handler;
  const routes = kmsConsoleRoutes({
    store: m.store,
    core: m.core,
    hsm: m.hsm,
    issueOrder: (id, o) => m.service.issueOrder(id, o),
    flowB: m.flowB,
    approvals: gateApprovals({ store: m.store, ...m.operators }),
    certificates: { certificates: kmsCertificates(m.store, m.kmsCaCertificate), crls: m.crls },
    chain: sealedChainState(m.operators.sealer),
  });
  const server = { server: "KMS", pages: KMS_PAGES, routes, log: m.log };
  return withConsole(handler, server, enrolled(m.console, m.store));
}

/** What the MTMS hands its console. */
export interface MtmsConsoleMount {
  console: ConsoleOptions | undefined;
  store: Store;
  core: CryptoCore;
  hsm: HsmWatch;
  log: Logger;
  service: {
    createOrder(req: CreateOrderRequest): Promise<OrderStatus>;
    orderStatus(orderId: string): Promise<OrderStatus>;
    transfer(orderId: string): Promise<unknown>;
    readonly transportCertificate: string;
  };
  crls?: () => CrlSet;
  /** The server's operators and audit sealer. */
  operators: OperatorLayer;
  /** The KMS's console URL, linked from an order's page. */
  kmsConsoleUrl?: string;
}

/**
 * The MTMS's handler with its console at `/console/` (the handler alone without console options).
 */
export function mountMtmsConsole(handler: Handler, m: MtmsConsoleMount): Handler {
  if (!m.console) return handler;
  const routes = mtmsConsoleRoutes({
    store: m.store,
    core: m.core,
    hsm: m.hsm,
    createOrder: (r) => m.service.createOrder(r),
    orderStatus: (id) => m.service.orderStatus(id),
    transfer: (id) => m.service.transfer(id),
    certificates: {
      certificates: () =>
        Promise.resolve([{ label: "MTMS transport", pem: m.service.transportCertificate }]),
      crls: m.crls,
    },
    chain: sealedChainState(m.operators.sealer),
    kmsConsoleUrl: m.kmsConsoleUrl,
  });
  const server = { server: "MTMS", pages: MTMS_PAGES, routes, log: m.log };
  return withConsole(handler, server, enrolled(m.console, m.store));
}

/**
 * The console's options from a `--console-users` file: a JSON array of
 * `{id, name, role, passwordHash}` (`deno task console:user` makes one record).
 *
 * @param path the file, or undefined for no console.
 * @returns the options, or undefined without a file.
 * @throws {RangeError} naming the first bad record; errors of reading or JSON.
 */
export async function consoleFromFile(
  path: string | undefined,
): Promise<ConsoleOptions | undefined> {
  if (path === undefined) return undefined;
  const records = JSON.parse(await Deno.readTextFile(path));
  if (!Array.isArray(records)) throw new RangeError(`${path} must hold a JSON array of users`);
  return { directory: staticDirectory(records) };
}
