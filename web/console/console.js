// web/console/src/api.ts
var ApiError = class extends Error {
  status;
  code;
  constructor(status2, code, message) {
    super(message), this.status = status2, this.code = code;
  }
};
var csrf = "";
function setCsrf(token) {
  csrf = token;
}
async function call(method, path, body) {
  const headers = {
    accept: "application/json"
  };
  if (method === "POST") {
    headers["content-type"] = "application/json";
    headers["x-csrf-token"] = csrf;
  }
  const r = await fetch(`/console/api${path}`, {
    method,
    headers,
    body: method === "POST" ? JSON.stringify(body ?? {}) : void 0,
    credentials: "same-origin",
    cache: "no-store"
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    throw new ApiError(r.status, data?.error?.code ?? "http_error", data?.error?.message ?? `HTTP ${r.status}`);
  }
  return data;
}
function get(path) {
  return call("GET", path);
}
function post(path, body) {
  return call("POST", path, body);
}
var sessionLost = () => {
};
function onSessionLost(fn) {
  sessionLost = fn;
}
function follow(path, onFigures) {
  const es = new EventSource(`/console/api${path}`);
  es.addEventListener("figures", (e) => onFigures(JSON.parse(e.data)));
  es.addEventListener("ended", () => {
    es.close();
    sessionLost();
  });
  return () => es.close();
}

// web/console/src/dom.ts
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === void 0 || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === void 0 || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
  return el;
}
var fieldCount = 0;
function field(label, attrs) {
  const id = `f${++fieldCount}`;
  const input = h("input", {
    id,
    ...attrs
  });
  return {
    label: h("label", {
      for: id
    }, label, input),
    input
  };
}
function table(caption, head, rows) {
  return h("table", {}, h("caption", {
    class: "sr"
  }, caption), h("thead", {}, h("tr", {}, ...head.map((c) => h("th", {
    scope: "col"
  }, c)))), h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
}
function figures(items) {
  const dl = h("dl");
  for (const [key, label, value] of items) {
    dl.append(h("dt", {}, label), h("dd", {
      "data-figure": key
    }, value));
  }
  return dl;
}
var barCount = 0;
function stage(key, label, done, total) {
  const id = `p${++barCount}`;
  return h("div", {
    class: "stage"
  }, h("label", {
    for: id
  }, label), h("progress", {
    id,
    max: Math.max(total, 1),
    value: done,
    "data-stage": key
  }), h("span", {
    "data-figure": key
  }, `${done} / ${total}`));
}
function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}

// web/console/src/page.ts
function messageOf(e) {
  return e instanceof Error ? e.message : String(e);
}

