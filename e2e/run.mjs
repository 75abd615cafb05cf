// Package-level tests, run by `cargo xtask test` after the browser tier, against a running
// companion server: `node e2e/run.mjs --server http://127.0.0.1:PORT`.
//
// 1. `npm pack` of pkg/, installed (the tarball, not a path alias) here and into the two
//    Vite apps; each app is built with Vite, and a plain app with webpack 5.
// 2. `tsc --strict` on types/usage.ts (every option and event, plus must-fail lines), and
//    `tsc --checkJs` on src/web/hub.js against the generated pkg/wsocket.d.ts (the port).
// 3. Server-side rendering: every entry point imports in Node, and React and Vue render
//    a component using the hooks without touching `window`.
// 4. In Debian's Chromium (playwright-core): each Vite app shows live data, reconnects after
//    a forced drop, gets every message of a 500-message burst, and logs no console error;
//    the webpack app connects and gets data;
//    the legacy page runs on wsocket/compat; every scenario of the browser tier runs
//    again through the package's `WsClient` (with `--scenarios`, tier 2's servers); on a blank page, `new WsClient()` before
//    `ready()` throws `NOT_READY`, `free()` from a listener inside one of the client's own
//    calls does not throw and releases the client, and a freed client's calls throw
//    `CLIENT_FREED`; after forced garbage collections, a closed client the page dropped is
//    collected even though its listeners or token provider use it, and a connected one
//    it dropped is not and still delivers; in a module worker the package connects, gets
//    a reply and a pushed frame; the demo page is screenshotted after it got data
//    (target/e2e/demo.png); a failed .wasm fetch rejects `ready()` with `LOAD_FAILED`
//    and the next `ready()` loads, and a compat client reports it and connects.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { basename, dirname, extname, join, normalize } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fastapiTest, installBackends, nestSioTest, nestWsTest, startBackends, stopBackends } from "./backends.mjs";
import { clusterTest, startCluster } from "./cluster.mjs";
import { crossTabTest, outboxCrossTabTest, outboxTest } from "./tabs.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const server = arg("--server");
// `--scenarios SERVER,AUTH_SERVER,SIO_SERVER`: tier 2's servers, for the scenarios.
const scenarioServers = arg("--scenarios")?.split(",");
if (!server) throw new Error("usage: node e2e/run.mjs --server http://127.0.0.1:PORT");
const wsBase = server.replace(/^http/, "ws");
const artifacts = join(root, "target", "e2e");
mkdirSync(artifacts, { recursive: true });

