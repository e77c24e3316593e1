/**
 * `deno task demo` runs as a program: a small order through S1-S17 over
 * HTTP, exit status 0, the trace with the patent's step numbers, the table
 * and the summary line.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { CORE_NAMES } from "../_helpers.ts";

// The program runs once, on the default core when it is built (the js core is several times
// slower at RSA key generation); both cores run the same flow in-process in flow_a_test.ts.
for (const core of CORE_NAMES.includes("wasm") ? ["wasm"] : CORE_NAMES) {
  Deno.test(`demo (${core}): --terminals 3 prints the trace, the table and the summary, exits 0`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "flowa-demo-" });
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../demo/main.ts", import.meta.url).pathname,
          "--terminals",
          "3",
          "--flow-b-terminals",
          "2",
          "--tr34-terminals",
          "2",
          "--core",
          core,
          "--data-dir",
          dir,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `${stdout}\n${stderr}`);
      for (let s = 1; s <= 17; s++) assertMatch(stdout, new RegExp(`^  S${s} `, "m"), `step S${s}`);
      const rows = stdout.split("\n").filter((l) => /^ {2}SN\d{8} /.test(l));
      assertEquals(rows.length, 3);
      for (const r of rows) {
        const cells = r.trim().split(/\s+/);
        assertEquals(cells[1], cells[2], "TK KCV pad == KMS");
        assertEquals(cells[3], cells[4], "TMK KCV KMS == pad");
        assertEquals(cells.slice(5), ["delivered", "ok"]);
      }
      const lines = stdout.trimEnd().split("\n");
      assertMatch(
        lines.at(-3)!,
        /^flow A: 3\/3 terminals got their TMK .* 0 failed, [0-9.]+ s, core /,
      );
      // Flow B on the same KMS: its steps, its table, its summary line after flow A's.
      for (const s of ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]) {
        assert(lines.filter((l) => l.startsWith(`  ${s} `)).length >= 2, `flow A and B step ${s}`);
      }
      const rowsB = lines.filter((l) => /^ {2}FB\d{8} /.test(l));
      assertEquals(rowsB.length, 2);
      for (const r of rowsB) {
        const cells = r.trim().split(/\s+/);
        assertEquals(cells[1], cells[2], "AUK KCV pad == KMS");
        assertEquals(cells[3], cells[4], "TMK KCV KMS == pad");
        assertEquals(cells.slice(5), ["delivered", "ok"]);
      }
      assertMatch(
        lines.at(-2)!,
        /^flow B: 2\/2 terminals got their TMK .* 0 failed, [0-9.]+ s, core /,
      );
      // TR-34 on the same KMS: its token steps, its table, its summary line last.
      for (const s of ["CT_KRD", "CT_KDH", "RT_KRD", "KT_KDH", "ack"]) {
        assert(lines.some((l) => l.startsWith(`  ${s} `)), `TR-34 step ${s}`);
      }
      const rowsT = lines.filter((l) => /^ {2}TR\d{8} /.test(l));
      assertEquals(rowsT.length, 2);
      for (const r of rowsT) {
        const cells = r.trim().split(/\s+/);
        assertEquals(cells[1], cells[2], "TMK KCV KMS == pad");
        assertEquals(cells.slice(3), ["delivered", "ok"]);
      }
      assertMatch(
        lines.at(-1)!,
        /^TR-34: 2\/2 terminals got their TMK .* 0 failed, [0-9.]+ s, core /,
      );
      assert(stderr.includes("collect") && stderr.includes("3/3"), "progress on stderr");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
