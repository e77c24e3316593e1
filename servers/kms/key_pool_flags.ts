/**
 * The KMS flags of flow B's HSM key-pair pool (`key_pool.ts`): water marks,
 * workers and batch size, each with its environment variable and default,
 * and the check that the low mark is below the high one.
 *
 * @module
 */
import type { FlagSpec, FlagValues } from "../../cli/flags.ts";
import { KEY_POOL_DEFAULTS, type KeyPoolPolicy, MAX_KEY_POOL_PAIRS } from "./key_pool.ts";

/** `--key-pool-low`, `--key-pool-high`, `--key-pool-workers`, `--key-pool-batch`. */
export const KEY_POOL_FLAGS: readonly FlagSpec[] = [
  {
    name: "key-pool-low",
    type: "int",
    min: 0,
    max: MAX_KEY_POOL_PAIRS,
    default: KEY_POOL_DEFAULTS.low,
    env: "KMS_KEY_POOL_LOW",
    metavar: "N",
    help: "flow B: an S1 that leaves N key pairs or fewer in the HSM key-pair pool starts a refill",
  },
  {
    name: "key-pool-high",
    type: "int",
    min: 0,
    max: MAX_KEY_POOL_PAIRS,
    default: KEY_POOL_DEFAULTS.high,
    env: "KMS_KEY_POOL_HIGH",
    metavar: "N",
    help: "flow B: a refill stops at N key pairs (filled at the start; 0: no pool, S1 generates " +
      "its pair inline)",
  },
  {
    name: "key-pool-workers",
    type: "int",
    min: 0,
    max: 64,
    default: KEY_POOL_DEFAULTS.workers,
    env: "KMS_KEY_POOL_WORKERS",
    metavar: "N",
    help: "flow B: HSM workers that generate the pool's key pairs (0: on the HSM in the server's " +
      "thread)",
  },
  {
    name: "key-pool-batch",
    type: "int",
    min: 1,
    max: 1_000,
    default: KEY_POOL_DEFAULTS.batch,
    env: "KMS_KEY_POOL_BATCH",
    metavar: "N",
    help: "flow B: key pairs per refill batch (one audit record per batch)",
  },
];

/**
 * The pool policy the flags give.
 *
 * @param v the parsed flags.
 * @returns the policy (checked when the pool starts).
 */
export function keyPoolFromFlags(v: FlagValues): Partial<KeyPoolPolicy> {
  return {
    low: v["key-pool-low"] as number,
    high: v["key-pool-high"] as number,
    workers: v["key-pool-workers"] as number,
    batch: v["key-pool-batch"] as number,
  };
}

/**
 * The flags' problems: a low mark at or above a high one that is not 0.
 *
 * @param v the parsed flags.
 * @returns one line per problem.
 */
export function keyPoolProblems(v: FlagValues): string[] {
  const { low, high } = keyPoolFromFlags(v);
  if (high !== undefined && low !== undefined && high > 0 && low >= high) {
    return [`--key-pool-low (${low}) must be below --key-pool-high (${high})`];
  }
  return [];
}
