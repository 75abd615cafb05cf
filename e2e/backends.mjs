// The package against servers we did not write (issue 22): a stock NestJS app on
// @nestjs/platform-ws (backends/nest-ws), one on @nestjs/platform-socket.io
// (backends/nest-sio) and a FastAPI + uvicorn app (backends/fastapi), each installed from
// its registry here when missing (npm ci; a Python venv with pip), started on a free
// loopback port, and killed and started again mid-stream. A blank page imports the
// installed package (`/pkg/index.js`, `/pkg/compat.js`) as an app does.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";
import { createRequire } from "node:module";

const run = (cmd, argv, cwd) => execFileSync(cmd, argv, { cwd, stdio: ["ignore", "inherit", "inherit"] });

/** Installs what each backend needs, when it is not there yet. */
export function installBackends(root) {
  for (const app of ["nest-ws", "nest-sio"]) {
    const dir = join(root, "backends", app);
    if (!existsSync(join(dir, "node_modules", "@nestjs", "core"))) run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], dir);
  }
  const fastapi = join(root, "backends", "fastapi");
  const python = join(fastapi, ".venv", "bin", "python");
  if (!existsSync(join(fastapi, ".venv", "bin", "uvicorn"))) {
    // `cargo xtask test` installs python3-venv first where Debian's python3 lacks it.
    if (!existsSync(python)) run("python3", ["-m", "venv", join(fastapi, ".venv")], fastapi);
    run(python, ["-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"], fastapi);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A backend process on a fixed port, which `restart()` kills (SIGKILL: the clients see
 * their sockets drop) and starts again on the same port. */
export class Backend {
  constructor(name, cmd, argv, cwd, env) {
    Object.assign(this, { name, cmd, argv, cwd, env, child: null });
  }

  async start() {
    this.port ??= await freePort();
    const argv = this.argv.map((a) => a.replace("{port}", String(this.port)));
    this.child = spawn(this.cmd, argv, { cwd: this.cwd, env: { ...process.env, ...this.env, PORT: String(this.port) }, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    this.child.stdout.on("data", (d) => (log += d));
    this.child.stderr.on("data", (d) => (log += d));
    const deadline = Date.now() + 30000;
    for (;;) {
      if (await listening(this.port)) return this;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`${this.name} did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  async stop() {
    if (this.child === null || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGKILL");
    await exited;
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

export async function startBackends(root) {
  const node = process.execPath;
  const secret = "backend-test-secret"; // a test value for the Nest app's HS256, not a secret
  const backends = {
    nestWs: new Backend("NestJS platform-ws", node, ["main.cjs"], join(root, "backends", "nest-ws"), {}),
    nestSio: new Backend("NestJS platform-socket.io", node, ["main.cjs"], join(root, "backends", "nest-sio"), { JWT_SECRET: secret }),
    fastapi: new Backend("FastAPI + uvicorn", join(root, "backends", "fastapi", ".venv", "bin", "uvicorn"), ["app:app", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning"], join(root, "backends", "fastapi"), {}),
  };
  for (const b of Object.values(backends)) await b.start();
  const jwt = createRequire(join(root, "backends", "nest-sio", "package.json"))("jsonwebtoken");
  backends.token = (sub) => jwt.sign({ sub }, secret, { expiresIn: "1h" });
  return backends;
}

export async function stopBackends(backends) {
  for (const b of [backends.nestWs, backends.nestSio, backends.fastapi]) await b?.stop();
}

/** Polls `probe` (in the page) until truthy; on a timeout says what the page saw
 * (`window.seen`, and the state and stats of `window.client`). */
export async function until(page, what, probe, arg, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await page.evaluate(probe, arg);
    if (v) return v;
    if (Date.now() > deadline) {
      const seen = await page.evaluate(() => JSON.stringify({ ...window.seen, state: window.client?.state, stats: window.client?.stats?.() })).catch(() => "?");
      throw new Error(`timed out waiting for ${what}; the page saw ${seen.slice(0, 1500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The NestJS platform-ws market gateway: the compat client's `PONG` heartbeat is never
 * answered (#3), `get_unread_message` has no id (#4), the JWT-style check closes right
 * after the open (#7), and the server is killed and started again mid-stream. */
export async function nestWsTest(page, statics, backends, assert) {
  const url = `ws://127.0.0.1:${backends.nestWs.port}/market`;
  await page.goto(`${statics.url}/api/`);
  await page.evaluate(async (url) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    const { Wsocket } = await import("/pkg/compat.js");
    await ready();
    const seen = (window.seen = { compatOpens: 0, compatErrors: [], compatTicks: 0, opens: 0, errors: [], ticks: 0, unread: null, tokens: [], bad: { tokens: 0, errors: [], state: "" } });
    // #3: the compat wrapper, a PONG every 300 ms with a 300 ms deadline, idle.
    window.compat = new Wsocket(url, {
      heartbeatInterval: 300,
      heartbeatTimeoutMs: 300,
      onOpen: () => seen.compatOpens++,
      onError: (e) => seen.compatErrors.push(e.code),
    });
    window.compat.on("market_data", () => seen.compatTicks++);
    window.compat.connection();
    // #7 and #4: WsClient as legacy apps configure it, with a token provider whose first
    // token the gateway's check refuses (it closes the socket in handleConnection).
    const client = (window.client = new WsClient(url, {
      eventKey: "event",
      heartbeatMessage: "PONG",
      heartbeatIntervalMs: 300,
      heartbeatTimeoutMs: 300,
      tokenIn: "query",
      token: () => {
        seen.tokens.push(seen.tokens.length === 0 ? "expired" : "good-token");
        return seen.tokens.at(-1);
      },
      minDelayMs: 100,
      maxDelayMs: 200,
    }));
    client.on("open", () => {
      seen.opens++;
      // No topics on a legacy gateway: the app subscribes again on every open.
      client.send({ event: "market_subscribe", data: { symbols: ["BTC-USD"] } });
    });
    client.on("error", (e) => seen.errors.push(e.code));
    client.on("market_data", () => seen.ticks++);
    client.connect();
    // A provider whose every token is refused: one retry, then AUTH_FAILED.
    const bad = new WsClient(url, { eventKey: "event", tokenIn: "query", token: () => (seen.bad.tokens++, "expired"), minDelayMs: 100, maxDelayMs: 200 });
    bad.on("error", (e) => seen.bad.errors.push(e.code));
    bad.on("state", ({ to }) => (seen.bad.state = to));
    bad.connect();
  }, url);
  await until(page, "the ticks and the refused client closed", () => seen.ticks > 5 && seen.bad.state === "closed" && seen.compatOpens === 1);
  const early = await page.evaluate(() => JSON.parse(JSON.stringify(window.seen)));
  assert(JSON.stringify(early.tokens) === '["expired","good-token"]', `a fresh token after the refusal: ${JSON.stringify(early.tokens)}`);
  assert(!early.errors.includes("CLOSED_BY_SERVER"), `the refusal is no kick: ${early.errors}`);
  assert(early.bad.tokens === 2 && early.bad.errors.join() === "AUTH_FAILED", `always refused: ${JSON.stringify(early.bad)}`);
  // #4: the reply carries no id; `replyEvent` matches it by name.
  const unread = await page.evaluate(async () => (await window.client.request("get_unread_message", {}, { replyEvent: "get_unread_message", timeoutMs: 2000 })).data);
  assert(JSON.stringify(unread) === '{"count":3}', `get_unread_message by replyEvent: ${JSON.stringify(unread)}`);
  // #3: idle for 2 s, six heartbeats the gateway drops: the compat client stays up.
  await sleep(2000);
  const idle = await page.evaluate(() => ({ opens: window.seen.compatOpens, errors: window.seen.compatErrors, state: window.compat.state }));
  assert(idle.opens === 1 && idle.errors.length === 0 && idle.state === "open", `an idle connection to a gateway that never answers the heartbeat stays up: ${JSON.stringify(idle)}`);
  // Mid-stream, the server is killed and started again: the clients come back and the
  // ticks resume.
  const before = await page.evaluate(() => ({ opens: window.seen.opens, compat: window.seen.compatOpens }));
  await backends.nestWs.restart();
  await until(page, "both clients open again", (b) => window.seen.opens > b.opens && window.seen.compatOpens > b.compat && window.client.state === "open", before);
  const ticks = await page.evaluate(() => window.seen.ticks);
  await until(page, "ticks after the restart", (t) => window.seen.ticks > t + 5, ticks);
  await page.evaluate(() => {
    window.client.free();
    window.compat.close();
  });
}

/** The NestJS platform-socket.io `/events` gateway: a JWT checked in handleConnection
 * (#7), rooms and acks, and a restart mid-stream. */
export async function nestSioTest(page, statics, backends, assert) {
  const url = `http://127.0.0.1:${backends.nestSio.port}`;
  const tokens = [backends.token("alice"), backends.token("bob")];
  await page.goto(`${statics.url}/api/`);
  await page.evaluate(async ([url, tokens]) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    await ready();
    const seen = (window.seen = { asked: [], a: { opens: 0, errors: [], got: [] }, b: { opens: 0, errors: [] } });
    const make = (name, token) => {
      const client = new WsClient(url, { protocol: "socketio", namespace: "/events", token, minDelayMs: 100, maxDelayMs: 200 });
      client.on("open", () => {
        seen[name].opens++;
        // Rooms live on the server: the app joins again on every open.
        client.request("join", { room: "lobby" }).then((ack) => (seen[name].joined = ack.data.success));
      });
      client.on("error", (e) => seen[name].errors.push(e.code));
      return client;
    };
    // The first token does not verify: the gateway disconnects in handleConnection.
    window.a = make("a", () => {
      seen.asked.push(seen.asked.length === 0 ? "not-a-jwt" : tokens[0]);
      return seen.asked.at(-1);
    });
    window.a.on("message", (data) => seen.a.got.push(data.content));
    window.b = make("b", tokens[1]);
    window.a.connect();
    window.b.connect();
  }, [url, tokens]);
  await until(page, "both joined", () => window.seen.a.joined && window.seen.b.joined);
  let seen = await page.evaluate(() => JSON.parse(JSON.stringify(window.seen)));
  assert(seen.asked.length === 2 && seen.asked[0] === "not-a-jwt", `a fresh token after the check refused the first: ${seen.asked.length}`);
  assert(!seen.a.errors.includes("CLOSED_BY_SERVER"), `the refusal is no kick: ${seen.a.errors}`);
  const ack = await page.evaluate(async () => (await window.b.request("message", { room: "lobby", content: "one" })).data);
  assert(ack.success === true, `the message ack: ${JSON.stringify(ack)}`);
  await until(page, "the room message", () => window.seen.a.got.includes("one"));
  const before = await page.evaluate(() => {
    window.seen.a.joined = window.seen.b.joined = false;
    return [window.seen.a.opens, window.seen.b.opens];
  });
  await backends.nestSio.restart();
  await until(page, "both back", (b) => window.seen.a.opens > b[0] && window.seen.b.opens > b[1], before);
  await until(page, "both joined again", () => window.seen.a.joined && window.seen.b.joined);
  await page.evaluate(() => window.b.request("message", { room: "lobby", content: "two" }));
  await until(page, "the room message after the restart", () => window.seen.a.got.includes("two"));
  seen = await page.evaluate(() => JSON.parse(JSON.stringify(window.seen)));
  assert(!seen.a.errors.includes("AUTH_FAILED") && !seen.b.errors.includes("AUTH_FAILED"), `no AUTH_FAILED across the restart: ${seen.a.errors} ${seen.b.errors}`);
  await page.evaluate(() => {
    window.a.free();
    window.b.free();
  });
}

/** The FastAPI app: typed JSON with ids, topics by query and by subscribe, batches of 10
 * per 100 ms, a 100 msg/s rate limit, UNKNOWN_MESSAGE_TYPE, and a restart mid-stream
 * (a new epoch: the gap is reported, pushes go on). */
export async function fastapiTest(page, statics, backends, assert) {
  const base = `127.0.0.1:${backends.fastapi.port}`;
  const publish = async (topic, data) => {
    const res = await fetch(`http://${base}/publish`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ topic, data }) });
    if (!res.ok) throw new Error(`publish: ${res.status}`);
  };
  await page.goto(`${statics.url}/api/`);
  await page.evaluate(async (url) => {
    const { ready, WsClient } = await import("/pkg/index.js");
    await ready();
    const seen = (window.seen = { opens: 0, errors: [], feed: [], news: [], gaps: [] });
    const client = (window.client = new WsClient(url, { minDelayMs: 100, maxDelayMs: 200, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 500 }));
    client.on("open", () => seen.opens++);
    client.on("error", (e) => seen.errors.push(e.code));
    client.on("gap", (g) => seen.gaps.push(g));
    client.on("feed", (data) => seen.feed.push(data));
    client.on("news", (data) => seen.news.push(data));
    client.subscribe("news");
    client.connect();
  }, `ws://${base}/ws?topics=feed`);
  await until(page, "open", () => window.seen.opens === 1);
  // The `subscribed` answer before the pushes.
  await page.evaluate(() => window.client.request("echo", { sync: 1 }));
  const echo = await page.evaluate(async () => (await window.client.request("echo", { x: 1 })).data);
  assert(JSON.stringify(echo) === '{"x":1}', `echo by id: ${JSON.stringify(echo)}`);
  const unknown = await page.evaluate(async () => window.client.request("frobnicate", {}).then(() => "resolved", (e) => `${e.code} ${e.fromServer}`));
  assert(unknown === "UNKNOWN_MESSAGE_TYPE true", `an unknown type: ${unknown}`);
  for (let i = 0; i < 30; i++) await publish("news", i);
  for (let i = 0; i < 5; i++) await publish("feed", i);
  await until(page, "30 news in batches and 5 feed by query", () => window.seen.news.length === 30 && window.seen.feed.length === 5);
  const order = await page.evaluate(() => window.seen.news.every((d, i) => d === i));
  assert(order, "the news in order");
  // 150 messages in one burst: past 100/s the server answers RATE_LIMITED; the client
  // reports them and stays up.
  await page.evaluate(() => {
    for (let i = 0; i < 150; i++) window.client.send({ type: "echo", data: i });
  });
  await until(page, "RATE_LIMITED reported", () => window.seen.errors.includes("RATE_LIMITED"));
  await sleep(1100);
  // Killed and started mid-stream: a new epoch. The client comes back, subscribes again,
  // reports the gap and gets the next pushes.
  await backends.fastapi.restart();
  await until(page, "open again", () => window.seen.opens === 2 && window.client.state === "open");
  await page.evaluate(() => window.client.request("echo", { sync: 2 }));
  for (let i = 100; i < 105; i++) await publish("news", i);
  await until(page, "news after the restart", () => window.seen.news.length === 35);
  const after = await page.evaluate(() => JSON.parse(JSON.stringify(window.seen)));
  assert(JSON.stringify(after.news.slice(30)) === "[100,101,102,103,104]", `news after the restart: ${after.news.slice(30)}`);
  assert(after.gaps.length === 1 && after.gaps[0].topic === "news" && after.gaps[0].expected === 31 && after.gaps[0].got === 1, `the new epoch's gap: ${JSON.stringify(after.gaps)}`);
  await page.evaluate(() => window.client.free());
}
