// `crossTab: true`: the clients of every tab of an origin that open the same URL with the
// same protocol options share one WebSocket. Loaded by the hub (`loadTabs`) only for a
// client with that option, before its first socket opens; it imports nothing, so a
// bundle's chunk is this file alone, and the same file is the SharedWorker's script.
//
// Each tab keeps its whole client: its core, its listeners, its queue, its requests, its
// recovery positions. What changes is the socket the hub opens: a `Shared` socket, with
// the few members of a WebSocket the hub uses, whose other end is a `Mux`, which holds
// the one real WebSocket of that URL and routes its frames:
//
// - where: in a SharedWorker where the browser has one (this file, started as a module
//   worker); else in one tab, the leader, chosen with a Web Lock (the lock is released
//   when its tab goes, and the next tab waiting takes it), the others talking to it over
//   a BroadcastChannel; else (neither API) a tab opens a WebSocket of its own.
// - a reply (its `id` starts with the client's prefix, or is an id the app gave a send of
//   that tab) goes to the tab that asked; a push of a topic, to the tabs subscribed to
//   it, from the `subscribed` answer to their own subscribe on (the server replays what
//   they missed after that answer, so nothing is lost or doubled); everything else, to
//   every tab.
// - subscriptions are counted across tabs: an `unsubscribe` goes to the server only for
//   topics no other tab holds or is subscribing to, and the topics of a tab that goes
//   are unsubscribed for it.
// - one heartbeat: the pings of the first tab joined (the primary) go to the server; any
//   other tab's ping is answered by the mux (`pong`, straight to its core's `Port`),
//   since the primary's watchdog already judges the socket. When the primary's core
//   gives the socket up (a heartbeat or connect timeout), the socket is closed for all.
// - a tab that goes (closed, reloaded, navigated, put in the back/forward cache) leaves:
//   on `pagehide` it says so, and a tab that could not (crashed, killed) is noticed by
//   the lock each of its sockets holds, which the mux waits for. A leader tab that goes
//   closes the socket with 1001; the other tabs' cores reconnect (to the next leader)
//   at once, not after their backoff, and resubscribe from their positions.

const PORT_LOCK = "wsocket-port:";
const LEAD_LOCK = "wsocket-lead:";
// A client's id prefix (src/web/mod.rs, `id_prefix`): 10 base-36 characters and `-`.
const PREFIX = /^[0-9a-z]{10}-/;
// How often a socket asks to join until a mux answers (a leader being elected).
const JOIN_RETRY_MS = 250;
// Ids the app chose for its sends, remembered to route their replies, at most.
const APP_IDS = 10000;

const locks = globalThis.navigator?.locks;
// Started as the SharedWorker's script (its global scope has `onconnect`).
const inWorker = typeof document === "undefined" && "onconnect" in globalThis;

// ---- the mux: one real socket, the tabs' sockets as ports --------------------------------

/** @typedef {{ id: string, prefix: string, out: (msg: object) => void, topics: Set<string>, asked: Map<unknown, string[]> }} Port */

export class Mux {
  /** @param {{ url: string, protocols: string[], ekey: string, raw: boolean }} join */
  constructor(join) {
    this.url = join.url;
    this.protocols = join.protocols;
    this.ekey = join.ekey;
    this.raw = join.raw;
    /** @type {Map<string, Port>} */
    this.ports = new Map();
    this.prefixes = new Map();
    this.appIds = new Map();
    this.ws = null;
    this.own = 0;
  }

  /** @param {(msg: object) => void} out how to reach the port's tab */
  join(m, out) {
    if (this.ports.has(m.id)) return;
    const port = { id: m.id, prefix: m.prefix, out, topics: new Set(), asked: new Map() };
    this.ports.set(m.id, port);
    this.prefixes.set(m.prefix, port);
    // A tab that goes without a word (crashed, killed): its socket's lock is released.
    locks?.request(PORT_LOCK + m.id, () => this.leave(m.id));
    if (this.ws === null) this.open();
    out(this.ws.readyState === 1 ? { t: "open", protocol: this.ws.protocol } : { t: "joined" });
  }

