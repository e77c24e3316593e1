/// <reference lib="dom" />
/**
 * The operator console's entry point: the login form, the navigation of
 * the pages the operator's role may see, and the hash router that draws
 * them. Served as one bundle (`web/console/console.js`, built by
 * `scripts/build_console.ts`) under a CSP that forbids inline script.
 *
 * @module
 */
import { ApiError, get, onSessionLost, post, type Session, setCsrf } from "./api.ts";
import { field, h } from "./dom.ts";
import { messageOf, type Page, type PageContext } from "./page.ts";
import { dashboardPage, ordersPage } from "./pages_orders.ts";
import { auditPage, ceremonyPage, certificatesPage, terminalsPage } from "./pages_admin.ts";

const PAGES: Record<string, Page> = {
  dashboard: dashboardPage,
  orders: ordersPage,
  terminals: terminalsPage,
  certificates: certificatesPage,
  audit: auditPage,
  ceremony: ceremonyPage,
};

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const who = document.getElementById("who")!;
const status = document.getElementById("status")!;
let leave: (() => void)[] = [];
let session: Session | null = null;

/** Stops the page's live updates. */
function stopLive(): void {
  for (const f of leave) f();
  leave = [];
}

function say(message: string, error = false): void {
  status.textContent = message;
  status.className = error ? "error" : "";
}

function showLogin(message = ""): void {
  session = null;
  nav.replaceChildren();
  who.replaceChildren();
  const id = field("Operator id", { name: "username", autocomplete: "username", required: true });
  const pw = field("Password", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const form = h(
    "form",
    { "aria-label": "Log in" },
    id.label,
    pw.label,
    h("button", { type: "submit" }, "Log in"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const s = await post<Session>("/login", { id: id.input.value, password: pw.input.value });
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

function start(s: Session): void {
  session = s;
  setCsrf(s.csrf);
  document.getElementById("title")!.textContent = `${s.server} console`;
  const out = h("button", { type: "button" }, "Log out");
  out.addEventListener("click", async () => {
    stopLive();
    await post("/logout").catch(() => undefined);
    setCsrf("");
    location.hash = "";
    showLogin("logged out");
  });
  who.replaceChildren(`${s.operator.name} (${s.operator.role})`, out);
  nav.replaceChildren(
    ...s.pages.map((p) => h("a", { href: `#${p.id}`, "data-page": p.id }, p.title)),
  );
  say("");
  route();
}

async function route(): Promise<void> {
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
  const ctx: PageContext = {
    session,
    main,
    args,
    onLeave: (f) => leave.push(f),
    say,
    go: (hash) => {
      if (location.hash === `#${hash}`) route();
      else location.hash = hash;
    },
  };
  try {
    await PAGES[pageId](ctx);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      return showLogin("your session ended: log in again");
    }
    main.replaceChildren(h("p", { class: "error" }, messageOf(e)));
  }
}

globalThis.addEventListener("hashchange", route);
onSessionLost(() => {
  stopLive();
  showLogin("your session ended: log in again");
});
get<Session | { operator: null }>("/session").then(
  (s) => s.operator ? start(s as Session) : showLogin(),
  (e) => showLogin(messageOf(e)),
);
