/**
 * The demo page's script: reads the hex inputs and shows TDES-ECB (SP 800-67),
 * the legacy TDES KCV, SHA-1 and SHA-256 (FIPS 180-4) computed by the
 * @tmk/wasm-core package in the browser. A bad input shows the core's own
 * error message in the row it affects.
 *
 * @module
 */
import { loadWasmCore } from "../src/core/wasm/mod.js";

/** @param {string} name @param {string} s */
function parseHex(name, s) {
  const h = s.replace(/\s+/g, "");
  if (h.length % 2 !== 0) throw new RangeError(`${name}: odd number of hex digits (${h.length})`);
  if (!/^[0-9a-fA-F]*$/.test(h)) throw new RangeError(`${name}: not hex`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {Uint8Array} b */
function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** @param {string} id @param {() => string} compute */
function show(id, compute) {
  const cell = document.getElementById(id);
  try {
    cell.textContent = compute();
    cell.className = "";
  } catch (e) {
    cell.textContent = `${e.name}: ${e.message}`;
    cell.className = "error";
  }
}

const status = document.getElementById("status");
try {
  const core = await loadWasmCore();
  const form = document.getElementById("form");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const keyText = document.getElementById("key").value;
    const dataText = document.getElementById("data").value;
    const key = () => parseHex("key", keyText);
    const data = () => parseHex("data", dataText);
    show("out-kcv", () => toHex(core.tdesEncryptEcb(key(), new Uint8Array(8)).subarray(0, 3)));
    show("out-tdes-enc", () => toHex(core.tdesEncryptEcb(key(), data())));
    show("out-tdes-dec", () => toHex(core.tdesDecryptEcb(key(), data())));
    show("out-sha1", () => toHex(core.sha1(data())));
    show("out-sha256", () => toHex(core.sha256(data())));
    document.body.dataset.computed = String(Number(document.body.dataset.computed ?? 0) + 1);
  });
  document.getElementById("compute").disabled = false;
  status.textContent = "core ready (WebAssembly)";
} catch (e) {
  status.textContent = `the core failed to load: ${e.name}: ${e.message}`;
  status.style.background = "#fdd";
}