  open() {
    const ws = (this.ws = new WebSocket(this.url, this.protocols));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      for (const p of this.ports.values()) p.out({ t: "open", protocol: ws.protocol });
    };
    ws.onclose = (e) => this.end(e.code, e.reason, e.wasClean);
    ws.onmessage = (e) => this.frame(e.data);
  }

  // The socket is closed (by the server, the network, or `close`): every port hears it
  // with `code`, and the mux is done (the next join makes a new one). `moved`: the tab
  // holding it is going, not the server: the ports reconnect at once, to the next one.
  end(code, reason, clean, moved) {
    const ws = this.ws;
    if (ws === null) return;
    this.ws = null;
    ws.onopen = ws.onclose = ws.onmessage = null;
    const ports = [...this.ports.values()];
    this.ports.clear();
    this.prefixes.clear();
    this.appIds.clear();
    for (const p of ports) p.out({ t: "close", code, reason, clean, moved });
  }

  // Closes the socket for every port. A script may close a WebSocket only with 1000 or
  // 3000–4999: the ports hear `code` itself (1001, going away, makes them reconnect).
  close(code, reason) {
    const ws = this.ws;
    if (ws === null) return;
    if (ws.readyState <= 1) ws.close(code === 1001 ? 1000 : code, reason);
    this.end(code, reason, false, code === 1001);
  }

  // What port `id` sent: `k` 1 a ping, 2 a subscribe, 3 an unsubscribe, else a frame
  // (with `i`, the id the app gave it).
  send(m) {
    const port = this.ports.get(m.id);
    const ws = this.ws;
    if (port === undefined || ws === null || ws.readyState !== 1) return;
    let data = m.d;
    if (m.k === 1 && port !== this.primary()) {
      port.out({ t: "pong" });
      return;
    }
    if (m.k === 2 || m.k === 3) {
      const msg = parse(data);
      const topics = msg?.data?.topics;
      if (Array.isArray(topics) && m.k === 2) port.asked.set(msg.id, topics);
      else if (Array.isArray(topics)) {
        for (const t of topics) port.topics.delete(t);
        const gone = topics.filter((t) => !this.held(t));
        if (gone.length === 0) return;
        if (gone.length !== topics.length) data = JSON.stringify({ ...msg, data: { ...msg.data, topics: gone } });
      }
    } else if (m.i !== undefined) {
      this.appIds.delete(m.i);
      this.appIds.set(m.i, port);
      if (this.appIds.size > APP_IDS) this.appIds.delete(this.appIds.keys().next().value);
    }
    ws.send(data);
  }

  // The first port joined: its pings are the socket's heartbeat.
  primary() {
    return this.ports.values().next().value;
  }

  // Whether a port holds `topic` or is subscribing to it.
  held(topic) {
    for (const p of this.ports.values()) {
      if (p.topics.has(topic)) return true;
      for (const asked of p.asked.values()) if (asked.includes(topic)) return true;
    }
    return false;
  }

  // Port `id` closed its socket. The primary's core giving the socket up (a heartbeat
  // or connect timeout: a code other than 1000) closes it for all; any other close
  // only leaves.
  closed(m) {
    if (m.code !== 1000 && this.ports.get(m.id) === this.primary()) this.close(m.code, m.reason);
    else this.leave(m.id);
  }

  // Port `id` is gone: the topics no other port holds are unsubscribed; without ports
  // the socket closes.
  leave(id) {
    const port = this.ports.get(id);
    if (port === undefined) return;
    this.ports.delete(id);
    if (this.prefixes.get(port.prefix) === port) this.prefixes.delete(port.prefix);
    for (const [appId, p] of this.appIds) if (p === port) this.appIds.delete(appId);
    if (this.ports.size === 0) return this.close(1000, "no tab uses the connection");
    const gone = new Set([...port.topics, ...[...port.asked.values()].flat()].filter((t) => !this.held(t)));
    if (gone.size !== 0 && this.ws?.readyState === 1) {
      this.ws.send(JSON.stringify({ [this.ekey]: "unsubscribe", id: `mux:${++this.own}`, data: { topics: [...gone] } }));
    }
  }

  // A frame of the real socket, to the ports it is for.
  frame(data) {
    const msg = this.raw || typeof data !== "string" ? undefined : parse(data);
    if (msg === undefined) return this.all(data);
    const id = msg.id;
    if (id !== undefined) {
      const port = this.appIds.get(id) ?? (typeof id === "string" ? this.prefixes.get(id.slice(0, 11)) : undefined);
      if (port !== undefined) {
        this.appIds.delete(id);
        const asked = port.asked.get(id);
        if (asked !== undefined) {
          port.asked.delete(id);
          const topics = msg.data?.topics;
          if (msg[this.ekey] === "subscribed" && Array.isArray(topics)) for (const t of topics) port.topics.add(t);
        }
        return port.out({ t: "msg", d: data });
      }
    }
    if (typeof msg.topic === "string") {
      for (const p of this.ports.values()) if (p.topics.has(msg.topic)) p.out({ t: "msg", d: data });
      return;
    }
    // A reply to a tab that left, or to the mux's own unsubscribe.
    if (typeof id === "string" && (PREFIX.test(id) || id.startsWith("mux:"))) return;
    if (msg[this.ekey] === "batch" && Array.isArray(msg.messages)) return this.batch(msg, data);
    this.all(data);
  }

  // A batch: each port gets the entries it would get one by one.
  batch(msg, data) {
    for (const p of this.ports.values()) {
      const mine = msg.messages.filter((inner) => typeof inner?.topic !== "string" || p.topics.has(inner.topic));
      if (mine.length !== 0) p.out({ t: "msg", d: mine.length === msg.messages.length ? data : JSON.stringify({ ...msg, messages: mine }) });
    }
  }

  all(data) {
    for (const p of this.ports.values()) p.out({ t: "msg", d: data });
  }
}

