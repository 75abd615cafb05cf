// The per-message path of one WsClient: socket handlers, JSON.parse, listener dispatch,
// writes and counters. It lives in JS by measurement: every value crossing into wasm
// costs about 80 ns against ~575 ns for a whole raw JSON.parse + dispatch
// (ARCHITECTURE.md, "Inbound path"). It also holds the browser objects the core's
// effects act on: the WebSocket, the timers, the page listeners and the token
// provider's promise; holding them here keeps web-sys and closures out of the wasm.
// The Rust core decides when to connect, ping, queue, resubscribe, time out and
// reconnect; this file reports the rare events it needs (open, close, pong, reply,
// timer, page, providers) through the `Port` the core hands it, one typed method each
// (declared in the generated .d.ts, pkg/port.d.ts). What it owns (ARCHITECTURE.md, "Who owns
// what"): the socket and its `readyState`, the listeners, how a reply names its request
// (the requests themselves, and their promises, are the core's), recovery positions,
// and Socket.IO framing both ways (inbound in sio.js, loaded only in Socket.IO mode).
// Sockets opened before their client (`preconnect`) wait in early.js; `open` takes one.

/** @typedef {import("../../pkg/port.js").Port} Port */
/**
 * A request's waiter (`track`, `expectAck`): the core's side holds it while the request
 * is pending and hands it back to be settled (`Port.settle`) or rejected (`fail`).
 * @typedef {{ n: number, id: unknown, promise: Promise<unknown> | undefined, resolve: (value: unknown) => void, reject: (error: unknown) => void }} HubRequest
 */

import { badOption, makeError, takeParked, wsUrl } from "./early.js";

const LIFECYCLE = new Set(["open", "close", "error", "state", "reconnecting", "gap", "restored"]);
const MAX_BATCH_DEPTH = 4;

// What the app gave the client that may refer back to it: its listeners, by event name
// or topic, lifecycle events, and "*"; and the token and URL providers (`useToken`,
// `useUrl`). Lists are
// replaced, never mutated (except by `mute`), so `off` inside a listener cannot skip
// another. `seen` caches `events` lookups (`listeners`); adding or removing a listener
// clears it.
const newLists = () => ({ events: new Map(), life: new Map(), any: [], token: null, url: null, seen: [] });

function eventName(name) {
  if (typeof name !== "string" || name === "") {
    throw makeError("INVALID_ARGUMENT", "the event name must be a non-empty string");
  }
}

// The UTF-8 length of `text`, without encoding it (a surrogate pair is 2 + 2).
function utf8Length(text) {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 || (c & 0xf800) === 0xd800 ? 1 : 2;
  }
  return n;
}

function preview(frame) {
  const text = typeof frame === "string" ? frame : JSON.stringify(frame) ?? String(frame);
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}

// Socket.IO's binary attachments (socket.io-parser's deconstructPacket; reconstructPacket
// is in sio.js): each binary value of an event travels as a frame of its own, a
// `{_placeholder: true, num}` standing in for it in the packet's JSON.
const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof Blob === "function" && v instanceof Blob);

// `v` with each binary value taken out into `buffers`; `v` itself when it holds none.
function deconstruct(v, buffers) {
  if (typeof v !== "object" || v === null || typeof v.toJSON === "function") return v;
  if (isBinary(v)) return { _placeholder: true, num: buffers.push(v) - 1 };
  let out = v;
  for (const k of Object.keys(v)) {
    const r = deconstruct(v[k], buffers);
    if (r === v[k]) continue;
    if (out === v) out = Array.isArray(v) ? v.slice() : { ...v };
    out[k] = r;
  }
  return out;
}


