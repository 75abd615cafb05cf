// Issue 26: `crossTab: true`, in headless Chromium, where the pages of one browser
// context share an origin as the tabs of one browser do. Run by e2e/run.mjs twice: with
// the SharedWorker, and with `SharedWorker` removed from every page before it runs (the
// Web Locks leader path, as in a browser without SharedWorker).
//
// Three tabs subscribe to one topic with the same URL: the companion server sees one
// connection and one tab's heartbeat; each tab's `request` is answered in that tab only
// (and no tab hears another's `subscribed` answers); a 3,000-push stream reaches every
// tab once and in order; the tab holding the socket (the first) is closed mid-stream,
// and the other two get the rest with none lost or doubled, the socket taken over within
// 2 s (with the SharedWorker, which outlives the tab, without any reconnect at all).

const PUSHES = 3000;

export async function crossTabTest({ browser, statics, server, assert, step, until }, workerless) {
  const mode = workerless ? "weblocks" : "sharedworker";
  const cid = `e2e-tabs-${mode}-${Date.now()}`;
  const topic = `e2e:tabs-${mode}-${Date.now()}`;
  const url = `${server.replace(/^http/, "ws")}/ws?cid=${cid}`;
  const conns = async () => (await (await fetch(`${server}/control/connections?cid=${cid}`)).json());
  const context = await browser.newContext();
  const problems = [];
  try {
    if (workerless) await context.addInitScript(() => delete globalThis.SharedWorker);
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      page.on("console", (m) => m.type() === "error" && problems.push(`tab ${i}: ${m.text()}`));
      page.on("pageerror", (e) => problems.push(`tab ${i}: ${e.message}`));
      await page.goto(`${statics.url}/api/`);
      await page.evaluate(async ([url, topic]) => {
        const { ready, WsClient } = await import("/pkg/index.js");
        await ready();
        const ws = new WsClient(url, { crossTab: true, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 800 });
        const t = (window.t = { ws, got: [], other: [], opens: [], errors: [] });
        ws.on("burst", (d) => t.got.push(d.n));
        ws.on("*", (_, msg) => msg?.type !== "burst" && t.other.push(msg?.type));
        ws.on("state", ({ to }) => to === "open" && t.opens.push(Date.now()));
        ws.on("error", (e) => t.errors.push(`${e.code}: ${e.message}`));
        ws.subscribe(topic);
        ws.connect();
      }, [url, topic]);
      tabs.push(page);
    }
    const read = (page) => page.evaluate(() => ({ ...window.t, ws: undefined, state: window.t.ws.state, stats: window.t.ws.stats() }));
    const all = () => Promise.all(tabs.filter((p) => !p.isClosed()).map(read));
    await until("three tabs open and subscribed", async () => (await all()).every((t) => t.state === "open" && t.other.includes("subscribed")));
    let r = await all();
    assert(r.every((t) => t.stats.crossTab === mode), `stats().crossTab: ${r.map((t) => t.stats.crossTab)}`);
    const joined = await conns();
    assert(joined.connections === 1, `one server connection for three tabs: ${joined.connections}`);

    // One heartbeat: three tabs at 1 s each would be ~9 pings in 3 s.
    const before = (await conns()).pings;
    await new Promise((done) => setTimeout(done, 3000));
    const pings = (await conns()).pings - before;
    assert(pings >= 2 && pings <= 4, `pings at the server in 3 s with three tabs: ${pings}`);
    r = await all();
    assert(r.every((t) => t.state === "open" && t.opens.length === 1), `no tab timed out: ${JSON.stringify(r.map((t) => [t.state, t.opens.length, t.errors]))}`);

    // Each tab's request, answered in that tab.
    const echoes = await Promise.all(tabs.map((p, i) => p.evaluate((i) => window.t.ws.request("echo", { tab: i }, { timeoutMs: 5000 }).then((m) => m.data.tab), i)));
    assert(JSON.stringify(echoes) === "[0,1,2]", `each tab's reply: ${echoes}`);

    // The stream, and the holder's tab closed a third of the way through.
    await fetch(`${server}/control/burst?topic=${encodeURIComponent(topic)}&count=${PUSHES}&per_ms=1`, { method: "POST" });
    await until("a third of the stream", async () => (await read(tabs[0])).got.length >= PUSHES / 3);
    const closedAt = Date.now();
    await tabs[0].close();
    await until("the rest of the stream in the other tabs", async () => (await all()).every((t) => t.got.length >= PUSHES), 20000);
    r = await all();
    const expected = JSON.stringify(Array.from({ length: PUSHES }, (_, i) => i + 1));
    for (const [i, t] of r.entries()) {
      const lost = PUSHES - new Set(t.got).size;
      const doubled = t.got.length - new Set(t.got).size;
      assert(JSON.stringify(t.got) === expected, `tab ${i + 1}: ${t.got.length} pushes, ${lost} lost, ${doubled} doubled, in order: ${JSON.stringify(t.got) === expected}`);
      assert(t.other.every((type) => type === "subscribed") && t.other.length === t.opens.length, `tab ${i + 1} heard only its own answers: ${t.other}`);
      assert(t.stats.gaps === 0, `tab ${i + 1}: gaps ${t.stats.gaps}`);
    }
    const reopened = r.map((t) => t.opens.find((at) => at >= closedAt));
    let takeover = 0;
    if (workerless) {
      assert(reopened.every((at) => at !== undefined), `the other tabs reconnected to the next leader: ${JSON.stringify(r.map((t) => t.opens))}`);
      takeover = Math.max(...reopened) - closedAt;
      assert(takeover < 2000, `taken over within 2 s: ${takeover} ms`);
    } else {
      assert(reopened.every((at) => at === undefined), `the worker's socket outlived the tab: ${JSON.stringify(r.map((t) => t.opens))}`);
    }
    await until("one server connection again", async () => (await conns()).connections === 1);
    step(`crossTab (${mode}): 1 connection for 3 tabs, ${pings} pings in 3 s, ${PUSHES} pushes each in 2 tabs, 0 lost, 0 doubled, ${workerless ? `taken over in ${takeover} ms` : "no reconnect"}; duplicates dropped: ${r.map((t) => t.stats.duplicates)}`);
    if (workerless) {
      // The next leader is the tab that asked for the lock next (Web Locks grant in
      // order): the second. It navigates away (it leaves on `pagehide`), and the third
      // takes over and gets the next pushes, none lost or doubled.
      const last = tabs[2];
      const before = (await read(last)).opens.length;
      const leftAt = Date.now();
      await tabs[1].goto(`${statics.url}/api/`);
      await until("the third tab open again", async () => (await read(last)).opens.length > before && (await read(last)).state === "open");
      const again = (await read(last)).opens.at(-1) - leftAt;
      assert(again < 2000, `taken over within 2 s of the leader navigating away: ${again} ms`);
      await fetch(`${server}/control/burst?topic=${encodeURIComponent(topic)}&count=100&per_ms=1`, { method: "POST" });
      await until("the next 100 pushes", async () => (await read(last)).got.length >= PUSHES + 100);
      const got = (await read(last)).got;
      assert(JSON.stringify(got.slice(PUSHES)) === JSON.stringify(Array.from({ length: 100 }, (_, i) => i + 1)) && got.length === PUSHES + 100, `the next pushes after the handover: ${got.length - PUSHES}`);
      step(`crossTab (weblocks): the leader navigated away, the last tab took over in ${again} ms and got 100 of 100 pushes after it`);
      tabs[1] = null;
    }
    for (const page of tabs) if (page !== null && !page.isClosed() && (await page.evaluate(() => window.t !== undefined))) await page.evaluate(() => window.t.ws.close());
    await until("the shared connection closed after the last tab's client", async () => (await conns()).connections === 0);
    const errors = r.flatMap((t) => t.errors);
    assert(errors.length === 0, `no errors: ${errors}`);
    assert(problems.length === 0, problems.join("\n"));
  } finally {
    await context.close();
  }
}


