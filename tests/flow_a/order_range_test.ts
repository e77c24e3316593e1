/**
 * Production orders as a run of consecutive serial numbers (`serialRange`):
 * orders beyond the 10,000 a listed order may hold, up to a million, in a
 * request of a few bytes. The run is created whole or not at all; a run that
 * overlaps another order, a run whose numbers do not fit, and a request with
 * both or neither form are refused with the field named. A small run goes
 * through flow A to the PIN pads like a listed order.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { DatabaseSync } from "node:sqlite";
import { loadCore } from "../../src/core/mod.ts";
import { serialsOfRange } from "../../src/protocol/mod.ts";
import { makeWorld } from "./_fixture.ts";

const core = await loadCore("wasm");

function mtmsRows(dir: string): { orders: number; slots: number } {
  const d = new DatabaseSync(`${dir}/mtms.db`, { readOnly: true });
  try {
    const n = (t: string) =>
      Number((d.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
    return { orders: n("orders"), slots: n("collected_tks") };
  } finally {
    d.close();
  }
}

Deno.test("serialsOfRange: the numbers of a run, lazily, and its limits", () => {
  assertEquals([...serialsOfRange({ prefix: "PAX", first: 9, count: 3, digits: 7 }, "r")], [
    "PAX0000009",
    "PAX0000010",
    "PAX0000011",
  ]);
  assertEquals([...serialsOfRange({ prefix: "", first: 999_998, count: 2, digits: 6 }, "r")], [
    "999998",
    "999999",
  ]);
});

Deno.test("MTMS: an order of 20,000 terminals as a run; overlaps, bad runs and both forms refused, nothing half-stored", async () => {
  const w = await makeWorld(core, "in-process");
  try {
    const url = `${w.mtmsUrl}/v1/orders`;
    const big = await w.call("POST", url, {
      orderId: "PO-RUN-1",
      serialRange: { prefix: "PAXR", first: 1, count: 20_000, digits: 8 },
    });
    assertEquals([big.status, big.body], [201, {
      orderId: "PO-RUN-1",
      terminals: 20_000,
      collected: 0,
      state: "collecting",
    }]);
    const status = await w.call("GET", `${url}/PO-RUN-1`);
    assertEquals(status.body.terminals, 20_000);
    assertEquals(mtmsRows(w.dir), { orders: 1, slots: 20_000 });

    const refused: [unknown, number, string, string][] = [
      // Overlaps PO-RUN-1 at its end (PAXR00020000).
      [
        {
          orderId: "PO-RUN-2",
          serialRange: { prefix: "PAXR", first: 19_999, count: 5, digits: 8 },
        },
        409,
        "terminal_conflict",
        "body.serialRange: serial number PAXR00019999 is already in order PO-RUN-1",
      ],
      [
        {
          orderId: "PO-RUN-2",
          serialRange: { prefix: "PAXR", first: 99_999_999, count: 2, digits: 8 },
        },
        400,
        "invalid_field",
        "body.serialRange.count: the last number 100000000 does not fit in 8 digits",
      ],
      [
        { orderId: "PO-RUN-2", serialRange: { prefix: "PX", first: 1, count: 2, digits: 3 } },
        400,
        "invalid_field",
        "body.serialRange.digits: the prefix (2 characters) and 3 digits make serial numbers of 5",
      ],
      [
        {
          orderId: "PO-RUN-2",
          serialRange: { prefix: "PX", first: 1, count: 1_000_001, digits: 9 },
        },
        400,
        "invalid_field",
        "body.serialRange.count",
      ],
      [
        {
          orderId: "PO-RUN-2",
          serialNumbers: ["SNRUN00001"],
          serialRange: { prefix: "PX", first: 1, count: 2, digits: 8 },
        },
        400,
        "invalid_field",
        "exactly one of serialNumbers (a list) and serialRange (a run), got both",
      ],
      [{ orderId: "PO-RUN-2" }, 400, "invalid_field", "got neither"],
      [
        { orderId: "PO-RUN-1", serialRange: { prefix: "QQ", first: 1, count: 2, digits: 8 } },
        409,
        "order_exists",
        "order PO-RUN-1 already exists",
      ],
    ];
    for (const [body, status, code, message] of refused) {
      const r = await w.call("POST", url, body);
      const e = r.body.error as { code: string; message: string };
      assertEquals([r.status, e.code], [status, code], JSON.stringify(body));
      assertStringIncludes(e.message, message);
      assertEquals(mtmsRows(w.dir), { orders: 1, slots: 20_000 }, JSON.stringify(body));
    }
  } finally {
    await w.close();
  }
});

Deno.test("flow A: an order given as a run of 3 reaches the PIN pads", async () => {
  const w = await makeWorld(core, "in-process");
  try {
    const orderId = "PO-RUN-3";
    const r = await w.call("POST", `${w.mtmsUrl}/v1/orders`, {
      orderId,
      serialRange: { prefix: "RUN", first: 41, count: 3, digits: 5 },
    });
    assertEquals(r.status, 201);
    const terminals = [];
    for (const sn of ["RUN00041", "RUN00042", "RUN00043"]) {
      const pos = await w.pos(sn);
      await w.collect(pos, orderId);
      terminals.push(pos);
    }
    const t = await w.call("POST", `${w.mtmsUrl}/v1/orders/${orderId}/transfer`);
    assertEquals(t.body, { orderId, transferred: 3, duplicate: "no" });
    const i = await w.call("POST", `${w.kmsUrl}/v1/orders/${orderId}/tmks`);
    assertEquals(i.body, { orderId, issued: 3, alreadyIssued: 0, terminals: 3 });
    for (const pos of terminals) assertEquals((await pos.downloadTmk()).state, "delivered");
  } finally {
    await w.close();
  }
});