export class Hub {
  /**
   * @param {boolean} raw
   * @param {string} key
   * @param {string} prefix
   * @param {Port} port
   * @param {string[]} protocols
   */
  constructor(raw, key, prefix, port, protocols) {
    this.raw = raw;
    this.key = key;
    this.prefix = prefix;
    /** @type {Port} */
    this.port = port;
    // The subprotocols offered at every connect (`subprotocols`).
    this.protocols = protocols;
    this.gen = 0;
    // `socket` is the current WebSocket from its creation, `ws` the same once it opened
    // (what writes go to).
    this.socket = null;
    this.ws = null;
    this.timers = [];
    this.page = [];
    this.watchPage();
    // The listeners and the token provider (`newLists`). Held here while the client is
    // connecting, open or reconnecting; while it is closed, an owner (`adopt`) holds them
    // and the hub only reaches them through the owner, weakly: see `adopt`.
    this.ls = newLists();
    this.owner = null;
    // A one-entry cache of the last topic's listeners: a topic arrives as a fresh string
    // per frame, and hashing it for a second Map lookup cost ~65 ns of ~700 (bench/).
    this.topicKey = undefined;
    this.topicList = undefined;
    this.topicSeq = undefined;
    // Recovery positions, owned here (src/recovery.rs has the rule): per topic, the next
    // `seq` expected and its `epoch`. The core reads them at every open, for the
    // resubscribe's `since`.
    this.seqs = new Map();
    this.duplicates = 0;
    this.gaps = 0;
    // Reply routing. Which requests are pending is the core's (`Port.settle` answers and
    // forgets one); the hub knows only how a reply names its request: by the id the hub
    // gave it (`<prefix><n>`, or `n` for a Socket.IO ack), by an id the app chose for a
    // reliable send (`routes`: id to n), or, for a request made with `replyEvent`, by
    // the event name (`awaiting`: name to the ns waiting, oldest first).
    this.routes = new Map();
    this.awaiting = new Map();
    // The request `track` made last: `watch` reads its `n`.
    this.tracked = undefined;
    this.framesIn = 0;
    this.bytesIn = 0;
    this.framesOut = 0;
    this.bytesOut = 0;
    this.malformed = 0;
    this.oversized = 0;
    this.listenerErrors = 0;
    // `maxMessageBytes`, set by the core's options (Infinity: no limit).
    this.maxIn = Infinity;
    this.debug = false;
    this.id = undefined;
    // Whether a send may go out now (open, nothing queued, no effect pending) is the
    // core's: `Machine::writable_at_poll`, a byte the hub reads in the wasm memory
    // (`readWritable`), with no call. Until then (and after `dispose`), a zero.
    this.memory = { buffer: new ArrayBuffer(1) };
    this.at = 0;
    this.bytes = new Uint8Array(this.memory.buffer);
    // The socket was seen OPEN in this task (`sendFast`); cleared at the task's end.
    this.isOpen = false;
    this.recheck = () => (this.isOpen = false);
    this.fastIds = 0;
    // Socket.IO mode (`useSocketIo`): the namespace, the CONNECT auth, what the open
    // packet said, the binary packet whose attachments are arriving (`bin`), and the
    // session a server with connection state recovery gave (`pid`, and `offset`, the
    // last event's).
    this.sio = null;
    // The Socket.IO decoder (sio.js), once loaded.
    this.codec = null;
    // With `crossTab` and `outbox: "indexeddb"`, their chunks once loaded (`load`), and
    // the reliable sends made before the outbox was (`keep`).
    this.tabs = this.box = this.unboxed = null;
    this.loads = {};
  }

  useSocketIo(nsp) {
    this.sio = { nsp, part: nsp === "/" ? "" : `${nsp},`, auth: "", max: 1000000, window: 0, bin: null, pid: undefined, offset: undefined };
  }

  // The chunks `resolve` waits for before a socket opens, each loaded on first use, so
  // an app that never turns its option on never downloads it: `codec`, the Socket.IO
  // decoder (sio.js), in Socket.IO mode; `tabs`, the shared sockets (tabs.js), with
  // `crossTab`; `box`, the outbox (outbox.js), with `outbox: "indexeddb"`, whose start
  // reads the records earlier pages left. A failed load is not kept: the next connect
  // attempt tries again.
  load(name, get, what) {
    return (this.loads[name] ??= get().then(
      (m) => (this[name] = m),
      (cause) => {
        this.loads[name] = undefined;
        throw ["LOAD_FAILED", `could not load the ${what} code: ${cause?.message ?? cause}`];
      },
    ));
  }

  loadBox() {
    return this.load("box", () => import("./outbox.js").then((m) => m.start(this)), "outbox");
  }

  // The CONNECT packet's auth, `{"token": ...}` as socket.io-client sends it.
  sioAuth(token) {
    this.sio.auth = token === undefined ? "" : JSON.stringify({ token });
  }

  // ---- listeners -------------------------------------------------------------------

  // The listeners and the token provider, wherever they are held; none once a closed
  // client's owner is gone.
  lists() {
    return this.ls ?? this.owner.deref()?._lists ?? (this.ls = newLists());
  }

  // The package's `WsClient` (js/index.js) owns its listeners and token provider from
  // construction. The wasm side holds this hub for as long as the client lives, and the
  // hub's page listeners hold it too: listeners or a provider held here that use the
  // client would keep it from the garbage collector even after the app dropped it. So
  // while the client is closed (before the first `connect()`, and after a final close)
  // only `owner` holds them, and the hub reaches them through a `WeakRef` to it: a
  // closed client the app dropped is collected, and its FinalizationRegistry frees the
  // wasm side. From `connecting` until `closed` again the hub holds them as well, so a
  // connected client the app did not keep a reference to goes on working, as a
  // `WebSocket` does.
  adopt(owner, opts) {
    // With `crossTab` or `outbox`, what their chunks need (js/index.js).
    this.opts = opts;
    if (opts?.boxed) this.loadBox().catch(() => {});
    owner._lists = this.ls;
    this.owner = new WeakRef(owner);
    this.loosen();
  }

  loosen() {
    if (this.owner === null) return;
    this.ls = null;
    this.topicKey = this.topicList = this.topicSeq = undefined;
  }

