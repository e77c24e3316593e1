/**
 * A streamed TK batch (`POST /v1/tk-batches`, `application/x-ndjson`) of N
 * terminals over HTTP into a real KMS process (SQLite, or PostgreSQL with
 * `--db postgres://...`), with the KMS's RSS before, at its peak (sampled
 * every 100 ms from /proc) and after. The batch is made as it is sent (a TK
 * per line wrapped under PK, hashed, the MAC line at the end): neither side
 * holds the order.
 *
 * ```
 * deno run --allow-all bench/stream_import.ts --n 100000 [--db postgres://...]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { loadCore } from "../src/core/mod.ts";
import { fromHex, kcv, randomBytes, retailMac, setOddParity, toHex } from "../src/crypto/mod.ts";
import { KEY_TEMPLATES } from "../src/hsm/mod.ts";
import { type KeyBlockHeader, wrapKeyBlock } from "../src/keyblock/mod.ts";
import { batchMacLine, batchMacPrefix, NDJSON } from "../src/protocol/mod.ts";
import { componentKey } from "../demo/setup.ts";
import { KmsProcess, makeKeys } from "../demo/kms_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { n: { type: "string", default: "100000" }, db: { type: "string" } },
});
const n = Number(values.n);
const dir = await Deno.makeTempDir({ prefix: "stream_bench_" });
const db = values.db ?? `${dir}/kms.db`;
const keys = await makeKeys();
const core = await loadCore("wasm");
const xor = (parts: string[]) => {
  const ks = parts.map((c) => fromHex(componentKey(c)));
  const out = new Uint8Array(ks[0].length);
  for (const k of ks) for (let i = 0; i < out.length; i++) out[i] ^= k[i];
  return out;
};
const pk = xor(keys.pk);
const mak = xor(keys.mak);
const t = KEY_TEMPLATES.TK;
const header = {
  version: "B",
  keyUsage: t.keyUsage,
  algorithm: t.algorithm,
  modeOfUse: t.modeOfUse,
  keyVersion: "00",
  exportability: t.exportability,
  keyContext: "2",
} as KeyBlockHeader;
const orderId = `PO-BENCH-${n}`;

const kms = await KmsProcess.start(db, keys);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
try {
  const rssBefore = await kms.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    kms.rss().then((r) => peak = Math.max(peak, r), () => {});
  }, 100);
  const enc = new TextEncoder();
  const hash = createHash("sha256").update(batchMacPrefix(orderId));
  let i = 0;
  let bytes = 0;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode(`${JSON.stringify({ orderId, tks: n })}\n`));
    },
    async pull(c) {
      if (i === n) {
        const mac = toHex(await retailMac(mak, new Uint8Array(hash.digest()), { padding: 2, core }))
          .toUpperCase();
        c.enqueue(enc.encode(`${JSON.stringify({ mac })}\n`));
        c.close();
        return;
      }
      let text = "";
      for (const end = Math.min(n, i + 200); i < end; i++) {
        const tk = setOddParity(randomBytes(16));
        const e = {
          sn: `B${String(i).padStart(9, "0")}`,
          tkBlock: await wrapKeyBlock(pk, header, tk, { core }),
          tkKcv: toHex(await kcv(tk, { method: "legacy", length: 3, core })).toUpperCase(),
          tkHash: createHash("sha256").update(tk).digest("hex").toUpperCase(),
        };
        hash.update(batchMacLine(e));
        text += `${JSON.stringify(e)}\n`;
      }
      bytes += text.length;
      c.enqueue(enc.encode(text));
    },
  });
  const started = performance.now();
  const r = await kms.fetch("/v1/tk-batches", {
    method: "POST",
    headers: { "content-type": NDJSON },
    body,
  });
  const answer = await r.json();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const rssAfter = await kms.rss();
  if (r.status !== 201) throw new Error(`KMS answered ${r.status}: ${JSON.stringify(answer)}`);
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `figure stream_import: ${n} TKs (${mb(bytes)} body) over HTTP into KMS ` +
      `(${values.db ? "PostgreSQL" : "SQLite"}): accepted ${answer.accepted} in ${
        seconds.toFixed(1)
      } s (${(n / seconds).toFixed(0)} TKs/s, key wrapping on the client included); ` +
      `KMS RSS before ${mb(rssBefore)}, peak ${mb(peak)}, after ${mb(rssAfter)}; load ${load}`,
  );
} finally {
  await kms.stop();
  await Deno.remove(dir, { recursive: true });
}