// web/console/src/pages_orders.ts
function hsmSection(hsm) {
  const st = hsm.selfTest;
  return section("HSM", figures([
    [
      "hsm-state",
      "State",
      hsm.state
    ],
    [
      "hsm-mode",
      "Mode",
      hsm.mode
    ],
    [
      "lmk-algorithm",
      "LMK",
      hsm.lmkAlgorithm
    ],
    [
      "lmk-kcv",
      "LMK KCV",
      hsm.lmkKcv
    ],
    [
      "core",
      "Crypto core",
      hsm.core
    ],
    [
      "self-test",
      "Self-test",
      h("span", {
        class: st.passed ? "ok" : "bad"
      }, st.passed ? `passed (${st.tests} known answers)` : `FAILED: ${st.error}`)
    ]
  ]));
}
function orderLink(id) {
  return h("a", {
    href: `#orders/${encodeURIComponent(id)}`
  }, id);
}
function kmsOrderRows(orders) {
  return orders.map((o) => [
    orderLink(o.orderId),
    o.terminals,
    o.issued,
    o.downloaded,
    o.acknowledged
  ]);
}
var KMS_HEAD = [
  "Order",
  "TKs imported",
  "TMKs issued",
  "Downloaded",
  "Acknowledged"
];
async function dashboardPage(ctx) {
  const kms = ctx.session.server === "KMS";
  const draw = (d) => {
    const parts = [
      hsmSection(d.hsm)
    ];
    if (kms) {
      const by = d.terminalsByState;
      parts.push(section("Terminals by state", figures(Object.entries(by).map(([k, v]) => [
        `state-${k}`,
        k.replaceAll("_", " "),
        v
      ]))), section("Issuance progress (live)", table("Orders at the KMS", KMS_HEAD, kmsOrderRows(d.orders))));
    } else {
      const o = d.orders;
      const t = d.tks;
      parts.push(section("Orders and TKs (live)", figures([
        [
          "orders-collecting",
          "Orders collecting",
          o.collecting
        ],
        [
          "orders-transferred",
          "Orders transferred",
          o.transferred
        ],
        [
          "tks-collected",
          "TKs collected",
          `${t.collected} / ${t.expected}`
        ]
      ])));
    }
    ctx.main.replaceChildren(h("h2", {
      class: "sr"
    }, "Dashboard"), ...parts);
  };
  draw(await get("/dashboard"));
  ctx.onLeave(follow("/dashboard/events", draw));
}
function createOrderForm(ctx) {
  const id = field("Order id", {
    name: "orderId",
    required: true,
    value: "PO-0001"
  });
  const prefix = field("SN prefix", {
    name: "prefix",
    required: true,
    value: "SN"
  });
  const first = field("First number", {
    name: "first",
    type: "number",
    min: 0,
    value: 1
  });
  const count = field("Terminals", {
    name: "count",
    type: "number",
    min: 1,
    value: 10
  });
  const digits = field("Digits", {
    name: "digits",
    type: "number",
    min: 1,
    max: 30,
    value: 8
  });
  const form = h("form", {
    "aria-label": "Create an order"
  }, id.label, prefix.label, first.label, count.label, digits.label, h("button", {
    type: "submit"
  }, "Create order"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post("/orders", {
        orderId: id.input.value.trim(),
        prefix: prefix.input.value.trim(),
        first: Number(first.input.value),
        count: Number(count.input.value),
        digits: Number(digits.input.value)
      });
      ctx.say(`order ${id.input.value} created`);
      ctx.go(`orders/${encodeURIComponent(id.input.value.trim())}`);
    } catch (err) {
      ctx.say(messageOf(err), true);
    }
  });
  return section("New order by serial range", form);
}
async function ordersPage(ctx) {
  if (ctx.args[0]) return await orderPage(ctx, ctx.args[0]);
  const { orders } = await get("/orders");
  const runs = ctx.session.operator.role === "operator";
  if (ctx.session.server === "KMS") {
    ctx.main.replaceChildren(section("Orders", table("Orders at the KMS", KMS_HEAD, kmsOrderRows(orders))));
    return;
  }
  const rows = orders.map((o) => [
    orderLink(o.orderId),
    o.state,
    o.terminals,
    o.collected
  ]);
  ctx.main.replaceChildren(...runs ? [
    createOrderForm(ctx)
  ] : [], section("Orders", table("Orders", [
    "Order",
    "State",
    "Terminals",
    "TKs collected"
  ], rows)));
}
function actionButton(label, run, ctx) {
  const b = h("button", {
    type: "button"
  }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await run();
    } catch (e) {
      ctx.say(messageOf(e), true);
      b.disabled = false;
    }
  });
  return b;
}
async function orderPage(ctx, orderId) {
  const base = `/orders/${encodeURIComponent(orderId)}`;
  const runs = ctx.session.operator.role === "operator";
  const kms = ctx.session.server === "KMS";
  const stages = h("div", {
    "aria-live": "polite"
  });
  const actions = h("p", {
    class: "actions"
  });
  const draw = (o) => {
    if (kms) {
      stages.replaceChildren(stage("imported", "TKs transferred (imported)", o.terminals, o.terminals), stage("issued", "TMKs issued", o.issued, o.terminals), stage("downloaded", "Downloaded", o.downloaded, o.terminals), stage("acknowledged", "Acknowledged", o.acknowledged, o.terminals), o.job ? h("p", {
        "data-figure": "job"
      }, `issuance: ${o.job.state} ${o.job.error ?? ""}`) : "");
      actions.replaceChildren(runs && o.issued < o.terminals && o.job?.state !== "running" ? actionButton("Start issuance", async () => {
        await post(`${base}/issue`);
        ctx.say(`issuance of ${orderId} started`);
      }, ctx) : "");
    } else {
      stages.replaceChildren(stage("collected", "TKs collected", o.collected, o.terminals), stage("transferred", "Transferred", o.state === "transferred" ? o.terminals : 0, o.terminals), h("p", {}, "State: ", h("span", {
        "data-figure": "state"
      }, o.state)), o.transfer ? h("p", {
        "data-figure": "transfer"
      }, `transfer: ${o.transfer.state} ${o.transfer.error ?? ""}`) : "");
      actions.replaceChildren(runs && o.state === "collecting" && o.collected === o.terminals && o.transfer?.state !== "running" ? actionButton("Start transfer", async () => {
        await post(`${base}/transfer`);
        ctx.say(`transfer of ${orderId} started`);
      }, ctx) : "", o.kmsConsole ? h("a", {
        href: o.kmsConsole
      }, "This order on the KMS console") : "");
    }
  };
  ctx.main.replaceChildren(section(`Order ${orderId}`, stages, actions));
  draw(await get(base));
  ctx.onLeave(follow(`${base}/events`, draw));
}