// `outbox: "indexeddb"`: a page sends 500 reliable publishes, 50 a second; three times
// on the way its connection is dropped and, while its client waits to reconnect (the
// sends since then queued, nowhere but in the page and its outbox), the page is
// reloaded, twice, then closed and the app opened in a new tab. The new page goes on from where
// it got, and its client sends what the outbox kept. The server must process each of
// the 500 ids exactly once. Without the outbox, the sends queued at each reload are
// lost (490 of 500 processed when this test ran with `outbox: "memory"`).
export async function outboxTest({ browser, statics, server, assert, step, until }) {
  const COUNT = 500;
  const cid = `e2e-outbox-${Date.now()}`;
  const topic = `e2e:outbox-${Date.now()}`;
  const url = `${server.replace(/^http/, "ws")}/ws?cid=${cid}`;
  const counts = async () => (await (await fetch(`${server}/control/connections?cid=${cid}`)).json());
  const context = await browser.newContext();
  const problems = [];
  try {
    const watch = (p) => {
      p.on("console", (m) => m.type() === "error" && !/WebSocket connection to/.test(m.text()) && problems.push(m.text()));
      p.on("pageerror", (e) => problems.push(e.message));
    };
    let page = await context.newPage();
    watch(page);
    const app = `${statics.url}/api/outbox.html?count=${COUNT}&topic=${encodeURIComponent(topic)}&url=${encodeURIComponent(url)}`;
    await page.goto(app);
    const sent = () => page.evaluate(() => Number(localStorage.getItem("next") ?? 1) - 1);
    const reloads = [];
    for (const at of [COUNT / 4, COUNT / 2, (3 * COUNT) / 4]) {
      await until(`${at} sends`, async () => (await sent()) >= at);
      await fetch(`${server}/control/drop?cid=${cid}`, { method: "POST" });
      await new Promise((done) => setTimeout(done, 100));
      const before = (await counts()).processed;
      reloads.push({ sent: await sent(), processed: before });
      // Twice a reload, then the tab closed and the app opened in a new one.
      if (reloads.length < 3) await page.reload();
      else {
        await page.close();
        page = await context.newPage();
        watch(page);
        await page.goto(app);
      }
    }
    await until("the last page's sends", () => page.evaluate(() => window.app?.done === true));
    await until(`${COUNT} processed`, async () => (await counts()).processed >= COUNT, 15000).catch(async (e) => {
      const state = await page.evaluate(() => ({ restored: window.app.restored, errors: window.app.errors, stats: window.app.ws.stats() }));
      throw new Error(`${e.message}: ${JSON.stringify(await counts())}, reloads ${JSON.stringify(reloads)}, the page: ${JSON.stringify(state)}`);
    });
    await new Promise((done) => setTimeout(done, 500));
    const c = await counts();
    const r = await page.evaluate(() => ({ restored: window.app.restored, errors: window.app.errors, stats: window.app.ws.stats() }));
    assert(c.processed === COUNT, `the server processed ${c.processed} distinct ids of ${COUNT} sends`);
    assert(c.topics[topic] === COUNT, `${c.topics[topic]} publishes on the topic`);
    assert(reloads.every((at) => at.processed < at.sent), `sends were still unprocessed at each reload: ${JSON.stringify(reloads)}`);
    const restored = r.restored.reduce((a, b) => a + b, 0);
    const unprocessed = reloads[2].sent - reloads[2].processed;
    assert(restored >= unprocessed, `the last page restored ${restored} sends, ${unprocessed} were unprocessed at its reload`);
    assert(r.stats.restored === restored, `stats().restored: ${r.stats.restored}`);
    assert(r.errors.length === 0, `no errors: ${r.errors}`);
    await until("the outbox emptied", () => page.evaluate(() => new Promise((resolve) => {
      const open = indexedDB.open("wsocket-outbox");
      open.onsuccess = () => {
        const get = open.result.transaction("sends").objectStore("sends").count();
        get.onsuccess = () => resolve(get.result === 0);
      };
    })));
    await page.evaluate(() => window.app.ws.close());
    step(`outbox: ${COUNT} reliable sends, two reloads and a closed tab with ${reloads.map((at) => at.sent - at.processed).join(", ")} sends unprocessed; the server processed ${c.processed} ids once each (${c.repeated} repeats ignored); the last page restored ${restored}`);
    assert(problems.length === 0, problems.join("\n"));
  } finally {
    await context.close();
  }
}