function parse(text) {
  try {
    const msg = JSON.parse(text);
    return typeof msg === "object" && msg !== null && !Array.isArray(msg) ? msg : undefined;
  } catch {
    return undefined;
  }
}

// The messages a socket sends its mux: `join`, `send`, `close`; one mux per key, made
// again once its socket is closed. `post(to, msg)` reaches the tab of socket `to`.
function serve(muxes, m, post) {
  if (m.t === "join") {
    let mux = muxes.get(m.key);
    if (mux === undefined || mux.ws === null) muxes.set(m.key, (mux = new Mux(m)));
    mux.join(m, (msg) => post(m.id, msg));
    return;
  }
  for (const mux of muxes.values()) {
    if (!mux.ports.has(m.id)) continue;
    if (m.t === "send") mux.send(m);
    else if (m.t === "close") mux.closed(m);
  }
}

// ---- in the SharedWorker ---------------------------------------------------------------

if (inWorker) {
  const muxes = new Map();
  globalThis.onconnect = (e) => {
    const port = e.ports[0];
    port.onmessage = (ev) => serve(muxes, ev.data, (to, msg) => port.postMessage({ ...msg, to }));
  };
}

// ---- in a tab ------------------------------------------------------------------------------

// Where the sockets live without a SharedWorker: a leader tab, or each tab's own.
const withoutWorker = locks !== undefined && typeof BroadcastChannel === "function" ? "weblocks" : "tab";

/** Where this page's shared sockets live: "sharedworker", "weblocks" or "tab". */
export let via = typeof SharedWorker === "function" ? "sharedworker" : withoutWorker;

// The live shared sockets of this page, by id; the worker's port (one per page); the
// BroadcastChannel and leadership of each key.
const sockets = new Map();
let worker = null;
const keys = new Map();

function channel(key) {
  let k = keys.get(key);
  if (k !== undefined) return k;
  const bc = new BroadcastChannel(`wsocket:${key}`);
  // `waiting`: this tab has asked to lead (and waits, or leads); `stop` ends its lead.
  k = { bc, waiting: false, stop: null };
  keys.set(key, k);
  bc.onmessage = (e) => {
    const m = e.data;
    if (m.to !== undefined) sockets.get(m.to)?.receive(m);
    else if (m.t === "leader") for (const s of sockets.values()) if (s.key === key) s.leaderIs(m.leader);
  };
  candidate(key, k);
  return k;
}

// Waits to lead `key`: the tab holding the lock runs the mux, over a BroadcastChannel of
// its own, until it goes (`pagehide`).
function candidate(key, k) {
  k.waiting = true;
  locks.request(LEAD_LOCK + key, () => {
    const bc = new BroadcastChannel(`wsocket:${key}`);
    const id = `${Math.random().toString(36).slice(2)}.${Date.now().toString(36)}`;
    const muxes = new Map();
    bc.onmessage = (e) => e.data.to === undefined && e.data.t !== "leader" && serve(muxes, e.data, (to, msg) => bc.postMessage({ ...msg, to, leader: id }));
    bc.postMessage({ t: "leader", leader: id });
    return new Promise((resolve) => {
      k.stop = () => {
        k.stop = null;
        k.waiting = false;
        for (const mux of muxes.values()) mux.close(1001, "the tab holding the connection went away");
        bc.close();
        resolve();
      };
    });
  });
}

function post(s, m) {
  if (s.how === "sharedworker") worker?.port.postMessage(m);
  else keys.get(s.key)?.bc.postMessage(m);
}

// This file, started again as the SharedWorker's script, by its own URL: esbuild, Vite
// and Rollup keep it a module of its own, and webpack 5 emits it as the worker's chunk.
function startWorker() {
  worker = new SharedWorker(import.meta.url, { type: "module", name: "wsocket" });
  worker.port.onmessage = (e) => sockets.get(e.data.to)?.receive(e.data);
  worker.onerror = () => {
    worker = null;
    fallBack();
    for (const s of sockets.values()) if (s.how === "sharedworker") s.end(1006, "the shared worker failed", false);
  };
}

// The worker's script could not be started (a CSP that forbids it, a bundler that moved
// it): this page's sockets go through a leader tab from now on.
function fallBack() {
  via = withoutWorker;
}