// web/console/src/pages_admin.ts
var text = (v) => v === null || v === void 0 ? "-" : String(v);
function lookupForm(ctx, value) {
  const sn = field("Serial number", {
    name: "sn",
    required: true,
    value
  });
  const form = h("form", {
    "aria-label": "Look up a terminal"
  }, sn.label, h("button", {
    type: "submit"
  }, "Look up"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.go(`terminals/${encodeURIComponent(sn.input.value.trim())}`);
  });
  return section("Terminal lookup", form);
}
async function lockoutSection(ctx) {
  const { locked, requests } = await get("/lockouts");
  const role = ctx.session.operator.role;
  const me = ctx.session.operator.id;
  const button = (label, path, done) => {
    const b = h("button", {
      type: "button"
    }, label);
    b.addEventListener("click", async () => {
      try {
        await post(path);
        ctx.say(done);
        ctx.go(location.hash.slice(1));
      } catch (e) {
        ctx.say(messageOf(e), true);
      }
    });
    return b;
  };
  const lockRows = locked.map((t) => {
    const sn = String(t.sn);
    const pending = requests.some((r) => r.sn === sn);
    return [
      h("a", {
        href: `#terminals/${encodeURIComponent(sn)}`
      }, sn),
      text(t.authFailures),
      text(t.lockedAt),
      [
        "operator",
        "supervisor"
      ].includes(role) && !pending ? button(`Request unlock of ${sn}`, `/terminals/${encodeURIComponent(sn)}/unlock`, `unlock of ${sn} requested: a second operator must approve`) : pending ? "waiting for approval" : ""
    ];
  });
  const reqRows = requests.map((r) => [
    text(r.sn),
    text(r.requestedBy),
    text(r.requestedAt),
    role === "supervisor" && r.requestedBy !== me ? button(`Approve unlock of ${r.sn}`, `/unlocks/${encodeURIComponent(String(r.id))}/approve`, `unlock of ${r.sn} approved`) : "another operator approves"
  ]);
  return section("Lock-outs", table("Locked terminals", [
    "SN",
    "Failures",
    "Locked at",
    "Action"
  ], lockRows), h("h2", {}, "Unlocks waiting for a second operator"), table("Unlock requests", [
    "SN",
    "Requested by",
    "At",
    "Action"
  ], reqRows));
}
async function terminalsPage(ctx) {
  const sn = ctx.args[0] ?? "";
  const parts = [
    lookupForm(ctx, sn)
  ];
  if (sn) {
    try {
      const { terminal: t, timeline } = await get(`/terminals/${encodeURIComponent(sn)}`);
      parts.push(section(`Terminal ${sn}`, figures([
        "orderId",
        "flow",
        "state",
        "tkKcv",
        "tmkKcv",
        "tmkIssuedAt",
        "tmkSentAt",
        "deliveredAt",
        "authFailures",
        "lockedAt"
      ].map((k) => [
        `terminal-${k}`,
        k,
        text(t[k])
      ]))), section("Timeline (audit log)", table("Timeline", [
        "#",
        "At",
        "Who",
        "Event",
        "Outcome",
        "KCV",
        "Detail"
      ], timeline.map((r) => [
        text(r.id),
        text(r.at),
        text(r.actor),
        text(r.event),
        text(r.outcome),
        text(r.kcv),
        text(r.detail)
      ]))));
    } catch (e) {
      parts.push(section(`Terminal ${sn}`, h("p", {
        class: "error"
      }, messageOf(e))));
    }
  }
  parts.push(await lockoutSection(ctx));
  ctx.main.replaceChildren(...parts);
}
async function certificatesPage(ctx) {
  const v = await get("/certificates");
  const cert = (c) => [
    text(c.label),
    text(c.subject),
    text(c.issuer),
    text(c.serialNumber),
    text(c.notAfter),
    c.revoked ? "revoked" : "valid"
  ];
  const head = [
    "What",
    "Subject",
    "Issuer",
    "Serial",
    "Not after",
    "Status"
  ];
  ctx.main.replaceChildren(section("Certificates", h("p", {}, "Issued or held: ", h("span", {
    "data-figure": "certs-issued"
  }, v.issued.length)), table("Certificates", head, v.issued.map(cert))), section("Revoked", h("p", {}, "Revoked: ", h("span", {
    "data-figure": "certs-revoked"
  }, v.revoked.length)), table("Revoked certificates", head, v.revoked.map(cert))), section("Current CRLs", v.crls.length === 0 ? h("p", {
    "data-figure": "crls"
  }, "no CRL is loaded on this server") : table("CRLs", [
    "Issuer",
    "Number",
    "This update",
    "Next update",
    "Revoked"
  ], v.crls.map((c) => [
    text(c.issuer),
    text(c.crlNumber),
    text(c.thisUpdate),
    text(c.nextUpdate),
    c.revoked.join(", ")
  ]))));
}
async function auditPage(ctx) {
  const params = new URLSearchParams(ctx.args[0] ?? "");
  const inputs = [
    "actor",
    "subject",
    "event",
    "from",
    "to"
  ].map((k) => field({
    actor: "Operator",
    subject: "Subject",
    event: "Event",
    from: "From (ISO time)",
    to: "To (ISO time)"
  }[k], {
    name: k,
    value: params.get(k) ?? ""
  }));
  const form = h("form", {
    "aria-label": "Filter the audit log"
  }, ...inputs.map((i) => i.label), h("button", {
    type: "submit"
  }, "Filter"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q2 = new URLSearchParams();
    for (const i of inputs) if (i.input.value.trim()) q2.set(i.input.name, i.input.value.trim());
    ctx.go(`audit/${q2.toString()}`);
  });
  const q = params.toString();
  const { records, chain } = await get(`/audit${q ? `?${q}` : ""}`);
  ctx.main.replaceChildren(section("Filters", form), section("Hash chain", figures([
    [
      "chain-state",
      "State",
      text(chain.state)
    ],
    [
      "chain-records",
      "Records",
      text(chain.records)
    ],
    [
      "chain-detail",
      "Detail",
      text(chain.detail)
    ]
  ])), section("Records", h("p", {}, h("span", {
    "data-figure": "audit-shown"
  }, records.length), " records shown. ", h("a", {
    href: `/console/api/audit/export${q ? `?${q}` : ""}`,
    download: "audit.ndjson"
  }, "Export as NDJSON")), table("Audit records", [
    "#",
    "At",
    "Operator",
    "Actor",
    "Event",
    "Subject",
    "Outcome",
    "KCV",
    "Detail"
  ], records.map((r) => [
    text(r.id),
    text(r.at),
    text(r.operator),
    text(r.actor),
    text(r.event),
    text(r.subject),
    text(r.outcome),
    text(r.kcv),
    text(r.detail)
  ]))));
}
async function ceremonyPage(ctx) {
  const draw = (c) => {
    const comp = field(`Your component (${c.componentBytes * 2} hex digits, not shown)`, {
      name: "component",
      type: "password",
      autocomplete: "off",
      required: true,
      spellcheck: false
    });
    const kcv = field("Its KCV", {
      name: "kcv",
      required: true,
      autocomplete: "off"
    });
    const enter = h("form", {
      "aria-label": "Enter your component"
    }, comp.label, kcv.label, h("button", {
      type: "submit"
    }, "Enter component"));
    enter.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        component: comp.input.value,
        kcv: kcv.input.value
      };
      comp.input.value = "";
      try {
        draw(await post("/ceremony/components", body));
        ctx.say("component entered: its KCV matches");
      } catch (err) {
        ctx.say(messageOf(err), true);
      }
    });
    const expected = field("Expected combined KCV (optional)", {
      name: "expectedKcv",
      autocomplete: "off"
    });
    const combine = h("form", {
      "aria-label": "Combine the components"
    }, expected.label, h("button", {
      type: "submit"
    }, "Combine"));
    combine.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        draw(await post("/ceremony/combine", {
          expectedKcv: expected.input.value
        }));
        ctx.say("components combined");
      } catch (err) {
        ctx.say(messageOf(err), true);
      }
    });
    ctx.main.replaceChildren(section(`${c.key} ceremony (${c.algorithm})`, enter), section("Components entered", table("Components entered", [
      "Custodian",
      "KCV"
    ], c.entered.map((x) => [
      x.custodian,
      x.kcv
    ])), combine), section("Ceremony record", table("Ceremony records", [
      "At",
      "Custodians (component KCV)",
      "Combined KCV",
      "Expected",
      "Matches"
    ], c.records.map((r) => [
      r.at,
      r.custodians.map((x) => `${x.custodian} (${x.componentKcv})`).join(", "),
      h("span", {
        "data-figure": "combined-kcv"
      }, r.combinedKcv),
      text(r.expectedKcv),
      text(r.matches)
    ]))));
  };
  draw(await get("/ceremony"));
}