// The outbox with `crossTab`: tab A sends 200 reliable publishes through the connection
// it shares with tab B; mid-way its connection is dropped and, while its sends are
// queued, A is closed. B, whose outbox found A's records when it started, takes them
// once A's lock is free and sends them through the shared connection: the server
// processes each of A's ids once, and one tab sent them.
export async function outboxCrossTabTest({ browser, statics, server, assert, step, until }) {
  const COUNT = 200;
  const cid = `e2e-outbox-tabs-${Date.now()}`;
  const topic = `e2e:outbox-tabs-${Date.now()}`;
  const url = `${server.replace(/^http/, "ws")}/ws?cid=${cid}`;
  const counts = async () => (await (await fetch(`${server}/control/connections?cid=${cid}`)).json());
  const context = await browser.newContext();
  try {
    const base = `${statics.url}/api/outbox.html?crossTab=1&topic=${encodeURIComponent(topic)}&url=${encodeURIComponent(url)}`;
    const a = await context.newPage();
    await a.goto(`${base}&count=${COUNT}`);
    const sent = () => a.evaluate(() => Number(localStorage.getItem("next") ?? 1) - 1);
    await until("A's first sends", async () => (await sent()) >= 20);
    const b = await context.newPage();
    await b.goto(base);
    await until("B joined A's connection", () => b.evaluate(() => window.app?.ws.state === "open"));
    await until("half of A's sends", async () => (await sent()) >= COUNT / 2);
    await fetch(`${server}/control/drop?cid=${cid}`, { method: "POST" });
    await new Promise((done) => setTimeout(done, 100));
    const atClose = { sent: await sent(), processed: (await counts()).processed };
    await a.close();
    await until(`A's ${atClose.sent} sends processed`, async () => (await counts()).processed >= atClose.sent, 15000);
    await new Promise((done) => setTimeout(done, 500));
    const c = await counts();
    const r = await b.evaluate(() => ({ restored: window.app.restored, errors: window.app.errors, stats: window.app.ws.stats() }));
    const restored = r.restored.reduce((x, y) => x + y, 0);
    assert(c.processed === atClose.sent, `the server processed ${c.processed} ids of A's ${atClose.sent} sends`);
    assert(atClose.processed < atClose.sent, `sends were unprocessed when A closed: ${JSON.stringify(atClose)}`);
    assert(restored >= atClose.sent - atClose.processed, `B restored ${restored}, ${atClose.sent - atClose.processed} were unprocessed`);
    assert(c.connections === 1 && r.stats.crossTab === "sharedworker", `B on the shared connection: ${c.connections} ${r.stats.crossTab}`);
    assert(r.errors.length === 0, `no errors in B: ${r.errors}`);
    step(`outbox with crossTab: A closed with ${atClose.sent - atClose.processed} of ${atClose.sent} sends unprocessed; B restored ${restored}; the server processed ${c.processed} ids once each (${c.repeated} repeats ignored)`);
    await b.evaluate(() => window.app.ws.close());
  } finally {
    await context.close();
  }
}