const started = Date.now();
const step = (what) => console.log(`e2e [${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);
const run = (cmd, argv, cwd) => execFileSync(cmd, argv, { cwd, stdio: ["ignore", "inherit", "inherit"] });
const quiet = (cmd, argv, cwd) => execFileSync(cmd, argv, { cwd, encoding: "utf8" });

// --- 1. pack, install, build -----------------------------------------------------------
const work = join(here, ".work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work);
const packed = JSON.parse(quiet("npm", ["pack", join(root, "pkg"), "--pack-destination", work, "--json"]))[0];
const tarball = join(work, packed.filename);
step(`packed ${packed.filename}: ${packed.files.length} files, ${packed.size} bytes`);

function install(dir) {
  // One `npm install`: the app's locked dependencies plus the tarball. Not `npm ci`: the
  // registry mirror here leaves other platforms' optional packages (rollup's) out of a
  // fresh lock file, which `npm ci` then refuses. `--no-save` still rewrites the lock
  // file, so the committed one is put back.
  const lock = join(dir, "package-lock.json");
  const locked = readFileSync(lock);
  try {
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", tarball], dir);
  } finally {
    writeFileSync(lock, locked);
  }
}
const apps = ["react-app", "vue-app"];
for (const dir of [here, ...apps.map((a) => join(here, a))]) install(dir);
step("installed the tarball into e2e/, react-app/, vue-app/");
for (const app of apps) {
  run(join(here, app, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], join(here, app));
  const assets = readdirSync(join(here, app, "dist", "assets"));
  if (!assets.some((f) => f.endsWith(".wasm"))) throw new Error(`${app}: Vite did not emit the .wasm`);
}
step("built both apps with Vite (each emitted the .wasm as an asset)");
{
  const { default: webpack } = await import(pathToFileURL(join(here, "node_modules", "webpack", "lib", "index.js")).href);
  const { default: config } = await import(pathToFileURL(join(here, "webpack-app", "webpack.config.mjs")).href);
  const stats = await new Promise((resolve, reject) =>
    webpack(config, (err, result) => (err ? reject(err) : resolve(result))));
  if (stats.hasErrors()) throw new Error(`webpack: ${stats.toString("errors-only")}`);
  if (!readdirSync(join(here, "webpack-app", "dist")).some((f) => f.endsWith(".wasm"))) {
    throw new Error("webpack did not emit the .wasm");
  }
}
step("built the webpack app (no loader or plugin; it emitted the .wasm as an asset)");

// --- 2. types -----------------------------------------------------------------------------
run(join(here, "node_modules", ".bin", "tsc"), ["-p", join(here, "types", "tsconfig.json")], here);
step("tsc --strict: types/usage.ts type-checks");
// The README's first example, as an app would paste it, under the same strict settings.
{
  const example = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, "README.md"), "utf8"))?.[1];
  if (example === undefined) throw new Error("README.md: no ts example");
  writeFileSync(join(work, "readme-example.ts"), example);
  writeFileSync(join(work, "tsconfig.json"), JSON.stringify({ extends: "../types/tsconfig.json", files: ["readme-example.ts"] }));
  run(join(here, "node_modules", ".bin", "tsc"), ["-p", join(work, "tsconfig.json")], here);
  step("tsc --strict: the README's first example type-checks");
}
run(join(here, "node_modules", ".bin", "tsc"), ["-p", join(here, "types", "tsconfig.hub.json")], here);
step("tsc --checkJs: the hub's calls into the wasm side match the generated wsocket.d.ts");

// --- 3. server-side rendering -----------------------------------------------------------
{
  const load = (spec) => import(pathToFileURL(join(here, "node_modules", spec)).href);
  const pkgDir = "wsocket";
  const entries = { ".": "index.js", preconnect: "preconnect.js", compat: "compat.js", react: "react.js", vue: "vue.js" };
  const loaded = {};
  for (const [name, file] of Object.entries(entries)) loaded[name] = await load(join(pkgDir, file));
  assert(typeof loaded["."].WsClient === "function", "wsocket exports WsClient");
  assert(typeof loaded.compat.Wsocket === "function", "wsocket/compat exports Wsocket");
  assert(typeof globalThis.window === "undefined", "no window in Node");
  // Node has a WebSocket of its own: rendering on the server must not open one.
  assert(loaded.preconnect.preconnect("ws://127.0.0.1:9/ws") === false, "preconnect() opens nothing during SSR");

  const React = await load("react/index.js");
  const { renderToString } = await load("react-dom/server.node.js");
  const { useWsocket } = loaded.react;
  const Status = () => React.createElement("p", null, `state ${useWsocket("ws://x/ws").state}`);
  const html = renderToString(React.createElement(Status));
  assert(html.includes("state closed"), `React SSR renders the hook: ${html}`);

  const vue = await load("vue/index.mjs");
  const { renderToString: vueRender } = await load("vue/server-renderer/index.mjs");
  const app = vue.createSSRApp({
    setup() {
      const { state } = loaded.vue.useWsocket("ws://x/ws");
      return () => vue.h("p", `state ${state.value}`);
    },
  });
  const vueHtml = await vueRender(app);
  assert(vueHtml.includes("state closed"), `Vue SSR renders the composable: ${vueHtml}`);
  step("SSR: the five entry points import in Node, preconnect() opens nothing; React and Vue render the hooks");
}

// --- 4. in Chromium ----------------------------------------------------------------------
const { chromium } = await import(pathToFileURL(join(here, "node_modules", "playwright-core", "index.mjs")).href);
const statics = await serve({
  "/react/": join(here, "react-app", "dist"),
  "/vue/": join(here, "vue-app", "dist"),
  "/legacy/": join(here, "legacy"),
  "/webpack/": join(here, "webpack-app"),
  "/pkg/": join(here, "node_modules", "wsocket"),
  "/api/": join(here, "api"),
  "/scenarios/": join(root, "tests", "web"),
});
const browser = await chromium.launch({
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = false;
let backends = {};
let cluster = null;
try {
  for (const app of ["react", "vue"]) await check(`${app} app`, (page) => appTest(page, app));
  await check("React app with crossTab: two tabs of the Vite build share one connection", reactCrossTabTest);
  await check("webpack app", webpackTest);
  await check("legacy page on wsocket/compat", legacyTest);
  await check("the package's WsClient: before ready(), free() from a listener, after free()", freeInListenerTest);
  await check("the package's WsClient: a dropped client is collected when closed, not while connected", collectedWhenClosedTest);
  await check("the package in a module Web Worker", workerTest);
  await check("a failed .wasm fetch: LOAD_FAILED, then ready() and compat load again", loadFailureTest, /Failed to load resource/);
  await check("wsocket/preconnect: one socket, opened before the wasm, taken with what it received", preconnectTest);
  await check("a failed fetch of the Socket.IO chunk: LOAD_FAILED, then connected on the retry", sioLoadFailureTest, /Failed to load resource|Failed to fetch dynamically imported module/);
  await check("crossTab with a SharedWorker: 3 tabs, 1 connection, 1 heartbeat, replies routed, the first tab closed mid-stream", () => crossTabTest({ browser, statics, server, assert, step, until }, false));
  await check("crossTab without SharedWorker (Web Locks leader): the same, taken over within 2 s", () => crossTabTest({ browser, statics, server, assert, step, until }, true));
  await check("outbox: 500 reliable sends, two reloads and a closed tab mid-way, each processed once", () => outboxTest({ browser, statics, server, assert, step, until }));
  await check("outbox with crossTab: a tab closed with sends queued, another tab sends them, each processed once", () => outboxCrossTabTest({ browser, statics, server, assert, step, until }));
  if (scenarioServers) await check("every browser scenario of tests/web/scenarios.js through the package's WsClient", scenariosTest, /WebSocket connection to|Failed to load resource/);
  const only = arg("--only") === undefined ? null : new RegExp(arg("--only"));
  if (!only || only.test("NestJS FastAPI")) {
    step("servers we did not write: installing and starting NestJS (ws, socket.io) and FastAPI");
    installBackends(root);
    backends = await startBackends(root);
  }
  // While a server restarts, the browser logs each refused reconnect attempt.
  const restarting = /ERR_CONNECTION_REFUSED/;
  await check("NestJS platform-ws market gateway: PONG unanswered, replyEvent, handleConnection check, restart", (page) => nestWsTest(page, statics, backends, assert), restarting);
  await check("NestJS platform-socket.io /events: JWT in handleConnection, rooms and acks, restart", (page) => nestSioTest(page, statics, backends, assert), restarting);
  await check("FastAPI: ids, topics, batches, rate limit, UNKNOWN_MESSAGE_TYPE, restart with a new epoch", (page) => fastapiTest(page, statics, backends, assert), restarting);
  if (!only || only.test("three nodes over Redis")) {
    step("many nodes: Debian's redis-server and three companion servers with --redis");
    cluster = await startCluster(root);
  }
  await check("three nodes over Redis: 20,000 pushes, 50 faults, a node killed, Redis restarted and down 5 s", (page) => clusterTest(page, statics, cluster, assert, step), /ERR_CONNECTION_REFUSED|WebSocket connection to/);
  await check("demo page screenshot", demoTest);
} finally {
  await browser.close();
  statics.close();
  await stopBackends(backends);
  await cluster?.stop();
}
if (failed) process.exit(1);
step("all e2e checks passed");

// --- the checks ---------------------------------------------------------------------------

async function check(name, body, allowed) {
  // `--only REGEX` (for development): only the checks whose name matches.
  if (arg("--only") !== undefined && !new RegExp(arg("--only")).test(name)) return;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("console", (m) => m.type() === "error" && !allowed?.test(m.text()) && problems.push(`console error: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  try {
    await body(page);
    if (problems.length) throw new Error(problems.join("\n"));
    step(`ok: ${name}`);
  } catch (e) {
    failed = true;
    console.error(`e2e FAILED: ${name}\n${e.stack ?? e}`);
    await page.screenshot({ path: join(artifacts, `${name.replace(/\W+/g, "-")}-failed.png`) }).catch(() => {});
  } finally {
    await page.close();
  }
}

