/**
 * The Deno side of the browser driver (`_browser.mjs`): starts it under
 * Node.js with playwright-core from `.runtimes/` (installed there as
 * `scripts/_runtimes.ts` does for the runtimes test) and Debian's
 * Chromium, and sends it one command at a time.
 *
 * @module
 */
import { ensureNpmRuntimes, playwrightDir } from "../../scripts/_runtimes.ts";

/** A command's answer value. */
// deno-lint-ignore no-explicit-any
export type Value = any;

/** Headless Chromium under playwright-core, driven line by line. */
export class Browser {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly pngDir: string;
  #stderr: Promise<string>;

  private constructor(child: Deno.ChildProcess, pngDir: string) {
    this.#child = child;
    this.pngDir = pngDir;
    this.#writer = child.stdin.getWriter();
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TransformStream<string, string>(
        {
          buffer: "",
          transform(chunk, c) {
            const parts = (this.buffer + chunk).split("\n");
            this.buffer = parts.pop()!;
            for (const p of parts) c.enqueue(p);
          },
        } as Transformer<string, string> & { buffer: string },
      ),
    )[Symbol.asyncIterator]();
    this.#stderr = new Response(child.stderr).text();
  }

  /**
   * Installs playwright-core if needed and starts the driver.
   *
   * @param pngDir where screenshots go.
   * @throws {Error} if playwright-core cannot be installed or Chromium is missing.
   */
  static async start(pngDir: string): Promise<Browser> {
    const err = await ensureNpmRuntimes();
    if (err) throw new Error(`playwright-core: ${err}`);
    await Deno.stat("/usr/bin/chromium").catch(() => {
      throw new Error("/usr/bin/chromium is missing: run bash scripts/test_setup.sh");
    });
    const child = new Deno.Command("node", {
      args: [new URL("./_browser.mjs", import.meta.url).pathname, playwrightDir(), pngDir],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Browser(child, pngDir);
  }

  /** Sends one command; returns its value or throws its error. */
  async do(op: string, args: Record<string, unknown> = {}): Promise<Value> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ op, ...args }) + "\n"));
    const n = await this.#lines.next();
    if (n.done) throw new Error(`the browser driver ended: ${await this.#stderr}`);
    const r = JSON.parse(n.value) as { ok: boolean; value?: Value; error?: string };
    if (!r.ok) throw new Error(`${op} ${JSON.stringify(args)}: ${r.error}`);
    return r.value;
  }

  /** Closes the browser and the driver. */
  async close(): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ op: "quit" }) + "\n"));
    await this.#writer.close().catch(() => {});
    const status = await this.#child.status;
    await this.#stderr;
    if (!status.success) throw new Error(`the browser driver exited with ${status.code}`);
  }
}
