/**
 * The checked-in wasm core (src/core/wasm/tmk_core.wasm and tmk_core_wasm.js)
 * is exactly what the build produces from asm/ and the kernel generator:
 * rebuild in memory and compare byte for byte. The text form is not checked
 * in (scripts/build_wasm.ts --wat writes it for review).
 */
import { assert, assertEquals } from "@std/assert";
import { buildCore, CHECKED_IN, KERNEL_DIGITS } from "../../scripts/build_wasm.ts";

Deno.test("wasm build is reproducible and matches the checked-in files", async () => {
  const root = new URL("../../", import.meta.url);
  const built = await buildCore(root);
  const dir = new URL("src/core/wasm/", root);
  const wasm = Deno.readFileSync(new URL("tmk_core.wasm", dir));
  assertEquals(built["tmk_core.wasm"].length, wasm.length, "tmk_core.wasm length");
  assertEquals(
    built["tmk_core.wasm"].every((b, i) => b === wasm[i]),
    true,
    "tmk_core.wasm bytes differ: run `deno task build` and commit",
  );
  // no other generated file beside them (tmk_core.wat, written by --wat for review, is ignored by git)
  const generated = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.startsWith("tmk_core") && !n.endsWith(".d.ts") && n !== "tmk_core.wat")
    .sort();
  assertEquals(generated, [...CHECKED_IN].sort(), "generated files in src/core/wasm/");
  // the build contains one specialised multiply and square per kernel size
  for (const k of KERNEL_DIGITS) {
    assert(built["tmk_core.wat"].includes(`$asm/mont_kernels/montMul${k} `), `montMul${k}`);
    assert(built["tmk_core.wat"].includes(`$asm/mont_kernels/montSqr${k} `), `montSqr${k}`);
  }
  assertEquals(
    built["tmk_core_wasm.js"],
    Deno.readTextFileSync(new URL("tmk_core_wasm.js", dir)),
    "tmk_core_wasm.js",
  );
  // and a second build gives the same bytes
  const again = await buildCore(root);
  assertEquals(again["tmk_core.wasm"], built["tmk_core.wasm"]);
});