// web/console/src/main.ts
var PAGES = {
  dashboard: dashboardPage,
  orders: ordersPage,
  terminals: terminalsPage,
  certificates: certificatesPage,
  audit: auditPage,
  ceremony: ceremonyPage
};
var main = document.getElementById("main");
var nav = document.getElementById("nav");
var who = document.getElementById("who");
var status = document.getElementById("status");
var leave = [];
var session = null;
function stopLive() {
  for (const f of leave) f();
  leave = [];
}
function say(message, error = false) {
  status.textContent = message;
  status.className = error ? "error" : "";
}
function showLogin(message = "") {
  session = null;
  nav.replaceChildren();
  who.replaceChildren();
  const id = field("Operator id", {
    name: "username",
    autocomplete: "username",
    required: true
  });
  const pw = field("Password", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true
  });
  const form = h("form", {
    "aria-label": "Log in"
  }, id.label, pw.label, h("button", {
    type: "submit"
  }, "Log in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const s = await post("/login", {
        id: id.input.value,
        password: pw.input.value
      });
      pw.input.value = "";
      start(s);
    } catch (err) {
      pw.input.value = "";
      say(messageOf(err), true);
    }
  });
  main.replaceChildren(h("section", {}, h("h2", {}, "Log in"), form));
  say(message, message !== "");
  id.input.focus();
}
function start(s) {
  session = s;
  setCsrf(s.csrf);
  document.getElementById("title").textContent = `${s.server} console`;
  const out = h("button", {
    type: "button"
  }, "Log out");
  out.addEventListener("click", async () => {
    stopLive();
    await post("/logout").catch(() => void 0);
    setCsrf("");
    location.hash = "";
    showLogin("logged out");
  });
  who.replaceChildren(`${s.operator.name} (${s.operator.role})`, out);
  nav.replaceChildren(...s.pages.map((p) => h("a", {
    href: `#${p.id}`,
    "data-page": p.id
  }, p.title)));
  say("");
  route();
}
async function route() {
  if (!session) return;
  stopLive();
  const [id, ...args] = location.hash.slice(1).split("/").map(decodeURIComponent);
  const pageId = session.pages.some((p) => p.id === id) ? id : "dashboard";
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.page === pageId) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (id && id !== pageId) {
    say(`the page ${id} is not open to the role ${session.operator.role}`, true);
  }
  const ctx = {
    session,
    main,
    args,
    onLeave: (f) => leave.push(f),
    say,
    go: (hash) => {
      if (location.hash === `#${hash}`) route();
      else location.hash = hash;
    }
  };
  try {
    await PAGES[pageId](ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      return showLogin("your session ended: log in again");
    }
    main.replaceChildren(h("p", {
      class: "error"
    }, messageOf(e)));
  }
}
globalThis.addEventListener("hashchange", route);
onSessionLost(() => {
  stopLive();
  showLogin("your session ended: log in again");
});
get("/session").then((s) => s.operator ? start(s) : showLogin(), (e) => showLogin(messageOf(e)));
