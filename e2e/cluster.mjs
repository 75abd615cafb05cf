// Many nodes over one Redis (issue 25), as an app meets them: three companion servers
// with `--redis` and Debian's `redis-server` (no persistence), all on loopback, and the
// package's `WsClient` in a page, whose URL provider rotates over the nodes. While 20,000
// pushes are published on all three nodes, the client's connection is dropped or stalled
// at least 50 times and one node is killed and started again; it also sends 500 reliable
// publishes. Then Redis restarts empty, and then stays down for 5 s.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Backend, until } from "./backends.mjs";

const TOKEN = "test-publish-token"; // the test tier's publish credential, not a secret
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Redis and three nodes; `stop()` ends them. */
export async function startCluster(root) {
  const redis = new Backend("redis-server", "redis-server", ["--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], root, {});
  await redis.start();
  const bin = join(root, "target", "debug", "wsocket-server");
  const url = `redis://127.0.0.1:${redis.port}/`;
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const argv = ["--port", "{port}", "--redis", url, "--no-feeds", "--test-control", "--publish-token", TOKEN, "--history", "30000", "--rate-limit", "1000"];
    nodes.push(await new Backend(`node ${i}`, bin, argv, root, {}).start());
  }
  return { redis, nodes, stop: async () => { for (const b of [...nodes, redis]) await b.stop(); } };
}

async function post(port, path, body) {
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` };
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body, headers });
  return { status: response.status, body: await response.json().catch(() => null) };
}

export async function clusterTest(page, statics, cluster, assert, step) {
  const { nodes, redis } = cluster;
  const cid = `cluster-${Date.now()}`;
  const topic = `orders:${cid}`;
  const side = `ledger:${cid}`;
  const urls = nodes.map((n) => `ws://127.0.0.1:${n.port}/ws?cid=${cid}`);
  await page.goto(`${statics.url}/api/`);
  await page.evaluate(async ({ urls, topic, side }) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    await ready();
    const seen = (window.seen = { pushes: 0, dupes: 0, disorder: 0, sides: 0, sideDupes: 0, nodes: [] });
    const got = new Set();
    const sideGot = new Set();
    let last = 0;
    let turn = 0;
    const client = (window.client = new WsClient(() => {
      seen.nodes.push(turn % urls.length);
      return urls[turn++ % urls.length];
    }, { topics: [topic, side], minDelayMs: 5, maxDelayMs: 50, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 150, stableAfterMs: 60000 }));
    client.on(topic, (data, msg) => {
      if (got.has(data.n)) seen.dupes++;
      got.add(data.n);
      seen.pushes = got.size;
      // One order: each push is the next number of the topic (a new epoch starts at 1).
      if (msg.seq !== last + 1 && msg.seq !== 1) seen.disorder++;
      last = msg.seq;
    });
    client.on(side, (data) => {
      if (sideGot.has(data)) seen.sideDupes++;
      sideGot.add(data);
      seen.sides = sideGot.size;
    });
    client.connect();
  }, { urls, topic, side });
  await until(page, "open", () => window.client.state === "open", undefined, 20000);
  await sleep(200);

  // The stream: 20,000 pushes published round-robin on the live nodes by four lanes,
  // numbered 1..20,000 in `data.n`. A publish that fails (its node was killed under it)
  // is sent again to the next node with the same `id`, as a backend retries: it takes
  // effect once.
  const total = 20000;
  let next = 0;
  let published = 0;
  let down = -1;
  const lane = async (start) => {
    let turn = start;
    for (let n = ++next; n <= total; n = ++next) {
      for (;;) {
        const i = turn++ % nodes.length;
        if (i === down) continue;
        const r = await post(nodes[i].port, "/publish", JSON.stringify({ topic, id: `p-${n}`, data: { n } })).catch(() => null);
        if (r?.status === 200) break;
        await sleep(5);
      }
      published++;
    }
  };
  const publisher = Promise.all([0, 1, 2, 3].map(lane));
  // 500 reliable sends from the page, one every 20 ms.
  await page.evaluate((side) => {
    let i = 0;
    const timer = setInterval(() => {
      window.client.send({ type: "publish", topic: side, data: i }, { reliable: true });
      if (++i === 500) clearInterval(timer);
    }, 20);
  }, side);
  // Faults on whichever node holds the connection: drops and stalls, one at a time.
  let faults = 0;
  let killed = false;
  for (let round = 0; (faults < 50 || published < total) && round < 2000; round++) {
    if (faults === 25 && !killed) {
      // Node 1 is killed (the client's connection with it, if it is there) and started
      // again: the provider may meet it dead, and then alive.
      killed = true;
      down = 1;
      await nodes[1].stop();
      await sleep(500);
      await nodes[1].start();
      down = -1;
      step(`cluster: node 1 killed and started again after ${faults} faults`);
    }
    if (faults < 50) {
      const action = faults % 3 === 2 ? "stall" : "drop";
      const before = await page.evaluate(() => window.client.stats().reconnects);
      let hit = 0;
      for (const n of nodes) {
        if (n.child?.exitCode !== null) continue;
        const r = await post(n.port, `/control/${action}?cid=${encodeURIComponent(cid)}`, "").catch(() => null);
        hit += r?.body?.connections ?? 0;
      }
      if (hit > 0) {
        faults++;
        await until(page, `recovery from fault ${faults}`, (b) => window.client.stats().reconnects > b && window.client.state === "open", before, 20000);
      }
    }
    await sleep(80);
  }
  await publisher;
  await until(page, `all ${total} pushes and 500 sends`, (t) => window.seen.pushes === t && window.seen.sides === 500, total, 60000);
  await sleep(300);
  const seen = await page.evaluate(() => ({ ...window.seen, nodes: [...new Set(window.seen.nodes)].length, stats: window.client.stats() }));
  step(`cluster: ${total} pushes published on 3 nodes, ${seen.pushes} delivered, ${seen.dupes} duplicated, ${seen.disorder} out of order, ` +
    `${seen.stats.gaps} gaps; 500 reliable sends, ${seen.sides} took effect, ${seen.sideDupes} twice; ${faults} faults, ` +
    `${seen.stats.reconnects} reconnects over ${seen.nodes} nodes, ${seen.stats.duplicates} duplicate pushes dropped`);
  assert(seen.dupes === 0 && seen.disorder === 0 && seen.stats.gaps === 0, `0 duplicated, 0 out of order, no gap: ${JSON.stringify(seen)}`);
  assert(seen.sideDupes === 0, "each reliable send took effect once");
  assert(faults >= 50 && killed, `50 faults and a node killed: ${faults}`);
  assert(seen.nodes === 3, "the client went through all three nodes");

  // Redis restarts empty: one gap per subscribed topic, and delivery goes on.
  await redis.restart();
  const publishOn = async (port, t, data) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const r = await post(port, "/publish", JSON.stringify({ topic: t, data }));
      if (r.status === 200) return r.body;
      if (Date.now() > deadline) throw new Error(`publishing again after the Redis restart: ${JSON.stringify(r)}`);
      await sleep(50);
    }
  };
  for (let n = total + 1; n <= total + 10; n++) await publishOn(nodes[n % 3].port, topic, { n });
  await publishOn(nodes[0].port, side, "after");
  await until(page, "delivery after the Redis restart", (t) => window.seen.pushes === t + 10 && window.seen.sides === 501, total, 20000);
  const gaps = await page.evaluate(() => window.client.stats().gaps);
  assert(gaps === 2, `one gap per subscribed topic after Redis lost its data: ${gaps}`);
  step(`cluster: Redis restarted empty: ${gaps} gaps (2 topics), the next pushes delivered`);

  // Redis down for 5 s: publishes fail with 503, every node lives, the client stays, and
  // pushes flow again once Redis is back.
  const before = await page.evaluate(() => ({ reconnects: window.client.stats().reconnects, pushes: window.seen.pushes }));
  await redis.stop();
  const refused = await post(nodes[2].port, "/publish", JSON.stringify({ topic, data: { n: 0 } }));
  assert(refused.status === 503 && /Redis/.test(refused.body?.error), `a clear error while Redis is down: ${JSON.stringify(refused)}`);
  await sleep(5000);
  assert(nodes.every((n) => n.child.exitCode === null), "no node exits while Redis is down");
  await redis.start();
  const back = Date.now();
  await publishOn(nodes[2].port, topic, { n: total + 11 });
  await until(page, "a push after Redis came back", (t) => window.seen.pushes === t + 11, total, 20000);
  const after = await page.evaluate(() => ({ state: window.client.state, reconnects: window.client.stats().reconnects, gaps: window.client.stats().gaps }));
  assert(after.state === "open" && after.reconnects === before.reconnects, `the client's connection stayed up through the outage: ${JSON.stringify({ before, after })}`);
  // Redis came back empty (no persistence): one more gap, on the topic published since.
  assert(after.gaps === 3, `one gap for the history Redis lost: ${after.gaps}`);
  step(`cluster: Redis down 5 s: publishes refused (503), no node exited, the subscriber stayed connected (0 reconnects) and got the next push ${Date.now() - back} ms after Redis was back (one gap: Redis came back empty)`);
  await page.evaluate(() => window.client.free());
}
