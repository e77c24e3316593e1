/**
 * The progress bar's rate counts the items done since it was made: a run
 * resumed after 40000 items of 50000 shows the rate of its own items.
 */
import { assertEquals } from "@std/assert";
import { ProgressBar } from "../../servers/_lib/progress.ts";

Deno.test("progress: the rate counts this run's items only, from the bar's start", () => {
  let t = 1000;
  const lines: string[] = [];
  const options = { now: () => t, write: (s: string) => lines.push(s), tty: false };
  const fresh = new ProgressBar("issuing PO-1", 50000, options);
  t += 1000;
  fresh.update(500);
  assertEquals(lines.pop(), "issuing PO-1 [..............................]   1% 500/50000 500/s\n");
  const resumed = new ProgressBar("issuing PO-1", 50000, { ...options, base: 40000 });
  t += 2000;
  resumed.update(41000);
  assertEquals(
    lines.pop(),
    "issuing PO-1 [#########################.....]  82% 41000/50000 500/s\n",
  );
  t += 18000;
  resumed.done();
  assertEquals(
    lines.pop(),
    "issuing PO-1 [##############################] 100% 50000/50000 500/s\n",
  );
});
