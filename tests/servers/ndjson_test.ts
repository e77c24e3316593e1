/**
 * NDJSON framing of request bodies (servers/_lib/ndjson.ts): lines read
 * under caps, one expected record at a time, each checked against a schema;
 * every refusal names the line and never echoes its content.
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  type BodyLine,
  hasKey,
  LineCursor,
  parseLine,
  readLines,
} from "../../servers/_lib/ndjson.ts";
import { hex, object, text } from "../../src/protocol/schema.ts";
import { PayloadTooLargeError, ValidationError } from "../../src/protocol/errors.ts";

const enc = new TextEncoder();

function bodyOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(enc.encode(x));
      c.close();
    },
  });
}

async function collect(lines: AsyncIterable<BodyLine>): Promise<BodyLine[]> {
  const out: BodyLine[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

const caps = { maxLine: 32, maxBody: 128 };

Deno.test("readLines: lines across chunks, a last line without \\n, the caps", async () => {
  assertEquals(await collect(readLines(bodyOf('{"a":', "1}\n", "\n", "x"), caps)), [
    { line: 1, text: '{"a":1}' },
    { line: 2, text: "" },
    { line: 3, text: "x" },
  ]);
  assertEquals(await collect(readLines(bodyOf(), caps)), []);
  const long = await assertRejects(
    () => collect(readLines(bodyOf("ok\n", "y".repeat(33)), caps)),
    ValidationError,
  );
  assertEquals([long.code, long.message], ["line_too_long", "line 2: longer than 32 bytes"]);
  const big = await assertRejects(
    () => collect(readLines(bodyOf(...Array(10).fill("z".repeat(15) + "\n")), caps)),
    PayloadTooLargeError,
  );
  assertEquals(big.code, "body_too_large");
  const utf8 = await assertRejects(
    () =>
      collect(
        readLines(
          new ReadableStream({
            start(c) {
              c.enqueue(new Uint8Array([0x6f, 0x6b, 0x0a, 0xff, 0x0a]));
              c.close();
            },
          }),
          caps,
        ),
      ),
    ValidationError,
  );
  assertEquals([utf8.code, utf8.message], ["invalid_utf8", "line 2: not valid UTF-8"]);
});

const Pair = object({ sn: text(/^[A-Z0-9]{4}$/, "4 letters or digits"), kcv: hex(3, "KCV") }, "p");

Deno.test("parseLine and hasKey: JSON and schema faults name the line, never the text", () => {
  assertEquals(parseLine(Pair, { line: 4, text: '{"sn":"AB12","kcv":"0A0B0C"}' }, "body"), {
    sn: "AB12",
    kcv: "0A0B0C",
  });
  const secret = "0123456789ABCDEF0123456789ABCDEF";
  const bad = assertThrows(
    () => parseLine(Pair, { line: 7, text: `{"sn":"${secret}` }, "body"),
    ValidationError,
  );
  assertEquals([bad.code, bad.message], ["invalid_json", "line 7: not a JSON object"]);
  const field = assertThrows(
    () => parseLine(Pair, { line: 9, text: '{"sn":"AB12","kcv":"0a0b0c"}' }, "body.tks[2]"),
    ValidationError,
  );
  assertEquals(field.message.startsWith("line 9: body.tks[2].kcv "), true, field.message);
  assertEquals(hasKey('{"mac":"00"}', "mac"), true);
  assertEquals(hasKey('{"sn":"AB12"}', "mac"), false);
  assertEquals(hasKey('["mac"]', "mac"), false);
  assertEquals(hasKey("null", "mac"), false);
  assertEquals(hasKey('{"mac":', "mac"), false);
});

Deno.test("LineCursor: the expected line, truncation, empty lines, trailing data", async () => {
  const lines = (...t: string[]) => readLines(bodyOf(t.join("\n")), caps);
  const c = new LineCursor(lines("first", "second"));
  assertEquals(await c.next("the header"), { line: 1, text: "first" });
  assertEquals(await c.next("a TK"), { line: 2, text: "second" });
  await c.end("the MAC line");
  const cut = await assertRejects(() => c.next("the MAC line"), ValidationError);
  assertEquals([cut.code, cut.message], [
    "truncated",
    "line 3: the body ended; expected the MAC line",
  ]);

  const empty = new LineCursor(lines("first", "", "third"));
  await empty.next("the header");
  const e = await assertRejects(() => empty.next("TK line 1 of 2"), ValidationError);
  assertEquals([e.code, e.message], ["invalid_json", "line 2: empty; expected TK line 1 of 2"]);

  const more = new LineCursor(lines("mac", "extra"));
  await more.next("the MAC line");
  const t = await assertRejects(() => more.end("the MAC line"), ValidationError);
  assertEquals([t.code, t.message], ["trailing_data", "line 2: nothing may follow the MAC line"]);
  await more.close();
});