async function control(path) {
  const res = await fetch(`${server}${path}`, { method: "POST" });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

function text(page, id) {
  return page.locator(`[data-testid="${id}"]`).first().textContent({ timeout: 1000 }).catch(() => "");
}

async function until(what, probe, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Issue 24, item 2, and issue 26: the bundler put the code of each option an app turns
// on in chunks of their own, and the page, which turns none on, fetched none of them:
// the Socket.IO decoder (src/web/sio.js, the only file with the Engine.IO query), the
// shared sockets of `crossTab` (tabs.js: a bundler may emit it twice, as a chunk and as
// the SharedWorker's script) and the outbox (outbox.js).
function assertNoOptionChunks(dist, requested) {
  const files = readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith(".js"));
  const fetched = requested.filter((u) => u.endsWith(".js"));
  assert(fetched.length > 0, `the page fetched no JS: ${requested.join(" ")}`);
  const found = [];
  for (const [name, marker, most] of [["Socket.IO", "EIO=4&transport=websocket", 1], ["crossTab", "wsocket-lead:", 2], ["outbox", "wsocket-outbox", 1]]) {
    const chunks = files.filter((f) => readFileSync(join(dist, f), "utf8").includes(marker));
    assert(chunks.length >= 1 && chunks.length <= most, `the ${name} code in a chunk of its own in ${dist}: ${JSON.stringify(chunks)} of ${JSON.stringify(files)}`);
    for (const chunk of chunks) assert(!fetched.some((u) => u.endsWith(basename(chunk))), `the page fetched ${chunk}: ${fetched.join(" ")}`);
    found.push(`${name} ${chunks.map((c) => `${basename(c)} (${statSync(join(dist, c)).size} B)`).join(" and ")}`);
  }
  return `chunks ${found.join(", ")}, none fetched; the page fetched ${fetched.map((u) => basename(u)).join(", ")}`;
}

async function appTest(page, app) {
  const cid = `e2e-${app}-${Date.now()}`;
  const ws = `${wsBase}/ws?cid=${cid}`;
  const requested = [];
  page.on("request", (r) => requested.push(r.url()));
  await page.goto(`${statics.url}/${app}/?ws=${encodeURIComponent(ws)}`);
  await until("open", async () => (await text(page, "state")) === "open");
  step(`${app} app: ${assertNoOptionChunks(join(here, `${app}-app`, "dist"), requested)}`);
  await until("live ticker rows", async () => (await page.locator('[data-testid="ticker-row"]').count()) > 0);
  // The app asks for its URL twice, once spelled `HTTP://`: one shared client, one connection.
  await until("one client for both spellings", async () => (await text(page, "shared")) === "true");
  const held = await (await fetch(`${server}/control/connections?cid=${cid}`)).json();
  assert(held.connections === 1, `one connection for both spellings: ${JSON.stringify(held)}`);
  // A forced drop: the server cuts the TCP connection, the app must come back by itself.
  // The first `open` may come before the listener is attached; count from here.
  const opens = Number(await text(page, "opens"));
  const dropped = await control(`/control/drop?cid=${cid}`);
  assert(dropped.connections >= 1, `drop applied to the app's connection: ${JSON.stringify(dropped)}`);
  await until("an open after the drop", async () => Number(await text(page, "opens")) > opens);
  await until("open again", async () => (await text(page, "state")) === "open");
  const before = await page.locator('[data-testid="ticker-row"] td:nth-child(2)').first().textContent();
  await until("the ticker moving after the reconnect", async () =>
    (await page.locator('[data-testid="ticker-row"] td:nth-child(2)').first().textContent()) !== before);
  // 500 messages published in one millisecond: every one must reach the list.
  await control(`/control/burst?topic=e2e:burst&count=500&per_ms=500`);
  await until("all 500 burst messages", async () => (await text(page, "burst")) === "500", 5000);
  await page.screenshot({ path: join(artifacts, `${app}-app.png`) });
  // Unmount: the shared client closes, the server sees the connection go.
  await page.click('[data-testid="unmount"]');
  await until("the connection closed after unmount", async () => {
    const res = await fetch(`${server}/control/connections?cid=${cid}`);
    return (await res.json()).connections === 0;
  });
}

// Issue 26: `crossTab` through the React hook in the Vite build, where the SharedWorker's
// script is the bundle's own chunk: two tabs, one connection, both get every message of
// a burst, and the second keeps its data after the first is closed.
async function reactCrossTabTest() {
  const cid = `e2e-react-tabs-${Date.now()}`;
  const ws = `${wsBase}/ws?cid=${cid}`;
  const context = await browser.newContext();
  try {
    const tabs = [await context.newPage(), await context.newPage()];
    for (const page of tabs) {
      await page.goto(`${statics.url}/react/?crossTab=1&ws=${encodeURIComponent(ws)}`);
      await until("open", async () => (await text(page, "state")) === "open");
    }
    const via = await Promise.all(tabs.map((page) => text(page, "via")));
    assert(via.every((v) => v === "sharedworker"), `the socket lives in the Vite build's SharedWorker: ${via}`);
    const held = await (await fetch(`${server}/control/connections?cid=${cid}`)).json();
    assert(held.connections === 1, `one connection for two tabs: ${held.connections}`);
    await control(`/control/burst?topic=e2e:burst&count=500&per_ms=500`);
    for (const page of tabs) await until("all 500 burst messages in each tab", async () => (await text(page, "burst")) === "500", 5000);
    const opens = await text(tabs[1], "opens");
    await tabs[0].close();
    const row = '[data-testid="ticker-row"] td:nth-child(2)';
    const before = await tabs[1].locator(row).first().textContent();
    await until("the ticker moving in the other tab", async () => (await tabs[1].locator(row).first().textContent()) !== before);
    assert((await text(tabs[1], "opens")) === opens, "the other tab did not reconnect");
    step("React app with crossTab (Vite build): 2 tabs, 1 connection, 500 of 500 burst messages in each, the socket in the SharedWorker");
  } finally {
    await context.close();
  }
}

async function webpackTest(page) {
  const requested = [];
  page.on("request", (r) => requested.push(r.url()));
  await page.goto(`${statics.url}/webpack/?ws=${encodeURIComponent(`${wsBase}/ws`)}`);
  await until("open", () => page.evaluate(() => document.body.dataset.state === "open"));
  step(`webpack app: ${assertNoOptionChunks(join(here, "webpack-app", "dist"), requested)}`);
  await until("a ticker message", () => page.evaluate(() => Boolean(document.body.dataset.symbol)));
  // `crossTab` in the webpack build: webpack sees `new SharedWorker(import.meta.url)` and
  // emits tabs.js as the worker's own chunk, which the page starts.
  await page.goto(`${statics.url}/webpack/?crossTab=1&ws=${encodeURIComponent(`${wsBase}/ws`)}`);
  await until("open with crossTab", () => page.evaluate(() => document.body.dataset.state === "open"));
  const via = await page.evaluate(() => document.body.dataset.via);
  assert(via === "sharedworker", `webpack app with crossTab: the socket in ${via}`);
  await until("a ticker message with crossTab", () => page.evaluate(() => Boolean(document.body.dataset.symbol)));
}

async function legacyTest(page) {
  const cid = `e2e-legacy-${Date.now()}`;
  const ws = `${wsBase}/legacy?cid=${cid}`;
  const pongs = [];
  page.on("websocket", (socket) => {
    const sent = { url: socket.url(), pongs: 0 };
    pongs.push(sent);
    socket.on("framesent", (f) => f.payload === "PONG" && (sent.pongs += 1));
  });
  await page.goto(`${statics.url}/legacy/?ws=${encodeURIComponent(ws)}`);
  const legacy = () => page.evaluate(() => JSON.parse(JSON.stringify(window.legacy)));
  await until("ticks through on()", async () => (await legacy()).ticks >= 2);
  let l = await legacy();
  assert(l.second === l.ticks || l.second === l.ticks - 1, `both on() callbacks run: ${JSON.stringify(l)}`);
  assert(l.unread.length === 1 && l.unread[0].count === 3 && l.unread[0].message === "ok",
    `a send() before connection() is delivered once, callback(message, data): ${JSON.stringify(l.unread)}`);
  // A frame that is not JSON: reported, nothing thrown, ticks keep coming.
  await control(`/control/malformed?cid=${cid}`);
  const ticks = l.ticks;
  await until("ticks after a malformed frame", async () => (await legacy()).ticks > ticks + 1);
  // Drops, twice: the reconnect works every time (the old one worked once, on 1006 only).
  for (const [i, path] of [`/control/drop?cid=${cid}`, `/control/close?cid=${cid}&code=1012&reason=restart`].entries()) {
    await control(path);
    await until(`open number ${i + 2}`, async () => (await legacy()).opens >= i + 2);
  }
  const after = (await legacy()).ticks;
  await until("ticks after the reconnects (onOpen resubscribed)", async () => (await legacy()).ticks > after + 1);
  // The PONG heartbeat: every 10 s, on the live socket only, never two timers.
  await until("a PONG heartbeat on the current socket", async () => pongs.at(-1)?.pongs >= 1, 12000);
  l = await legacy();
  assert(l.errors.includes("MALFORMED_FRAME"), `the malformed frame went to onError: ${l.errors}`);
  assert(l.closes >= 2, `onClose per close: ${l.closes}`);
  const total = pongs.reduce((n, s) => n + s.pongs, 0);
  assert(total <= 2, `no duplicate heartbeat timers: ${JSON.stringify(pongs)}`);
  await page.evaluate(() => window.socket.close());
  await until("closed", () => page.evaluate(() => window.socket.state === "closed"));
}

// A `state` listener runs inside `close()`, which holds the client: `free()` there must not
// throw (wasm-bindgen's own `free()` did; js/finish-package.mjs), and the client must still
// be released when `close()` returns: no listener hears of it again, no socket is left.
// Then `free()` again does nothing, and any other call throws `CLIENT_FREED`; before the
// wasm is loaded, `new WsClient()` throws `NOT_READY` (js/index.js).
async function freeInListenerTest(page) {
  const cid = `e2e-free-${Date.now()}`;
  await page.goto(`${statics.url}/api/`);
  const r = await page.evaluate(async (url) => {
    const { default: init, WsClient } = await import("/pkg/index.js");
    let early;
    try {
      new WsClient(url, {});
      early = "no error";
    } catch (e) {
      early = `${e.code}: ${e.message}`;
    }
    await init();
    const client = new WsClient(url, { heartbeatIntervalMs: 0 });
    const errors = [], states = [];
    let threw = null;
    client.on("error", (e) => errors.push(`${e.code}: ${e.message}`));
    client.on("state", ({ to }) => {
      states.push(to);
      if (to !== "closing") return;
      try {
        client.free();
      } catch (e) {
        threw = String(e);
      }
    });
    // Added after the one that frees: it must not hear of the state that freed it.
    const later = [];
    client.on("state", ({ to }) => later.push(to));
    await new Promise((resolve) => {
      client.on("open", resolve);
      client.connect();
    });
    client.close();
    // The socket's close would have been `closed`, but the client is gone by then.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Afterwards: `free()` again does nothing; every other call says the client was freed.
    const after = {};
    const attempt = (what, f) => {
      try {
        f();
        after[what] = "no error";
      } catch (e) {
        after[what] = e.code ?? String(e);
      }
    };
    attempt("free", () => client.free());
    attempt("send", () => client.send({ type: "x" }));
    attempt("request", () => client.request("x"));
    attempt("on", () => client.on("open", () => {}));
    attempt("state", () => client.state);
    attempt("connect", () => client.connect());
    return { early, errors, states, later, threw, after };
  }, `${wsBase}/ws?cid=${cid}`);
  assert(/^NOT_READY: .*ready\(\)/.test(r.early), `new WsClient() before ready() says so: ${r.early}`);
  assert(r.threw === null, `free() inside a listener does not throw: ${r.threw}`);
  assert(r.errors.length === 0, `no error event: ${r.errors}`);
  assert(JSON.stringify(r.states) === '["connecting","open","closing"]', `no state after the free: ${r.states}`);
  assert(JSON.stringify(r.later) === '["connecting","open"]', `a later listener of the same state does not run after the free: ${r.later}`);
  const expected = { free: "no error", send: "CLIENT_FREED", request: "CLIENT_FREED", on: "CLIENT_FREED", state: "CLIENT_FREED", connect: "CLIENT_FREED" };
  assert(JSON.stringify(r.after) === JSON.stringify(expected), `a freed client's calls: ${JSON.stringify(r.after)}`);
  await until("no connection left for the freed client", async () => {
    const res = await fetch(`${server}/control/connections?cid=${cid}`);
    return (await res.json()).connections === 0;
  });
}

// A client whose listeners use it, dropped by the page: collected once it is closed (the
// hub holds the listeners only while it is connecting, open or reconnecting; js/index.js
// and `adopt` in src/web/hub.js), never while it is connected, which goes on delivering
// as a `WebSocket` would. Garbage collection is forced over CDP, at most 20 times.
async function collectedWhenClosedTest(page) {
  const id = Date.now();
  await page.goto(`${statics.url}/api/`);
  await page.evaluate(async ([base, id]) => {
    const { default: init, WsClient } = await import("/pkg/index.js");
    await init();
    window.WsClient = WsClient;
    window.collected = [];
    window.heard = [];
    const registry = new FinalizationRegistry((name) => window.collected.push(name));
    // One function per client: closures of one function share one context in V8, so a
    // listener of the connected client would keep the other two alive.
    // Connects `client`, then closes it for good. (The listeners it adds are arrows of
    // this function: they refer to `client`, its parameter, and nothing else.)
    const connectThenClose = async (client) => {
      await new Promise((resolve) => {
        client.on("open", resolve);
        client.connect();
      });
      await new Promise((resolve) => {
        client.on("state", ({ to }) => to === "closed" && resolve());
        client.close();
      });
    };
    const makeClosed = async () => {
      const closed = new WsClient(`${base}/ws?cid=gc-closed-${id}`, { heartbeatIntervalMs: 0 });
      closed.on("open", () => closed.subscribe(`gc:closed:${id}`));
      await connectThenClose(closed);
      registry.register(closed, "closed");
    };
    const makeNever = () => {
      const never = new WsClient(`${base}/ws`, {});
      never.on("open", () => never.send({ type: "hello" }));
      registry.register(never, "never connected");
    };
    // A token provider that uses the client: the wasm side must not hold it while closed.
    const makeWithProvider = async () => {
      const provided = new WsClient(`${base}/ws?cid=gc-provider-${id}`, {
        heartbeatIntervalMs: 0,
        token: () => `t-${provided.stats().reconnects}`,
      });
      await connectThenClose(provided);
      registry.register(provided, "token provider");
    };
    const makeOpen = async () => {
      const open = new WsClient(`${base}/ws?cid=gc-open-${id}`, { heartbeatIntervalMs: 0 });
      open.on(`gc:open:${id}`, (data) => window.heard.push([data, open.state]));
      const subscribed = new Promise((resolve) => open.on("subscribed", resolve));
      open.subscribe(`gc:open:${id}`);
      open.connect();
      await subscribed;
      registry.register(open, "open");
    };
    await makeClosed();
    makeNever();
    await makeWithProvider();
    await makeOpen();
  }, [wsBase, id]);
  const cdp = await page.context().newCDPSession(page);
  let collected = [];
  for (let i = 0; i < 20 && collected.length < 3; i++) {
    await cdp.send("HeapProfiler.collectGarbage");
    await new Promise((resolve) => setTimeout(resolve, 100));
    collected = await page.evaluate(() => window.collected);
  }
  assert(collected.includes("closed"), `a closed client the page dropped is collected: ${collected}`);
  assert(collected.includes("never connected"), `so is one that never connected: ${collected}`);
  assert(collected.includes("token provider"), `and a closed one whose token provider uses it: ${collected}`);
  assert(!collected.includes("open"), `a connected one is not: ${collected}`);
  const heard = await page.evaluate(async ([base, id]) => {
    const publisher = new window.WsClient(`${base}/ws?cid=gc-publisher-${id}`, { heartbeatIntervalMs: 0 });
    await new Promise((resolve) => {
      publisher.on("open", resolve);
      publisher.connect();
    });
    publisher.send({ type: "publish", topic: `gc:open:${id}`, data: 7 });
    const end = Date.now() + 5000;
    while (Date.now() < end && window.heard.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    publisher.close();
    publisher.free();
    return window.heard;
  }, [wsBase, id]);
  assert(JSON.stringify(heard) === '[[7,"open"]]', `the dropped connected client still delivers: ${JSON.stringify(heard)}`);
}

// Issue 22, #5 and #6: the first fetch of the .wasm fails (a network blip). `ready()`
// rejects with a WsError `LOAD_FAILED` instead of keeping the rejection for the life of
// the page: the next `ready()` loads. A compat client made during the blip reports
// `LOAD_FAILED` to `onError` (a WsError with a code, as its type says) and connects once
// its own retry loads the wasm.
async function loadFailureTest(page) {
  let fetches = 0;
  await page.route("**/wsocket_bg.wasm", (route) => (fetches++ === 0 ? route.abort("failed") : route.continue()));
  await page.goto(`${statics.url}/api/`);
  const r = await page.evaluate(async (url) => {
    const { ready } = await import("/pkg/index.js");
    const { Wsocket } = await import("/pkg/compat.js");
    const errors = [];
    let opened = 0;
    const socket = new Wsocket(url, { onError: (e) => errors.push(`${e.name} ${e.code}`), onOpen: () => opened++ });
    socket.connection();
    let first;
    try {
      await ready();
      first = "resolved";
    } catch (e) {
      first = `${e.name} ${e.code} ${e.cause ? "with a cause" : "no cause"}`;
    }
    let second;
    try {
      await ready();
      second = "resolved";
    } catch (e) {
      second = `${e.code}`;
    }
    const deadline = Date.now() + 10000;
    while (opened === 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    socket.close();
    return { first, second, errors, opened };
  }, `${wsBase}/legacy?cid=e2e-load-${Date.now()}`);
  assert(r.first === "WsError LOAD_FAILED with a cause", `the failed load: ${r.first}`);
  assert(r.second === "resolved", `ready() again loads: ${r.second}`);
  assert(r.errors[0] === "WsError LOAD_FAILED", `compat onError: ${JSON.stringify(r.errors)}`);
  assert(r.opened === 1, `compat connected after its retry: ${r.opened}`);
  assert(fetches === 2, `two fetches of the .wasm: ${fetches}`);
}

// Issue 24, item 5: `preconnect` from the package's small entry opens the socket before
// anything else of the client is loaded; the client made later takes it, with the frames
// the server sent meanwhile, and the server sees one connection. An early socket no
// client takes is closed after 10 s.
async function preconnectTest(page) {
  const cid = `e2e-early-${Date.now()}`;
  const url = `${wsBase}/ws?cid=${cid}`;
  const unused = `${wsBase}/ws?cid=${cid}-unused`;
  const count = async (c) => (await (await fetch(`${server}/control/connections?cid=${c}`)).json()).connections;
  await page.goto(`${statics.url}/api/`);
  const opened = await page.evaluate(async ([url, unused]) => {
    const { preconnect } = await import("/pkg/preconnect.js");
    window.early = { again: undefined, hello: [], echo: null, error: null };
    const first = preconnect(url);
    window.early.again = preconnect(url);
    return [first, preconnect(unused), typeof window.WsClient];
  }, [url, unused]);
  assert(opened[0] === true && opened[1] === true, `preconnect() opened: ${opened}`);
  await until("the early sockets at the server", async () => (await count(cid)) === 1 && (await count(`${cid}-unused`)) === 1);
  // Pushed before any client exists.
  for (const n of [1, 2]) {
    const res = await fetch(`${server}/control/send?cid=${cid}`, { method: "POST", body: JSON.stringify({ type: "hello", data: n }) });
    assert(res.ok, `control/send: ${res.status}`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const r = await page.evaluate(async (url) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    await ready();
    const ws = new WsClient(url, { reconnect: false });
    ws.on("hello", (n) => window.early.hello.push(n));
    ws.connect();
    window.early.echo = (await ws.request("echo", { n: 7 }, { timeoutMs: 5000 })).data;
    window.early.reconnects = ws.stats().reconnects;
    window.client = ws;
    return window.early;
  }, url);
  assert(r.again === false, `a second preconnect of the URL: ${r.again}`);
  assert(JSON.stringify(r.hello) === "[1,2]", `frames received before the client, in order: ${JSON.stringify(r.hello)}`);
  assert(r.echo?.n === 7, `the request on the taken socket: ${JSON.stringify(r.echo)}`);
  assert((await count(cid)) === 1, `one connection at the server: ${await count(cid)}`);
  step("the client took the early socket: 1 server connection, 2 early frames delivered in order");
  await until("the unused early socket closed after 10 s", async () => (await count(`${cid}-unused`)) === 0, 15000);
  assert((await count(cid)) === 1, "the client's connection stays");
  await page.evaluate(() => window.client.close());
}

// Issue 24, item 2: the Socket.IO code is fetched when a Socket.IO client first connects;
// a failed fetch is reported (LOAD_FAILED) and retried with the reconnect backoff, and
// the client connects once it loads.
async function sioLoadFailureTest(page) {
  let fetches = 0;
  await page.route("**/sio.js", (route) => (fetches++ === 0 ? route.abort("failed") : route.continue()));
  await page.goto(`${statics.url}/api/`);
  const r = await page.evaluate(async (url) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    await ready();
    const errors = [];
    const io = new WsClient(url, { protocol: "socketio", namespace: "/événements", minDelayMs: 50, maxDelayMs: 200 });
    io.on("error", (e) => errors.push(`${e.code}: ${e.message}`));
    io.connect();
    const deadline = Date.now() + 10000;
    while (io.state !== "open" && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    const state = io.state;
    const reply = await io.request("echo", { n: 1 }, { timeoutMs: 5000 }).then((m) => m.type, (e) => `failed ${e.code}`);
    io.close();
    return { errors, state, reply };
  }, server);
  assert(/^LOAD_FAILED: could not load the Socket.IO code/.test(r.errors[0] ?? ""), `the failed fetch reported: ${JSON.stringify(r.errors)}`);
  assert(r.state === "open", `connected after the retry: ${r.state} ${JSON.stringify(r.errors)}`);
  assert(r.reply === "ack", `an ack on the connection: ${r.reply}`);
  assert(fetches === 2, `two fetches of the chunk: ${fetches}`);
}

// Every scenario of the browser tier (tests/web/scenarios.js), again, with the client
// made as an app makes it: `new WsClient()` of the installed package's entry, whose
// `send` fast path and `request` signal the bare wasm-bindgen class does not have.
async function scenariosTest(page) {
  await page.goto(`${statics.url}/api/`);
  const r = await page.evaluate(async ([server, auth, sio]) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    const s = await import("/scenarios/scenarios.js");
    await ready();
    const make = (url, options) => new WsClient(url, options);
    const failures = [];
    let ran = 0;
    const attempt = async (name, f) => {
      try {
        await f();
        ran++;
      } catch (e) {
        failures.push(`${name}: ${e?.message ?? e}`);
      }
    };
    for (const name of s.names()) await attempt(name, () => s.run(name, server, auth, make));
    for (const name of s.sioNames()) {
      // Connection state recovery is the reference server's only (as in tier 2).
      if (name !== "sioConnectionStateRecovery") await attempt(`${name} (socketioxide)`, () => s.runSio(name, auth, make));
      await attempt(`${name} (socket.io)`, () => s.runSio(name, sio, make));
    }
    return { ran, failures };
  }, scenarioServers);
  assert(r.failures.length === 0, `${r.failures.length} scenarios failed through the package:\n${r.failures.join("\n")}`);
  step(`${r.ran} scenarios passed through the package`);
}

// The package off the main thread: a module worker (e2e/api/worker.js) loads the wasm,
// connects, gets a request's reply and a pushed frame, then closes.
async function workerTest(page) {
  await page.goto(`${statics.url}/api/`);
  const url = `${wsBase}/ws?cid=e2e-worker-${Date.now()}`;
  const r = await page.evaluate((url) => new Promise((resolve, reject) => {
    const worker = new Worker("/api/worker.js", { type: "module" });
    const timer = setTimeout(() => reject(new Error("the worker did not answer in 10 s")), 10000);
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.onmessage = ({ data }) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(data);
    };
    worker.postMessage({ url });
  }), url);
  assert(r.failed === undefined, `the worker's client failed: ${r.failed}`);
  assert(JSON.stringify(r.reply) === '{"n":5}', `the request's reply: ${JSON.stringify(r.reply)}`);
  assert(r.pushed === "sent", `the echoed frame reached its listener: ${JSON.stringify(r.pushed)}`);
  assert(r.state === "open" && r.messagesIn >= 2 && r.messagesOut >= 2, `state and counters: ${JSON.stringify(r)}`);
  assert(r.errors.length === 0, `no errors: ${r.errors}`);
  assert(r.path === "accepted", `a path URL in a worker: ${r.path}`);
}

async function demoTest(page) {
  await page.goto(`${server}/`);
  await until("demo open", async () => (await page.textContent("#state")) === "open");
  await until("ticker rows and task bars", async () =>
    (await page.locator("#ticker tbody tr").count()) >= 2 && (await page.locator(".task").count()) >= 1);
  // The topic controls: subscribe to a new topic, publish to it, see it in the log.
  await page.fill("#topic-name", "user:42");
  await page.click("#topic-form button");
  await until("the subscription", async () => (await page.textContent("#log")).includes("subscribed user:42"));
  await page.click("#publish-form button");
  await until("the published message in the log", async () => (await page.textContent("#log")).includes('user:42: {"text":"hello"}'));
  // A forced drop from the page's own button, and the reconnect.
  await page.click("#drop");
  await until("a reconnect in the stats", async () => Number(await page.textContent('#stats [data-stat="reconnects"]')) >= 1);
  await until("open again", async () => (await page.textContent("#state")) === "open");
  await until("an RTT from the heartbeat", async () => (await page.textContent('#stats [data-stat="rttMs"]')).endsWith("ms"), 6000);
  const path = join(artifacts, "demo.png");
  await page.screenshot({ path, fullPage: true });
  assert(statSync(path).size > 20000, "the screenshot has content");
  step(`demo screenshot: ${path}`);
}

function assert(ok, what) {
  if (!ok) throw new Error(`assertion failed: ${what}`);
}

/** A static file server for the built apps, the legacy page and the installed package. */
function serve(mounts) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".png": "image/png", ".svg": "image/svg+xml" };
  const http = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    if (!mount) return res.writeHead(404).end();
    let file = normalize(join(mounts[mount], path.slice(mount.length)));
    if (!file.startsWith(mounts[mount])) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    http.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${http.address().port}`, close: () => http.close() })));
}
