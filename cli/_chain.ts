/**
 * An append-only log file of JSON lines, each line holding the SHA-256 of the
 * line before it (`prev`, 64 zero digits for the first) and its number
 * (`seq`): a changed, removed, inserted or reordered line breaks the chain.
 * The ceremony log is one.
 *
 * @module
 */
import { toHex } from "../src/crypto/mod.ts";

const GENESIS = "0".repeat(64);

/** One step as written: what the caller gave, plus the chain fields. */
export type ChainEntry = Record<string, unknown> & { seq: number; at: string; prev: string };

/** A log whose chain does not hold, naming the first line that breaks it. */
export class ChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChainError";
  }
}

async function lineHash(line: string): Promise<string> {
  return toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(line))),
  );
}

function parseLine(path: string, line: string, n: number): ChainEntry {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    throw new ChainError(`${path} line ${n}: not JSON`);
  }
  if (
    typeof e !== "object" || e === null || typeof (e as ChainEntry).seq !== "number" ||
    typeof (e as ChainEntry).prev !== "string"
  ) {
    throw new ChainError(`${path} line ${n}: no seq and prev`);
  }
  return e as ChainEntry;
}

/**
 * Reads the log and checks its chain.
 *
 * @param path the log file; a missing file is an empty log.
 * @returns the entries in order.
 * @throws {ChainError} at the first line that is not JSON, is out of sequence, or whose `prev` is
 *   not the hash of the line before it.
 */
export async function readChain(path: string): Promise<ChainEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const out: ChainEntry[] = [];
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    const e = parseLine(path, line, i + 1);
    if (e.seq !== i + 1) {
      throw new ChainError(
        `${path} line ${i + 1}: seq ${e.seq}, expected ${i + 1} (a line was removed or moved)`,
      );
    }
    if (e.prev !== prev) {
      throw new ChainError(
        `${path} line ${i + 1}: prev does not match the line before (a line was changed)`,
      );
    }
    prev = await lineHash(line);
    out.push(e);
  }
  return out;
}

/**
 * Appends one step after checking the chain so far.
 *
 * @param path the log file (created with mode 0600 if missing).
 * @param step the step's fields (no keys: KCVs, names, file paths).
 * @returns the entry written.
 * @throws {ChainError} if the existing log is broken: nothing is appended to it.
 */
export async function appendChained(
  path: string,
  step: Record<string, unknown>,
): Promise<ChainEntry> {
  const entries = await readChain(path);
  let prev = GENESIS;
  if (entries.length > 0) {
    const text = await Deno.readTextFile(path);
    const lines = text.split("\n").filter((l) => l !== "");
    prev = await lineHash(lines[lines.length - 1]);
  }
  const entry: ChainEntry = {
    seq: entries.length + 1,
    at: new Date().toISOString(),
    prev,
    ...step,
  };
  await Deno.writeTextFile(path, JSON.stringify(entry) + "\n", {
    append: true,
    create: true,
    mode: 0o600,
  });
  return entry;
}
