/**
 * The checked-in console script (web/console/console.js) is exactly what
 * `deno bundle` makes from web/console/src/: rebuild and compare; and the
 * bundle loads nothing from outside its own origin.
 */
import { assert, assertEquals } from "@std/assert";
import { buildConsole, BUNDLE } from "../../scripts/build_console.ts";

Deno.test("console bundle matches its sources (run `deno task build:console` after a change)", async () => {
  const built = await buildConsole();
  const checkedIn = await Deno.readTextFile(new URL(`../../${BUNDLE}`, import.meta.url));
  assertEquals(built, checkedIn, `${BUNDLE} is stale: run \`deno task build:console\` and commit`);
});

Deno.test("console assets name no other origin and no inline script", async () => {
  const dir = new URL("../../web/console/", import.meta.url);
  const bundle = await Deno.readTextFile(new URL("console.js", dir));
  const html = await Deno.readTextFile(new URL("index.html", dir));
  const css = await Deno.readTextFile(new URL("console.css", dir));
  for (const [name, text] of [["console.js", bundle], ["index.html", html], ["console.css", css]]) {
    assertEquals(text.match(/https?:\/\/[^\s"'`)]+/g), null, `${name} names another origin`);
    assert(
      !/\beval\(|new Function\(|innerHTML|insertAdjacentHTML|document\.write/.test(text),
      `${name}: eval or HTML strings`,
    );
  }
  // Every script tag has a src (the CSP forbids inline script anyway).
  for (const tag of html.match(/<script[^>]*>[^<]*<\/script>/g) ?? []) {
    assert(/\ssrc="\/console\/[a-z.]+"/.test(tag) && />\s*<\/script>$/.test(tag), tag);
  }
});
