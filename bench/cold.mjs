// Cold start (BENCHMARKS.md section 10): from navigation to the first message, each run
// in a fresh browser context (empty HTTP cache, no compiled wasm kept), the assets
// bundled with esbuild and served gzip'd from a local HTTP server as an app serves them,
// and the network throttled by Chromium (`Network.emulateNetworkConditions`, per page).
//
// Every page does the same: it opens a connection to the companion server, sends one
// `echo` request and records `performance.now()` (milliseconds since navigation
// started) when the answer arrives.
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";

// Apps of each kind. `WS_URL` is the WebSocket URL, defined by esbuild.
const APPS = {
  raw: `
    const ws = new WebSocket(WS_URL);
    ws.onopen = () => ws.send(JSON.stringify({ type: "echo", id: "1", data: 1 }));
    ws.onmessage = () => done();`,
  wsocket: `
    import { ready, WsClient } from "PKG/index.js";
    await ready();
    const ws = new WsClient(WS_URL, { reconnect: false });
    ws.connect();
    await ws.request("echo", 1);
    done();`,
  // `preconnect` from the main entry: the socket opens while the wasm loads.
  preconnect: `
    import { preconnect, ready, WsClient } from "PKG/index.js";
    preconnect(WS_URL);
    await ready();
    const ws = new WsClient(WS_URL, { reconnect: false });
    ws.connect();
    await ws.request("echo", 1);
    done();`,
  // The README's recipe ("First load"): the small `wsocket/preconnect` entry opens the
  // socket, the rest of the client comes in a chunk of its own (the page preloads it).
  split: `
    import { preconnect } from "PKG/preconnect.js";
    preconnect(WS_URL);
    const { ready, WsClient } = await import("PKG/index.js");
    await ready();
    const ws = new WsClient(WS_URL, { reconnect: false });
    ws.connect();
    await ws.request("echo", 1);
    done();`,
};
const DONE = `function done() { window.firstMessage = performance.now(); document.title = "done"; }
addEventListener("unhandledrejection", (e) => (window.failed = String(e.reason?.stack ?? e.reason)));
addEventListener("error", (e) => (window.failed = String(e.error?.stack ?? e.message)));`;

// `variant`: the app and whether its page preloads the .wasm and the app's other chunks
// (`<link rel="preload">`, `<link rel="modulepreload">`).
export const VARIANTS = {
  raw: { app: "raw", preload: false },
  wsocket: { app: "wsocket", preload: false },
  "wsocket + preload": { app: "wsocket", preload: true },
  "wsocket + preload + preconnect": { app: "preconnect", preload: true },
  "wsocket/preconnect first, preloads": { app: "split", preload: true },
};

async function buildAssets(root, esbuild, wsUrl) {
  const assets = new Map();
  const chunks = {};
  const put = (path, type, body) => assets.set(path, { type, body: gzipSync(body, { level: 9 }) });
  const wasm = readFileSync(join(root, "pkg/wsocket_bg.wasm"));
  const dir = mkdtempSync(join(tmpdir(), "wsocket-cold-"));
  try {
    for (const [name, source] of Object.entries(APPS)) {
      const entry = join(dir, `${name}.js`);
      writeFileSync(entry, `${DONE}\n${source.replaceAll("PKG/", `${join(root, "pkg")}/`)}`);
      const out = await esbuild.build({
        entryPoints: [entry], bundle: true, splitting: true, minify: true, format: "esm",
        outdir: join(dir, "out", name), write: false, logLevel: "silent",
        define: { WS_URL: JSON.stringify(wsUrl) },
      });
      chunks[name] = [];
      for (const file of out.outputFiles) {
        const path = `/${name}/${basename(file.path)}`;
        put(path, "text/javascript", Buffer.from(file.contents));
        // Not the chunks of options these apps do not turn on (Socket.IO, crossTab, the
        // outbox): no page preloads code it may never run, and Vite and webpack preload
        // only what the entry imports.
        if (basename(file.path) !== `${name}.js` && !/^(sio|tabs|outbox)-/.test(basename(file.path))) chunks[name].push(path);
      }
      // Next to the chunks, as `new URL("wsocket_bg.wasm", import.meta.url)` finds it.
      put(`/${name}/wsocket_bg.wasm`, "application/wasm", wasm);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [variant, { app, preload }] of Object.entries(VARIANTS)) {
    const links = !preload ? "" : [
      `<link rel="preload" href="/${app}/wsocket_bg.wasm" as="fetch" type="application/wasm" crossorigin>`,
      ...chunks[app].map((c) => `<link rel="modulepreload" href="${c}">`),
    ].join("");
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>cold</title>${links}<script type="module" src="/${app}/${app}.js"></script></head><body></body></html>`;
    put(`/${encodeURIComponent(variant)}.html`, "text/html", Buffer.from(html));
  }
  return assets;
}

function serve(assets) {
  const http = createServer((req, res) => {
    const asset = assets.get(req.url);
    if (asset === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": asset.type, "content-encoding": "gzip", "content-length": asset.body.length, "cache-control": "no-store" });
    res.end(asset.body);
  });
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve(http)));
}

// One page load in a fresh context; the first message's time in ms after navigation.
async function load(cdp, origin, variant, network) {
  const { browserContextId } = await cdp.send("Target.createBrowserContext", {});
  try {
    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank", browserContextId });
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
    const call = (method, params) => cdp.send(method, params, sessionId);
    await call("Network.enable");
    await call("Network.setCacheDisabled", { cacheDisabled: true });
    if (network) await call("Network.emulateNetworkConditions", { offline: false, ...network });
    await call("Page.navigate", { url: `${origin}/${encodeURIComponent(variant)}.html` });
    for (let i = 0; i < 600; i++) {
      const r = await call("Runtime.evaluate", { expression: "window.failed ?? (document.title === 'done' ? window.firstMessage : null)", returnByValue: true });
      if (typeof r.result?.value === "number") return r.result.value;
      if (typeof r.result?.value === "string") throw new Error(`cold start: ${variant} failed: ${r.result.value}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`cold start: ${variant} never got its first message`);
  } finally {
    await cdp.send("Target.disposeBrowserContext", { browserContextId });
  }
}

// The network conditions of the throttled run: 150 ms of latency per request, 1.6 Mbit/s
// down, 750 kbit/s up (DevTools' former "Fast 3G").
export const THROTTLED = { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };

/** Runs every variant `reps` times alternating, on loopback and throttled; `{net: {variant: [ms]}}`. */
export async function coldStart({ cdp, root, esbuild, server, reps, alternate }) {
  const assets = await buildAssets(root, esbuild, `ws://${server}/ws`);
  const http = await serve(assets);
  const origin = `http://127.0.0.1:${http.address().port}`;
  try {
    const out = {};
    for (const [net, network] of [["loopback", null], ["throttled", THROTTLED]]) {
      // One load of each first, not counted: the first page of a browser starts its
      // processes and would be slower for reasons of its own.
      for (const v of Object.keys(VARIANTS)) await load(cdp, origin, v, network);
      out[net] = await alternate(Object.keys(VARIANTS), (v) => load(cdp, origin, v, network), reps);
    }
    const sizes = Object.fromEntries([...assets].filter(([p]) => p.endsWith(".js") || p === "/raw/wsocket_bg.wasm").map(([p, a]) => [p.slice(1), a.body.length]));
    return { runs: out, sizes };
  } finally {
    http.close();
  }
}
