/**
 * The subset of `jsr:@std/assert` this project's tests use, implemented on
 * `node:assert/strict` because JSR is not reachable from our build machines.
 *
 * The names and signatures follow `@std/assert`, so switching is one line in
 * `deno.json` (`"@std/assert": "jsr:@std/assert@^1"`).
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Thrown by every assertion here (`@std/assert` has its own class of the same name). */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function fail(msg: string | undefined, detail: string): never {
  throw new AssertionError(msg ? `${msg}: ${detail}` : detail);
}

function rethrow(e: unknown, msg?: string): never {
  if (e instanceof nodeAssert.AssertionError) fail(msg, e.message);
  throw e;
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) fail(msg, "expected a truthy value");
}

/** Asserts that `expr` is falsy. */
export function assertFalse(expr: unknown, msg = ""): void {
  if (expr) fail(msg, "expected a falsy value");
}

/** Deep equality (structural, strict: `Uint8Array` compares by content and type). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.deepStrictEqual(actual, expected);
  } catch (e) {
    rethrow(e, msg);
  }
}

/** Deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.notDeepStrictEqual(actual, expected);
  } catch (e) {
    rethrow(e, msg);
  }
}

/** `Object.is` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  try {
    nodeAssert.strictEqual(actual, expected);
  } catch (e) {
    rethrow(e, msg);
  }
}

/** Asserts that `actual` is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) fail(msg, `expected a value, got ${actual}`);
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) fail(msg, `${JSON.stringify(actual)} does not match ${expected}`);
}

/** Asserts that `actual` does not match `expected`. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  if (expected.test(actual)) fail(msg, `${JSON.stringify(actual)} matches ${expected}`);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    fail(msg, `${JSON.stringify(actual)} does not include ${JSON.stringify(expected)}`);
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) fail(msg, `expected ${actual} > ${expected}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) fail(msg, `expected ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) fail(msg, `expected ${actual} < ${expected}`);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) fail(msg, `expected ${actual} <= ${expected}`);
}

// deno-lint-ignore no-explicit-any
type Ctor<E> = abstract new (...args: any[]) => E;

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends Ctor<unknown>>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    const got = actual === null || typeof actual !== "object"
      ? String(actual)
      : (actual as object).constructor?.name;
    fail(msg, `expected an instance of ${expectedType.name}, got ${got}`);
  }
}

function checkError(
  err: unknown,
  ErrorClass: Ctor<Error> | undefined,
  msgIncludes: string | undefined,
  msg: string | undefined,
): void {
  if (ErrorClass === undefined) return;
  if (!(err instanceof ErrorClass)) {
    const got = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    fail(msg, `expected ${ErrorClass.name} to be thrown, got ${got}`);
  }
  if (msgIncludes !== undefined && !err.message.includes(msgIncludes)) {
    fail(
      msg,
      `expected the message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify(err.message)
      }`,
    );
  }
}

/** Asserts that `fn` throws; optionally of class `ErrorClass` with a message that includes `msgIncludes`. Returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: Ctor<E>,
  msgIncludes?: string,
  msg?: string,
): E {
  let thrown = false;
  let err: unknown;
  try {
    fn();
  } catch (e) {
    thrown = true;
    err = e;
  }
  if (!thrown) fail(msg, "expected the function to throw");
  checkError(err, ErrorClass, msgIncludes, msg);
  return err as E;
}

/** Asserts that the promise returned by `fn` rejects; like {@link assertThrows}. Returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: Ctor<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E> {
  let thrown = false;
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = true;
    err = e;
  }
  if (!thrown) fail(msg, "expected the promise to reject");
  checkError(err, ErrorClass, msgIncludes, msg);
  return err as E;
}

/** Always throws. */
export function unreachable(msg?: string): never {
  fail(msg, "unreachable code was reached");
}