  // Returns the listener's own unsubscribe function: it removes this entry and no other
  // (not the same function added again, by `on` or `once`), and only once.
  on(name, fn, once) {
    eventName(name);
    if (typeof fn !== "function") {
      throw makeError("INVALID_ARGUMENT", `the listener for "${name}" must be a function`);
    }
    let entry = fn;
    let added = true;
    const remove = () => {
      if (added) {
        added = false;
        this.remove(name, (e) => e === entry);
      }
    };
    if (once) {
      entry = (a, b) => {
        remove();
        return fn(a, b);
      };
      entry.listener = fn;
    }
    const ls = this.listenersChanged();
    if (name === "*") {
      ls.any = [...ls.any, entry];
    } else {
      const map = LIFECYCLE.has(name) ? ls.life : ls.events;
      map.set(name, [...(map.get(name) ?? []), entry]);
    }
    return remove;
  }

  off(name, fn) {
    eventName(name);
    this.remove(name, fn === undefined || fn === null ? null : (e) => e === fn || e.listener === fn);
  }

  // Removes the first listener of `name` that `match` accepts; every one without `match`.
  remove(name, match) {
    const keep = (list) => {
      if (match === null) return [];
      const i = list.findIndex(match);
      return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
    };
    const ls = this.listenersChanged();
    if (name === "*") {
      ls.any = keep(ls.any);
      return;
    }
    const map = LIFECYCLE.has(name) ? ls.life : ls.events;
    const list = map.get(name);
    if (list === undefined) return;
    const next = keep(list);
    if (next.length === 0) map.delete(name);
    else map.set(name, next);
  }

  // Before a listener is added or removed: the lists it changes, with the caches of
  // their lookups (`listeners`, the topic's) cleared.
  listenersChanged() {
    this.topicKey = undefined;
    const ls = this.lists();
    ls.seen = [];
    return ls;
  }

  // The listeners of the event `name` (undefined for none). A frame's event name is a
  // fresh string every time, and a Map lookup hashes it: ~35–65 ns of a ~600–700 ns
  // frame (bench/notes.md). So the last name seen of each length (mod 8) is kept with its
  // list, and a name is compared with that one first: a handful of event names, the
  // usual case, never reach the Map after their first frame.
  listeners(ls, name) {
    const seen = ls.seen;
    const slot = name.length & 7;
    if (seen[slot] === name) return seen[slot + 8];
    const list = ls.events.get(name);
    seen[slot] = name;
    seen[slot + 8] = list;
    return list;
  }

