/**
 * The shared runtime checks (checks.mjs) pass on both builds of the core
 * here (builds.mjs), and can fail: a core that is wrong in one byte, or that
 * throws the wrong error, is reported with the check's name.
 * (`deno task test:runtimes` runs the checks themselves in every runtime.)
 */
import { assert, assertEquals } from "@std/assert";
import { runChecks } from "./checks.mjs";
import { runEveryBuild } from "./builds.mjs";
import * as pkg from "../../src/core/wasm/mod.js";
import { wasmCore } from "../../src/core/wasm/mod.js";
import * as loader from "../../src/core/wasm/loader.js";
import type { CryptoCore } from "../../src/core/wasm/mod.d.ts";

Deno.test("runtime checks: the real core passes every check", async () => {
  const r = await runChecks(wasmCore);
  assertEquals(r.failures, []);
  assert(r.passed > 150, `only ${r.passed} checks ran`);
});

Deno.test("runtime checks: every build that runs here passes, and the fused one is chosen", async () => {
  const r = await runEveryBuild(pkg, loader);
  assertEquals(r.failures, []);
  // Deno fuses f64x2.relaxed_madd: both builds ran, and the fma one is the default
  assertEquals(r.builds, "fma+simd, chosen fma");
  assert(r.passed > 300, `only ${r.passed} checks ran`);
});

Deno.test("runtime checks: a wrong SHA-256 byte and a missing argument check are caught", async () => {
  const broken: CryptoCore = {
    ...wasmCore,
    name: "wasm",
    sha256(data) {
      const d = wasmCore.sha256(data);
      d[31] ^= 1;
      return d;
    },
    tdesEncryptCbc(key, iv, data) {
      return wasmCore.tdesEncryptCbc(key, iv.length === 16 ? iv.subarray(0, 8) : iv, data);
    },
  };
  const r = await runChecks(broken);
  assertEquals(r.failed, r.failures.length);
  assert(r.failures.some((f) => f.startsWith("fips180-abc SHA-256: got ")), r.failures[0]);
  assert(r.failures.some((f) => f.startsWith('error "iv 16 bytes": returned ')), "iv check");
  assert(!r.failures.some((f) => f.includes("SHA-1")), "SHA-1 was not broken");
});
