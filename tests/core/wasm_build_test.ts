/**
 * The checked-in wasm core, both builds (src/core/wasm/tmk_core.wasm,
 * tmk_core_fma.wasm and their base64 modules), is exactly what the build
 * produces from asm/ and the kernel generator: rebuild in memory and compare
 * byte for byte. The text forms are not checked in (scripts/build_wasm.ts
 * --wat writes them for review).
 */
import { assert, assertEquals } from "@std/assert";
import { buildCore, CHECKED_IN, KERNEL_DIGITS, VARIANTS } from "../../scripts/build_wasm.ts";

const root = new URL("../../", import.meta.url);
const dir = new URL("src/core/wasm/", root);

for (const { stem, fma } of VARIANTS) {
  Deno.test(`wasm build ${stem} is reproducible and matches the checked-in files`, async () => {
    const built = await buildCore(root, fma);
    const wasm = Deno.readFileSync(new URL(`${stem}.wasm`, dir));
    assertEquals(built.wasm.length, wasm.length, `${stem}.wasm length`);
    assertEquals(
      built.wasm.every((b, i) => b === wasm[i]),
      true,
      `${stem}.wasm bytes differ: run \`deno task build\` and commit`,
    );
    // the build contains one specialised multiply and square per kernel size
    for (const k of KERNEL_DIGITS) {
      assert(built.wat.includes(`$asm/mont_kernels/montMul${k} `), `montMul${k}`);
      assert(built.wat.includes(`$asm/mont_kernels/montSqr${k} `), `montSqr${k}`);
    }
    // relaxed SIMD (the paired f64 kernels' fused multiply-add) in the fma build only
    assertEquals(built.wat.includes("f64x2.relaxed_madd"), fma, "relaxed_madd");
    assertEquals(
      built.js,
      Deno.readTextFileSync(new URL(`${stem}_wasm.js`, dir)),
      `${stem}_wasm.js`,
    );
    // and a second build gives the same bytes
    const again = await buildCore(root, fma);
    assertEquals(again.wasm, built.wasm);
  });
}

Deno.test("no other generated file beside the checked-in builds", () => {
  // .wat files, written by --wat for review, are ignored by git
  const generated = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.startsWith("tmk_core") && !n.endsWith(".d.ts") && !n.endsWith(".wat"))
    .sort();
  assertEquals(generated, [...CHECKED_IN].sort(), "generated files in src/core/wasm/");
});