  fire(list, a, b) {
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](a, b);
      } catch (cause) {
        this.listenerErrors++;
        this.emitError(makeError("LISTENER_ERROR", `a listener threw: ${cause}`, { cause }));
      }
    }
  }

  emit(name, payload) {
    const list = this.lists().life.get(name);
    if (list !== undefined) this.fire(list, payload, undefined);
  }

  emitError(error) {
    const list = this.lists().life.get("error");
    if (list === undefined) {
      if (this.debug) console.warn("wsocket:", error);
      return;
    }
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](error);
      } catch (cause) {
        // An error listener that throws is not re-reported, or it would loop.
        console.error("wsocket: an error listener threw", cause);
      }
    }
  }

  // `open`, with the subprotocol the server picked ("" for none), as `WebSocket.protocol`.
  emitOpen() {
    this.emit("open", { subprotocol: this.ws?.protocol ?? "" });
  }

  emitState(from, to) {
    if (from === "closed") this.ls = this.lists();
    this.emit("state", { from, to });
    if (to === "closed") this.loosen();
  }

  emitClose(code, reason, wasClean) {
    this.emit("close", { code, reason, wasClean });
  }

  emitReconnecting(attempt, delayMs) {
    this.emit("reconnecting", { attempt, delayMs });
  }

  // ---- socket ----------------------------------------------------------------------

  // Opens socket `gen`; throws (a SyntaxError) when the browser refuses the URL. A
  // previous socket is released first, so at most one socket is ever attached.
  open(url, gen) {
    this.release();
    this.isOpen = false;
    // Socket.IO: the server's path and the Engine.IO query (the decoder is loaded: the
    // core opens only after `resolve`, which waits for it).
    if (this.sio !== null) url = this.codec.url(url);
    // With `crossTab`, a socket shared with other tabs (tabs.js).
    const early = !this.tabs && takeParked(url, this.protocols);
    const ws = early?.ws ?? (this.tabs ? this.tabs.socket(this, url, gen) : new WebSocket(url, this.protocols));
    this.socket = ws;
    this.gen = gen;
    if (this.sio !== null) this.sio.bin = null;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.ws = ws;
      // Socket.IO: open once the namespace has accepted the CONNECT (sio.js).
      if (this.sio === null) this.port.opened(gen, undefined);
    };
    ws.onclose = (e) => {
      this.isOpen = false;
      if (this.ws === ws) this.ws = null;
      if (this.socket === ws) this.socket = null;
      this.port.closed(gen, e.code, e.reason, e.wasClean);
    };
    // The close event that follows carries the code; an error event carries nothing.
    ws.onerror = () => {};
    ws.onmessage = (e) => {
      if (gen === this.gen) this.receive(e.data);
    };
    // A preconnected socket: what it saw before this client took it, as if it happened
    // now, once the core's current call has returned (a microtask runs before any of the
    // socket's own events). A handler the client removed meanwhile (`release`) is skipped.
    if (early?.opened) {
      queueMicrotask(() => {
        ws.onopen?.();
        for (const data of early.frames) ws.onmessage?.({ data });
      });
    }
  }

  // Closes socket `gen` if it is still the current one. With `detach`, its handlers go
  // first: nothing from it reaches the core again (the core already moved on).
  close(gen, code, reason, detach) {
    const ws = this.socket;
    if (ws === null || this.gen !== gen) return;
    if (detach) this.release(code, reason);
    else ws.close(code, reason);
  }

  // Detaches the current socket's handlers and closes it if it is still connecting or open.
  release(code = 1000, reason = "client dropped the socket") {
    const ws = this.socket;
    this.socket = null;
    this.ws = null;
    this.isOpen = false;
    if (ws === null) return;
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    if (ws.readyState <= 1) ws.close(code, reason);
  }

  // ---- timers, page lifecycle, token ---------------------------------------------------

  // One timer per slot (the core's `Timer` index): arming replaces the previous one.
  arm(slot, ms) {
    clearTimeout(this.timers[slot]);
    this.timers[slot] = setTimeout(() => {
      this.timers[slot] = undefined;
      this.port.timer(slot);
    }, ms);
  }

  disarm(slot) {
    clearTimeout(this.timers[slot]);
    this.timers[slot] = undefined;
  }

  // `online` → the core retries at once; back to a visible page (`visibilitychange`,
  // `pageshow`, `resume` after a freeze) → the core checks the socket is still alive.
  watchPage() {
    const doc = globalThis.document;
    const online = () => this.port.online();
    const wake = () => {
      const visibility = doc?.visibilityState;
      if (visibility === undefined || visibility === "visible") this.port.wake();
    };
    const listen = (target, name, fn) => {
      if (typeof target?.addEventListener !== "function") return;
      target.addEventListener(name, fn);
      this.page.push([target, name, fn]);
    };
    listen(globalThis, "online", online);
    listen(globalThis, "pageshow", wake);
    listen(doc, "visibilitychange", wake);
    listen(doc, "resume", wake);
  }

  // The app's listeners (and its token provider) are dropped at once: none hears of this
  // client again, not even the rest of a list that `fire` is going through (lists are
  // replaced, never mutated, except here). The package entry calls this from `free()`
  // itself, because a `free()` inside a listener of one of the client's own calls (a
  // `state` listener in `close()`) releases the client only when that call returns.
  mute() {
    const ls = this.lists();
    for (const list of [...ls.events.values(), ...ls.life.values(), ls.any]) list.length = 0;
    Object.assign(ls, newLists());
    this.topicKey = this.topicList = this.topicSeq = undefined;
  }

  // The client was freed: nothing of it may run again. Its listeners go (`mute`), and
  // the reply routes; the core's side has rejected every pending request already, so no
  // `await client.request(...)` hangs on a freed client.
  dispose() {
    for (const [target, name, fn] of this.page) target.removeEventListener(name, fn);
    this.page = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.release();
    // The port goes once the call that freed the client has returned (it may be one of
    // the port's own: freeing it now would be a recursive use). What still settles
    // later (a token provider's promise) reaches a port that does nothing.
    const port = this.port;
    this.port = /** @type {Port} */ (/** @type {unknown} */ (new Proxy({}, { get: () => () => {} })));
    queueMicrotask(() => port.free?.());
    // The package entry caches this hub on the app's `WsClient`, which may outlive it:
    // the fast path stops reading the machine's byte (its memory is about to be freed),
    // and `release()` left it no socket to write to.
    this.readWritable({ buffer: new ArrayBuffer(1) }, 0);
    // Its pending requests were rejected by the core's side, before this call.
    this.mute();
    this.routes = new Map();
    this.awaiting = new Map();
    this.tracked = undefined;
  }

  // The token and URL providers, kept with the listeners (not in the wasm side, whose
  // references are roots for the garbage collector).
  useToken(provider) {
    this.lists().token = provider;
  }

  useUrl(provider) {
    this.lists().url = provider;
  }

  // Calls the URL and token providers for socket `gen`, and in Socket.IO mode waits for
  // the decoder; the core hears the URL (as `wsUrl` reads it) and the token, each
  // undefined for no such provider, or that one failed, reported here (INVALID_URL,
  // TOKEN_ERROR, LOAD_FAILED).
  resolve(gen) {
    const { url, token } = this.lists();
    // A provider's answer, or a rejection with [code, why].
    const call = (f, code, what) => f === null ? undefined : new Promise((r) => r(f())).then(
      (v) => (typeof v === "string" ? v : Promise.reject([code, `the ${what} provider returned no string`])),
      (cause) => Promise.reject([code, `the ${what} provider threw or rejected: ${cause}`]),
    );
    const ws = Promise.resolve(call(url, "INVALID_URL", "URL")).then((u) => {
      if (u === undefined) return u;
      const read = wsUrl(u);
      if (read === undefined) throw ["INVALID_URL", `the URL provider gave "${u}": expected ws://, wss://, http://, https:// or a path`];
      return read;
    });
    // The chunks the socket needs first: in Socket.IO mode the decoder; with `crossTab`
    // the shared sockets; with `outbox` the records of earlier pages.
    const o = this.opts;
    const chunks = [this.sio !== null && this.load("codec", () => import("./sio.js"), "Socket.IO"), o?.crossTab && this.load("tabs", () => import("./tabs.js"), "crossTab"), o?.boxed && this.loadBox()];
    Promise.all([ws, call(token, "TOKEN_ERROR", "token"), ...chunks]).then(
      ([u, t]) => this.port.resolved(gen, true, u, t),
      ([code, why]) => {
        this.emitError(makeError(code, why));
        this.port.resolved(gen, false, undefined, undefined);
      },
    );
  }

  receive(data) {
    this.framesIn++;
    if (typeof data !== "string") {
      const size = data.byteLength;
      this.bytesIn += size;
      if (size > this.maxIn) {
        this.tooLarge(size, data);
        // The packet it belonged to is lost with it.
        if (this.sio !== null) this.sio.bin = null;
      } else if (this.raw) this.dispatchRaw(data);
      else if (this.sio !== null) this.codec.attachment(this, data);
      else this.bad("a binary frame where JSON text was expected", data);
      return;
    }
    const length = data.length;
    this.bytesIn += length;
    // A UTF-16 unit is at most 3 UTF-8 bytes: only a frame near the limit is measured.
    if (length * 3 > this.maxIn) {
      const size = utf8Length(data);
      if (size > this.maxIn) {
        this.tooLarge(size, data);
        return;
      }
    }
    if (this.sio !== null) {
      this.codec.receive(this, data);
      return;
    }
    if (this.raw) {
      this.dispatchRaw(data);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      this.bad("not JSON", data);
      return;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      this.bad("JSON that is not an object", data);
      return;
    }
    this.route(msg, 0);
  }

  route(msg, depth) {
    const ls = this.lists();
    const name = msg[this.key];
    if (typeof name !== "string") {
      this.bad(`no string "${this.key}" field`, msg);
      return;
    }
    // A reply: by its `id`; else, for a request made with `replyEvent` (a gateway that
    // cannot echo an id), the oldest one the core still holds waiting for this event.
    const id = msg.id;
    if (id !== undefined || this.awaiting.size !== 0) {
      let request = id === undefined ? undefined : this.answer(id);
      if (request === undefined && this.awaiting.size !== 0) request = this.answerEvent(name);
      if (request !== undefined) {
        if (name === "error") request.reject(this.serverError(msg));
        else request.resolve(msg);
        return;
      }
    }
    // The names the protocol reserves are 4, 5 or 10 characters long ("pong"; "batch",
    // "error"; "subscribed"): a name of another length skips their comparisons (~10 ns).
    const n = name.length;
    if (n === 4 || n === 5 || n === 10) switch (name) {
      case "batch":
        this.batch(msg, depth);
        return;
      case "pong":
        this.port.pong(this.gen);
        return;
      case "error": {
        const error = this.serverError(msg);
        this.emitError(error);
        if (error.code === "UNAUTHORIZED") this.port.unauthorized(this.gen);
        return;
      }
      case "subscribed":
        this.subscribed(msg);
        break;
    }
    const topic = msg.topic;
    if (topic !== undefined) {
      if (typeof topic !== "string") {
        this.bad("a topic that is not a string", msg);
        return;
      }
      if (topic !== this.topicKey) {
        this.topicKey = topic;
        this.topicList = ls.events.get(topic);
        this.topicSeq = this.seqs.get(topic);
      }
      const seq = msg.seq;
      if (seq !== undefined) {
        // The next of its topic first: `rec.next` is a whole number and `rec.epoch` a
        // string, so a match needs no further check (~10 ns of ~750, bench/).
        const rec = this.topicSeq;
        const epoch = msg.epoch;
        if (rec !== undefined && seq === rec.next && epoch === rec.epoch) rec.next = seq + 1;
        else if (!Number.isSafeInteger(seq) || seq < 0 || typeof epoch !== "string") {
          this.bad("a seq that is not a whole number, or no string epoch", msg);
          return;
        } else if (!this.sequence(topic, seq, epoch)) return;
      }
    }
    const data = msg.data;
    const list = this.listeners(ls, name);
    if (list !== undefined) this.fire(list, data, msg);
    // By topic: the list is looked at first, so a topic without listeners costs no
    // string comparison.
    if (topic !== undefined) {
      const byTopic = this.topicList;
      if (byTopic !== undefined && topic !== name) this.fire(byTopic, data, msg);
    }
    if (ls.any.length !== 0) this.fire(ls.any, data, msg);
  }

  // The duplicate and gap rule (src/recovery.rs) for a push that is not simply the next
  // of its topic (`route` decides that case inline); false drops it.
  sequence(topic, seq, epoch) {
    const rec = this.seqs.get(topic);
    if (rec === undefined) {
      this.position(topic, seq, epoch);
      return true;
    }
    if (epoch === rec.epoch && seq < rec.next) {
      this.duplicates++;
      return false;
    }
    const expected = rec.next;
    rec.next = seq + 1;
    rec.epoch = epoch;
    this.gap(topic, expected, seq);
    return true;
  }

  position(topic, seq, epoch) {
    const rec = { next: seq + 1, epoch };
    this.seqs.set(topic, rec);
    if (this.topicKey === topic) this.topicSeq = rec;
  }

  gap(topic, expected, got) {
    this.gaps++;
    this.emit("gap", { topic, expected, got });
  }

  // A `subscribed` answer, `{topics, recovered, positions}`: a topic the server could
  // not replay is a gap now (`got: null`; the app refetches) and starts over; a topic
  // without a position starts from the server's, so what is published from now on is
  // recoverable even if the socket drops before the first push.
  subscribed(msg) {
    const data = msg.data;
    const topics = data !== null && typeof data === "object" ? data.topics : undefined;
    if (!Array.isArray(topics)) return;
    this.topicKey = undefined;
    for (const topic of topics) {
      let rec = this.seqs.get(topic);
      if (rec !== undefined && data.recovered?.[topic] === false) {
        this.seqs.delete(topic);
        this.gap(topic, rec.next, null);
        rec = undefined;
      }
      if (rec === undefined) {
        const at = data.positions?.[topic];
        if (Number.isSafeInteger(at?.seq) && at.seq >= 0 && typeof at.epoch === "string") this.position(topic, at.seq, at.epoch);
      }
    }
  }

  // Unsubscribed topics: a later subscribe starts fresh.
  forget(topics) {
    for (const topic of topics) this.seqs.delete(topic);
    this.topicKey = undefined;
  }

  // `{topic, seq, epoch}` of every topic with a position (`seq`: the last delivered).
  positions() {
    const out = [];
    for (const [topic, rec] of this.seqs) out.push({ topic, seq: rec.next - 1, epoch: rec.epoch });
    return out;
  }

  batch(msg, depth) {
    const messages = msg.messages;
    if (!Array.isArray(messages) || depth >= MAX_BATCH_DEPTH) {
      this.bad(depth >= MAX_BATCH_DEPTH ? "batches nested too deep" : "a batch without a messages array", msg);
      return;
    }
    for (let i = 0; i < messages.length; i++) {
      const inner = messages[i];
      if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) this.route(inner, depth + 1);
      else this.bad("a batch entry that is not an object", inner);
    }
  }

  dispatchRaw(data) {
    const ls = this.lists();
    const list = ls.events.get("message");
    if (list !== undefined) this.fire(list, data, data);
    if (ls.any.length !== 0) this.fire(ls.any, data, data);
  }

  // ---- Socket.IO ---------------------------------------------------------------------

  // An EVENT packet: `42<nsp,>[ack]["name", ...args]`.
  sioEvent(name, args, ack) {
    if (typeof name !== "string" || name === "") {
      throw makeError("INVALID_ARGUMENT", `a Socket.IO event needs a string "${this.key}"`);
    }
    return this.sioEncode(2, ack, [name, ...args]);
  }

  // An EVENT (`type` 2) or ACK (3) packet, `4<type><nsp,><ack><JSON>`; with binary values,
  // a BINARY_EVENT or BINARY_ACK, `4<type + 3><n>-<nsp,><ack><JSON>`, sent as the array of
  // its frames: that text, then the n attachments. Refused over the server's `maxPayload`.
  sioEncode(type, ack, args) {
    const buffers = [];
    let text;
    try {
      text = JSON.stringify(deconstruct(args, buffers));
    } catch (cause) {
      throw makeError("INVALID_ARGUMENT", `could not encode the event: ${cause}`, { cause });
    }
    const n = buffers.length;
    text = `4${n === 0 ? type : `${type + 3}${n}-`}${this.sio.part}${ack}${text}`;
    const max = this.sio.max;
    if (text.length > max || (text.length * 3 > max && utf8Length(text) > max) || buffers.some((b) => (b.byteLength ?? b.size) > max)) {
      throw makeError("PAYLOAD_TOO_LARGE", `the event is larger than the server's maxPayload (${max} bytes)`);
    }
    return n === 0 ? text : [text, ...buffers];
  }

  // The Socket.IO server refused the namespace (CONNECT_ERROR, sio.js): reported, and the
  // core does not reconnect into the same refusal.
  connectError(payload) {
    const message = payload !== null && typeof payload === "object" ? payload.message : payload;
    this.emitError(makeError("CONNECT_ERROR", `the Socket.IO server refused the connection: ${message}`, { frame: payload, fromServer: true }));
    this.port.unauthorized(this.gen);
  }

  serverError(msg) {
    const body = typeof msg.error === "object" && msg.error !== null ? msg.error : {};
    const code = typeof body.code === "string" ? body.code : "SERVER_ERROR";
    const text = typeof body.message === "string" ? body.message : msg.message ?? "the server sent an error";
    return makeError(code, String(text), { frame: msg, fromServer: true });
  }

  tooLarge(size, frame) {
    this.oversized++;
    const why = `frame skipped: ${size} bytes, more than maxMessageBytes (${this.maxIn})`;
    this.emitError(makeError("FRAME_TOO_LARGE", why, { frame: preview(frame), size }));
  }

  bad(why, frame) {
    this.malformed++;
    this.emitError(makeError("MALFORMED_FRAME", `malformed frame skipped: ${why}`, { frame: preview(frame) }));
  }

  // ---- outbound --------------------------------------------------------------------

  // The wire form of a send: objects become JSON with an `id` (theirs, or prefix + n);
  // strings and binary go as they are. Leaves the id in `this.id`.
  frame(msg, n) {
    if (this.sio !== null) {
      if (typeof msg !== "object" || msg === null || Array.isArray(msg) || isBinary(msg)) {
        throw makeError("INVALID_ARGUMENT", `with protocol "socketio", send() takes {${this.key}, data} or {${this.key}, args}`);
      }
      this.id = undefined;
      const args = Array.isArray(msg.args) ? msg.args : msg.data === undefined ? [] : [msg.data];
      return this.sioEvent(msg[this.key], args, "");
    }
    if (typeof msg === "string" || msg instanceof ArrayBuffer || ArrayBuffer.isView(msg)) {
      this.id = undefined;
      return msg;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      throw makeError("INVALID_ARGUMENT", "send() takes an object, a string, an ArrayBuffer or a typed array");
    }
    let text;
    try {
      text = JSON.stringify(msg);
    } catch (cause) {
      throw makeError("INVALID_ARGUMENT", `send() could not encode the message: ${cause}`, { cause });
    }
    // A Date, or a `toJSON` that returns no object: its JSON could not carry an id.
    if (typeof text !== "string" || text.charCodeAt(0) !== 123) {
      throw makeError("INVALID_ARGUMENT", "send() takes an object whose JSON is an object (a Date or a toJSON that returns something else is not)");
    }
    let id = msg.id;
    if (id === undefined) {
      id = this.prefix + n;
      text = text.length === 2 ? `{"id":"${id}"}` : `{"id":"${id}",${text.slice(1)}`;
    }
    this.id = id;
    return text;
  }

  // The package entry's `send` fast path (js/index.js): no wasm call at all. Returns
  // undefined, without sending, when the core must decide (not writable, socket gone).
  // Ids of this path are `<prefix>f<n>`, apart from the core's `<prefix><n>`.
  //
  // Whether the socket takes the write is its `readyState`, read once per task: the
  // browser changes it only in a task of its own (the closing handshake queues one), so
  // a burst of sends in one loop pays one DOM read, not one each (~5% of a send,
  // BENCHMARKS.md, outbound).
  sendFast(msg) {
    if (!this.writable()) return undefined;
    if (!this.isOpen) {
      if (this.ws?.readyState !== 1) return undefined;
      this.isOpen = true;
      queueMicrotask(this.recheck);
    }
    const frame = this.frame(msg, `f${++this.fastIds}`);
    this.write(frame);
    return this.id ?? null;
  }

  readWritable(memory, at) {
    this.memory = memory;
    this.at = at;
    this.bytes = new Uint8Array(memory.buffer);
  }

  // The core's byte. A grown wasm memory detaches the old buffer (its views read as
  // empty): the view is made again then.
  writable() {
    let bytes = this.bytes;
    if (bytes.length === 0) bytes = this.bytes = new Uint8Array(this.memory.buffer);
    return bytes[this.at] === 1;
  }

  takeId() {
    const id = this.id;
    this.id = undefined;
    return id;
  }

  // A core `Send`: only to socket `gen`, and only while it is the current one.
  writeTo(gen, frame) {
    return gen === this.gen && this.write(frame);
  }

  // Writes only to an OPEN socket: from the server's close frame until the close event
  // the socket is CLOSING and the browser drops what is sent (logging "already in
  // CLOSING or CLOSED state"). False then; the core queues the frame for the next open.
  write(frame) {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1) return false;
    this.framesOut++;
    if (Array.isArray(frame)) {
      // A Socket.IO packet with binary attachments (`sioEncode`): one message, its frames.
      for (const part of frame) {
        this.bytesOut += typeof part === "string" ? part.length : part.byteLength ?? part.size;
        ws.send(part);
      }
      return true;
    }
    this.bytesOut += typeof frame === "string" ? frame.length : frame.byteLength;
    ws.send(frame);
    return true;
  }

  // ---- requests --------------------------------------------------------------------

  requestFrame(type, data, n) {
    if (typeof type !== "string" || type === "") {
      throw makeError("INVALID_ARGUMENT", "the request type must be a non-empty string");
    }
    if (this.sio !== null) return this.sioEvent(type, data === undefined ? [] : [data], n);
    const msg = { [this.key]: type, id: this.prefix + n };
    if (data !== undefined) msg.data = data;
    try {
      return JSON.stringify(msg);
    } catch (cause) {
      throw makeError("INVALID_ARGUMENT", `request() could not encode the data: ${cause}`, { cause });
    }
  }

  // A request's promise and how to settle it (the core keeps it as the request's
  // waiter); with `replyEvent`, the first message of that event name that carries no id
  // of a pending request answers it too.
  track(n, replyEvent, frame) {
    // Socket.IO ack ids are numbers; the typed protocol's ids carry the prefix.
    const request = { n, id: this.sio !== null ? String(n) : this.prefix + n, promise: undefined, resolve: undefined, reject: undefined };
    request.promise = new Promise((resolve, reject) => Object.assign(request, { resolve, reject }));
    if (replyEvent !== undefined) {
      // The ns the core no longer holds (timed out, aborted) go now: the list stays as
      // long as the requests that wait, even for an event that never comes.
      const ns = (this.awaiting.get(replyEvent) ?? []).filter((m) => this.port.pending(m));
      ns.push(n);
      this.awaiting.set(replyEvent, ns);
    }
    this.tracked = request;
    // With `retry`, the frame: the outbox keeps it.
    return frame === undefined ? request : this.keep(request, frame);
  }

  // With `outbox`, a reliable send's waiter and frame go to the outbox (outbox.js),
  // which takes those of sends made before it loaded (`unboxed`) when it starts.
  keep(w, frame) {
    if (this.box) this.box.keep(w, frame);
    else if (this.opts?.boxed) (this.unboxed ??= []).push([w, frame]);
    return w;
  }

  // The request a reply's `id` names, settled by the core; undefined when it names none
  // the core still holds.
  answer(id) {
    let n = this.routes.get(id);
    if (n !== undefined) this.routes.delete(id);
    else if (typeof id === "string" && id.startsWith(this.prefix)) {
      n = Number(id.slice(this.prefix.length));
      // Only the exact form the hub wrote (`<prefix>7`, not `<prefix>07` or `<prefix>f7`).
      if (!Number.isSafeInteger(n) || this.prefix + n !== id) return undefined;
    } else return undefined;
    return this.port.settle(n);
  }

  // The oldest request waiting for event `name` that the core still holds, settled.
  answerEvent(name) {
    const ns = this.awaiting.get(name);
    if (ns === undefined) return undefined;
    let request;
    while (request === undefined && ns.length !== 0) request = this.port.settle(ns.shift());
    if (ns.length === 0) this.awaiting.delete(name);
    return request;
  }

  // A request with a `signal` (js/index.js): `send()` makes it unless the signal already
  // fired; when it fires, the core forgets the request and its promise rejects.
  watch(signal, send) {
    if (!(signal instanceof AbortSignal)) throw badOption("signal", "expected an AbortSignal");
    if (signal.aborted) {
      return Promise.reject(makeError("REQUEST_ABORTED", "request aborted by its signal before it was sent", { cause: signal.reason }));
    }
    this.tracked = undefined;
    const promise = send();
    const n = this.tracked?.n;
    const abort = () => {
      const request = n === undefined ? undefined : this.port.settle(n);
      if (request === undefined) return;
      request.reject(makeError("REQUEST_ABORTED", `request ${request.id} aborted by its signal`, { id: request.id, cause: signal.reason }));
    };
    signal.addEventListener("abort", abort, { once: true });
    const done = () => signal.removeEventListener("abort", abort);
    promise.then(done, done);
    return promise;
  }

  // A reliable send's waiter: its acknowledgement settles it in the core; a failure
  // (the client closed for good) is reported as an `error` event. An id the app chose is
  // routed to `n`.
  expectAck(id, n, frame) {
    if (id !== this.prefix + n) this.routes.set(id, n);
    return this.keep({ n, id, promise: undefined, resolve: () => {}, reject: (e) => this.emitError(e) }, frame);
  }

  // Request `request` failed (the core's deadline, refusal or close), or the reliable
  // send `request` will not be acknowledged.
  fail(request, code, message) {
    this.routes.delete(request.id);
    request.reject(makeError(code, message, { id: request.id }));
  }

  // ---- stats -----------------------------------------------------------------------

  stats(state, reconnects, rttMs, queueLength, pendingRequests, dropped) {
    return {
      state,
      messagesIn: this.framesIn,
      messagesOut: this.framesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      reconnects,
      rttMs: rttMs < 0 ? null : rttMs,
      queueLength,
      pendingRequests,
      dropped,
      duplicates: this.duplicates,
      gaps: this.gaps,
      malformed: this.malformed,
      oversized: this.oversized,
      listenerErrors: this.listenerErrors,
      bufferedAmount: this.ws?.bufferedAmount ?? 0,
      crossTab: this.tabs?.via,
      restored: this.box?.restored,
    };
  }
}
