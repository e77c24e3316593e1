/**
 * servers/_lib/rate_limit.ts: failures are free up to the limit, then each
 * key is held off for a time that doubles up to the cap; a hold-off ends
 * (never a lock), a quiet key starts again from zero, every key of a
 * request counts, and memory stays within `maxKeys`.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { FailureLimiter } from "../../servers/_lib/rate_limit.ts";

Deno.test("rate limit: free failures, doubling hold-off up to the cap, released, forgotten", () => {
  const l = new FailureLimiter({ freeFailures: 2, baseMs: 100, maxMs: 400, windowMs: 10_000 });
  const k = ["sn:SN1", "source:10.0.0.1"];
  let t = 0;
  l.fail(k, t);
  l.fail(k, t);
  assertEquals(l.retryAfter(k, t), 0, "two failures are free");
  const holds: number[] = [];
  for (let i = 0; i < 5; i++) {
    l.fail(k, t);
    holds.push(l.retryAfter(k, t));
  }
  assertEquals(holds, [100, 200, 400, 400, 400]);
  assertEquals(l.retryAfter(["sn:SN1"], t + 399), 1, "the SN alone is held off");
  assertEquals(l.retryAfter(["source:10.0.0.2"], t), 0, "another source is not");
  assertEquals(l.retryAfter(k, t + 400), 0, "released when the time is up: never a lock");
  t += 20_000;
  l.fail(k, t);
  assertEquals(l.retryAfter(k, t), 0, "after a quiet window the count starts again");
});

Deno.test("rate limit: memory stays within maxKeys; bad limits are named", () => {
  const l = new FailureLimiter({ maxKeys: 100 });
  for (let i = 0; i < 1000; i++) l.fail([`source:${i}`], i);
  assertEquals(l.size, 100);
  assertThrows(() => new FailureLimiter({ baseMs: -1 }), RangeError, "limits.baseMs");
  assertThrows(() => new FailureLimiter({ baseMs: 10, maxMs: 5 }), RangeError, "limits.maxMs");
  assertThrows(() => new FailureLimiter({ maxKeys: 0 }), RangeError, "limits.maxKeys");
});
