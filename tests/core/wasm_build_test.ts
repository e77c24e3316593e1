/**
 * The checked-in wasm core (src/core/wasm/) is exactly what the build
 * produces from asm/: rebuild in memory and compare byte for byte.
 */
import { assertEquals } from "@std/assert";
import { buildCore } from "../../scripts/build_wasm.ts";

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
  assertEquals(
    built["tmk_core.wat"],
    Deno.readTextFileSync(new URL("tmk_core.wat", dir)),
    "tmk_core.wat",
  );
  assertEquals(
    built["tmk_core_wasm.js"],
    Deno.readTextFileSync(new URL("tmk_core_wasm.js", dir)),
    "tmk_core_wasm.js",
  );
  // and a second build gives the same bytes
  const again = await buildCore(root);
  assertEquals(again["tmk_core.wasm"], built["tmk_core.wasm"]);
});