/**
 * The hub's socket for `url` (src/web/hub.js, `open`): a shared one, or where neither
 * SharedWorker nor Web Locks exist, a WebSocket of the tab's own.
 */
export function socket(hub, url, gen) {
  if (via === "sharedworker" && worker === null) {
    try {
      startWorker();
    } catch {
      fallBack();
    }
  }
  if (via === "tab") return new WebSocket(url, hub.protocols);
  return new Shared(hub, url, gen);
}

class Shared {
  constructor(hub, url, gen) {
    this.readyState = 0;
    this.protocol = "";
    this.bufferedAmount = 0;
    this.binaryType = "arraybuffer";
    this.onopen = this.onclose = this.onmessage = this.onerror = null;
    this.hub = hub;
    this.gen = gen;
    this.how = via;
    this.id = `${hub.prefix}${gen}`;
    this.key = JSON.stringify([url, hub.protocols, hub.key, hub.raw]);
    this.ping = hub.opts.ping;
    this.leader = undefined;
    this.unlock = null;
    this.retry = 0;
    sockets.set(this.id, this);
    const k = this.how === "weblocks" ? channel(this.key) : null;
    const join = { t: "join", id: this.id, key: this.key, url, protocols: hub.protocols, ekey: hub.key, raw: hub.raw, prefix: hub.prefix };
    // Joins once its lock is held: the mux waits for that lock to know the tab is gone.
    const joined = () => {
      if (this.readyState !== 0) return;
      post(this, join);
      if (k !== null) this.retry = setTimeout(joined, JOIN_RETRY_MS);
    };
    if (locks === undefined) joined();
    else {
      locks.request(PORT_LOCK + this.id, () => {
        if (this.readyState > 1) return undefined;
        joined();
        return new Promise((resolve) => (this.unlock = resolve));
      });
    }
  }

  receive(m) {
    if (this.readyState === 3) return;
    if (m.leader !== undefined && this.leader === undefined) {
      this.leader = m.leader;
      clearTimeout(this.retry);
    }
    if (m.t === "msg") this.onmessage?.({ data: m.d });
    else if (m.t === "pong") {
      if (this.hub.gen === this.gen) this.hub.port.pong(this.gen);
    } else if (m.t === "open") {
      clearTimeout(this.retry);
      this.readyState = 1;
      this.protocol = m.protocol;
      this.onopen?.();
    } else if (m.t === "close") this.end(m.code, m.reason, m.clean, m.moved);
  }

  // A new leader: a socket that was another leader's has lost its mux.
  leaderIs(leader) {
    if (this.leader !== undefined && this.leader !== leader) this.end(1001, "the tab holding the connection went away", false, true);
  }

  send(data) {
    if (this.readyState !== 1) return;
    let k = 0;
    let i;
    if (typeof data === "string" && !this.hub.raw) {
      const head = `{"${this.hub.key}":"`;
      if (data === this.ping || data.startsWith(`${head}ping"`)) k = 1;
      else if (data.startsWith(`${head}subscribe"`)) k = 2;
      else if (data.startsWith(`${head}unsubscribe"`)) k = 3;
      else if (!data.includes(`"id":"${this.hub.prefix}`)) i = parse(data)?.id;
    } else if (data === this.ping) k = 1;
    post(this, { t: "send", id: this.id, d: data, k, i });
  }

  close(code = 1000, reason = "") {
    if (this.readyState > 1) return;
    post(this, { t: "close", id: this.id, code, reason });
    this.end(code, reason, true);
  }

  // Closed: the lock goes (the mux forgets this socket), and the close event follows,
  // as a WebSocket's does, after the current call. `moved`: the tab that held the
  // connection went, not the server: the core retries at once (`Port.online`), without
  // its backoff, and finds the next leader (the server sees one new connection).
  end(code, reason, clean, moved) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    clearTimeout(this.retry);
    sockets.delete(this.id);
    this.unlock?.();
    queueMicrotask(() => {
      this.onclose?.({ code, reason, wasClean: clean });
      if (moved && this.hub.gen === this.gen) this.hub.port.online();
    });
  }
}

// A page that goes (closed, reloaded, navigated, into the back/forward cache) leaves at
// once: its sockets close (its clients reconnect if it comes back), and as a leader it
// closes the shared socket, so that another tab takes over and this one holds no lock.
if (!inWorker) {
  globalThis.addEventListener?.("pagehide", () => {
    for (const s of sockets.values()) {
      post(s, { t: "close", id: s.id, code: 1000, reason: "" });
      s.end(1001, "the page was hidden", false);
    }
    for (const k of keys.values()) k.stop?.();
  });
  globalThis.addEventListener?.("pageshow", (e) => {
    if (!e.persisted) return;
    for (const [key, k] of keys) if (!k.waiting) candidate(key, k);
  });
}
