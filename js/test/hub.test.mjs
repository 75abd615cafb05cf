// The JS unit tier: the hub (src/web/hub.js, the per-message half of every client) on
// its own, with a fake socket and a fake port in place of the wasm side. Run by
// `cargo xtask test` (`node --test js/test/`); no browser, no server, no wasm.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Hub } from "../../src/web/hub.js";
import { sioHeader } from "../../src/web/sio.js";
import { preconnect } from "../../src/web/early.js";

const root = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, root), "utf8");

/** A WebSocket as the hub uses it: readyState, send, close and the four handlers. */
class FakeSocket {
  constructor(url, protocols) {
    Object.assign(this, { url, protocols, readyState: 0, sent: [], protocol: "", bufferedAmount: 0 });
    FakeSocket.last = this;
  }
  send(frame) {
    // A real socket does not throw once open: it drops the frame when CLOSING.
    if (this.readyState === 1) this.sent.push(frame);
  }
  close(code, reason) {
    this.readyState = 2;
    this.closedWith = [code, reason];
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  message(data) {
    this.onmessage?.({ data });
  }
}
globalThis.WebSocket = FakeSocket;

/** What the hub tells the wasm side, recorded. `held` stands for the core's side of the
 * requests: which are pending, with their waiters (`hold` puts one there, as
 * `WsClient.request` does once the machine took the request). */
function fakePort() {
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  const held = new Map();
  const port = {
    calls,
    held,
    hold: (request) => (held.set(request.n, request), request.promise),
    settle: (n) => {
      calls.push(["settle", n]);
      const request = held.get(n);
      held.delete(n);
      return request;
    },
    pending: (n) => held.has(n),
  };
  for (const name of ["opened", "closed", "pong", "unauthorized", "disconnected", "timer", "online", "wake", "resolved"]) port[name] = record(name);
  return port;
}

/** An open typed-JSON hub with a recording of its events. */
function openHub(key = "type") {
  const port = fakePort();
  const hub = new Hub(false, key, "p-", port, []);
  hub.open("ws://test/ws", 1);
  FakeSocket.last.open();
  const events = [];
  for (const name of ["gap", "error"]) hub.on(name, (e) => events.push([name, e]), false);
  return { hub, port, socket: FakeSocket.last, events };
}

const push = (topic, seq, epoch, data = seq) => JSON.stringify({ type: "tick", topic, seq, epoch, data });

test("the recovery rule: in order, duplicates dropped, gaps reported from the last delivered", () => {
  const { hub, socket, events } = openHub();
  const got = [];
  hub.on("t", (data) => got.push(data), false);
  for (const seq of [1, 2, 3, 4, 5]) socket.message(push("t", seq, "e1"));
  // Issue 22, #8: a repeated live push is dropped, whatever the position at the last open.
  socket.message(push("t", 3, "e1", "again"));
  socket.message(push("t", 6, "e1"));
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.equal(hub.duplicates, 1);
  assert.deepEqual(events, []);
  // A jump, then a new epoch: each gap counts from the last delivered.
  socket.message(push("t", 9, "e1"));
  socket.message(push("t", 1, "e2"));
  assert.deepEqual(events.map(([, g]) => [g.topic, g.expected, g.got]), [["t", 7, 9], ["t", 10, 1]]);
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 9, 1]);
  assert.deepEqual(hub.positions(), [{ topic: "t", seq: 1, epoch: "e2" }]);
  // Topics are independent.
  socket.message(push("u", 10, "e1"));
  socket.message(push("u", 10, "e1"));
  assert.equal(hub.duplicates, 2);
});

test("subscribed: unrecovered is a gap now and starts from the server's position", () => {
  const { hub, socket, events } = openHub();
  socket.message(push("t", 5, "e1"));
  socket.message(push("k", 5, "e1"));
  const answer = { topics: ["t", "k", "fresh"], recovered: { t: false, k: true }, positions: { t: { seq: 50, epoch: "e1" }, k: { seq: 9, epoch: "e1" }, fresh: { seq: 30, epoch: "e9" } } };
  socket.message(JSON.stringify({ type: "subscribed", data: answer }));
  assert.deepEqual(events.map(([, g]) => [g.topic, g.expected, g.got]), [["t", 6, null]]);
  // k keeps its own position (the replay of 6..9 still counts); fresh starts from 30.
  const at = () => hub.positions().map((p) => [p.topic, p.seq, p.epoch]);
  assert.deepEqual(at(), [["k", 5, "e1"], ["t", 50, "e1"], ["fresh", 30, "e9"]]);
  hub.forget(["k", "fresh"]);
  assert.deepEqual(at(), [["t", 50, "e1"]]);
  assert.equal(hub.gaps, 1);
});

test("a socket that is not OPEN takes no write (issue 22, #1)", async () => {
  const { hub, socket } = openHub();
  // The core's byte says a send may go out now (`Machine::writable_at_poll`).
  const memory = { buffer: new ArrayBuffer(64) };
  hub.readWritable(memory, 40);
  assert.equal(hub.sendFast({ type: "a" }), undefined, "the core's byte is 0");
  new Uint8Array(memory.buffer)[40] = 1;
  assert.equal(hub.sendFast({ type: "a" }), "p-f1");
  // A grown wasm memory detaches the old buffer: the hub reads the new one.
  const grown = new ArrayBuffer(128);
  new Uint8Array(grown)[40] = 1;
  structuredClone(memory.buffer, { transfer: [memory.buffer] });
  memory.buffer = grown;
  assert.equal(hub.sendFast({ type: "a2" }), "p-f2");
  assert.equal(hub.writeTo(1, "x"), true);
  // The server's close frame arrived: CLOSING until the close event. The browser
  // changes readyState in a task of its own, so the fast path reads it once per task.
  await new Promise((done) => setTimeout(done, 0));
  socket.readyState = 2;
  assert.equal(hub.sendFast({ type: "b" }), undefined, "the core decides (it queues)");
  assert.equal(hub.writeTo(1, "y"), false);
  assert.equal(hub.writeTo(2, "z"), false, "a socket that is not the current one");
  assert.deepEqual(socket.sent, ['{"id":"p-f1","type":"a"}', '{"id":"p-f2","type":"a2"}', "x"]);
});

test("Socket.IO headers: the golden packets, namespaces in any script, malformed ones refused", () => {
  const describe = (frame) => {
    const h = sioHeader(frame);
    if (typeof h === "string") return h;
    if (h.eio !== 4) return ["open", "close", "ping", "pong", "message", "upgrade", "noop"][h.eio];
    const kind = ["connect", "disconnect", "event", "ack", "connect_error", `binary_event:${h.count}`, `binary_ack:${h.count}`][h.kind];
    return `${kind} ${h.nsp} ${h.ack < 0 ? "-" : h.ack}`;
  };
  const lines = read("tests/fixtures/socketio/packets.txt").split("\n").filter((l) => l && !l.startsWith("#"));
  for (const line of lines) {
    const [want, frame] = line.split("\t");
    assert.equal(describe(frame), want, frame);
  }
  assert.equal(lines.length, 20);
  // Issue 22, #2: offsets are the JS string's, so a namespace outside ASCII matches.
  for (const nsp of ["/événements", "/a\u00a0b", "/日本", "/😀"]) {
    assert.equal(describe(`42${nsp},7["x"]`), `event ${nsp} 7`);
    const frame = `40${nsp},{"sid":"s"}`;
    assert.equal(frame.slice(sioHeader(frame).start), '{"sid":"s"}');
  }
  const malformed = {
    "": "an empty frame", 7: "an unknown Engine.IO packet type", x: "an unknown Engine.IO packet type",
    0: "a payload of the wrong shape", "0[]": "a payload of the wrong shape", 4: "an unknown Socket.IO packet type",
    "49[]": "an unknown Socket.IO packet type", '42/admin["x"]': "a namespace without a comma",
    "43[]": "a payload of the wrong shape", '461-[{"_placeholder":true,"num":0}]': "a payload of the wrong shape",
    '42{"a":1}': "a payload of the wrong shape", 42: "a payload of the wrong shape", '44["x"]': "a payload of the wrong shape",
    "41/admin,[]": "a payload of the wrong shape", '45["x"]': "a bad attachment count", '451["x"]': "a bad attachment count",
    '4299999999999999999999["x"]': "an ack id too large", '429007199254740992["x"]': "an ack id too large",
  };
  for (const [frame, why] of Object.entries(malformed)) assert.equal(sioHeader(frame), why, frame);
  assert.equal(sioHeader('429007199254740991["x"]').ack, 9007199254740991);
});

// The Socket.IO decoder, loaded as a connect loads it: `resolve` waits for it before it
// answers the port.
async function loadCodec(hub) {
  const calls = hub.port.calls;
  hub.resolve(0);
  for (let i = 0; i < 100 && calls.length === 0; i++) await new Promise((done) => setTimeout(done, 5));
  assert.ok(hub.codec !== null, "resolve loaded sio.js");
  assert.deepEqual(calls.splice(0), [["resolved", 0, true, undefined, undefined]]);
}

test("a Socket.IO namespace outside ASCII connects and gets its events (issue 22, #2)", async () => {
  const port = fakePort();
  const hub = new Hub(false, "type", "p-", port, []);
  hub.useSocketIo("/événements");
  await loadCodec(hub);
  hub.open("ws://test/socket.io/?EIO=4&transport=websocket", 1);
  const socket = FakeSocket.last;
  socket.open();
  socket.message('0{"sid":"s","pingInterval":300,"pingTimeout":200,"maxPayload":1000}');
  assert.deepEqual(socket.sent, ["40/événements,"]);
  socket.message('40/événements,{"sid":"x"}');
  assert.deepEqual(port.calls, [["opened", 1, 500]]);
  const got = [];
  hub.on("message", (data) => got.push(data), false);
  socket.message('42/événements,["message","salut"]');
  socket.message('42/autre,["message","not ours"]');
  assert.deepEqual(got, ["salut"]);
});

// The fuzz corpus through the shipped inbound path: every golden frame, mutated, goes
// through the socket's `onmessage`; nothing throws, and the hub still delivers after.
test("mutated frames through onmessage never throw, and delivery goes on", async () => {
  const fixtures = ["push.json", "batch.json", "error.json", "pong.json", "subscribed.json", "ack.json", "event_reply.json"].map((f) => read(`tests/fixtures/${f}`).trim());
  const sio = read("tests/fixtures/socketio/packets.txt").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[1]);
  let seed = 4242;
  const rand = (n) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  const mutate = (text) => {
    const chars = [...text];
    for (let k = 1 + rand(4); k > 0; k--) {
      const i = rand(chars.length + 1);
      const op = rand(3);
      if (op === 0) chars.splice(i, 1);
      else if (op === 1) chars.splice(i, 0, String.fromCharCode(rand(0x3000)));
      else chars[i] = "{}[],:\"0-9/é\\"[rand(13)];
    }
    return chars.join("");
  };
  for (const [sioMode, corpus] of [[false, fixtures], [true, sio]]) {
    const port = fakePort();
    const hub = new Hub(false, "type", "p-", port, []);
    if (sioMode) {
      hub.useSocketIo("/admin");
      await loadCodec(hub);
    }
    hub.on("error", () => {}, false);
    hub.open("ws://test/ws", 1);
    const socket = FakeSocket.last;
    socket.open();
    for (let i = 0; i < 20000; i++) socket.message(mutate(corpus[rand(corpus.length)]));
    const got = [];
    hub.on("after", (data) => got.push(data), false);
    if (sioMode) {
      socket.message('40/admin,{"sid":"x"}');
      socket.message('42/admin,["after",1]');
    } else socket.message('{"type":"after","data":1}');
    assert.deepEqual(got, [1], sioMode ? "Socket.IO" : "typed JSON");
    assert.ok(hub.malformed > 1000, `malformed frames reported: ${hub.malformed}`);
  }
});

// The boundary, declared: every hub method the Rust driver imports (src/web/bindings.rs)
// exists, so a rename on one side fails here rather than at run time in a browser.
test("every hub method src/web/bindings.rs imports exists on the hub", () => {
  const bindings = read("src/web/bindings.rs");
  const hubBlock = bindings.slice(bindings.indexOf('module = "/src/web/hub.js"'), bindings.indexOf("\n}\n"));
  const declared = [...hubBlock.matchAll(/#\[wasm_bindgen\(([^\]]*)\)\]\s*(?:\/\/\/[^\n]*\n\s*|#\[[^\n]*\n\s*)*pub fn (\w+)\(\s*(?:this: &(\w+))?/g)];
  assert.ok(declared.length > 20, `found ${declared.length} imports`);
  for (const [, attrs, rustName, self] of declared) {
    const jsName = /js_name = (\w+)/.exec(attrs)?.[1] ?? rustName;
    const isMethod = /\bmethod\b/.test(attrs);
    if (/\bconstructor\b/.test(attrs)) continue;
    if (self === "Request") {
      // A request's waiter, as `track` and `expectAck` make it.
      const hub = new Hub(false, "type", "p-", fakePort(), []);
      for (const request of [hub.track(1, undefined), hub.expectAck("x", 2)]) assert.ok(jsName in request, `request ${jsName}`);
      continue;
    }
    if (/\bsetter\b/.test(attrs)) {
      const name = jsName.startsWith("set_") ? jsName.slice(4) : jsName;
      assert.ok(name in new Hub(false, "type", "p-", fakePort(), []), `hub property ${name}`);
    } else if (/\bgetter\b/.test(attrs)) {
      assert.ok(jsName in new Hub(false, "type", "p-", fakePort(), []), `hub getter ${jsName}`);
    } else if (isMethod) {
      assert.equal(typeof Hub.prototype[jsName], "function", `Hub.prototype.${jsName}`);
    }
  }
});

test("replyEvent: a reply without an id answers the oldest request waiting for its event (issue 22, #4)", async () => {
  const { hub, port, socket } = openHub("event");
  const heard = [];
  hub.on("get_unread_message", (data) => heard.push(data), false);
  const first = port.hold(hub.track(1, "get_unread_message"));
  const second = port.hold(hub.track(2, "get_unread_message"));
  const byId = port.hold(hub.track(3, undefined));
  socket.message(JSON.stringify({ event: "get_unread_message", data: { count: 3 } }));
  socket.message(JSON.stringify({ event: "other", id: "p-3", data: "by id" }));
  socket.message(JSON.stringify({ event: "get_unread_message", data: { count: 4 } }));
  assert.deepEqual((await first).data, { count: 3 });
  assert.deepEqual((await byId).data, "by id");
  assert.deepEqual((await second).data, { count: 4 });
  assert.deepEqual(port.calls.filter(([name]) => name === "settle"), [["settle", 1], ["settle", 3], ["settle", 2]]);
  // Nothing waits any more: the next one goes to the listeners.
  socket.message(JSON.stringify({ event: "get_unread_message", data: { count: 5 } }));
  assert.deepEqual(heard, [{ count: 5 }]);
  assert.equal(hub.awaiting.size, 0);
  // A request the core let go (timed out) answers nothing, and the next request for
  // the same event prunes it: the list holds only what waits.
  const late = hub.track(4, "slow");
  port.hold(late);
  port.held.delete(4);
  hub.fail(late, "REQUEST_TIMEOUT", "timed out");
  await assert.rejects(late.promise, { code: "REQUEST_TIMEOUT" });
  const later = port.hold(hub.track(5, "slow"));
  assert.deepEqual(hub.awaiting.get("slow"), [5]);
  socket.message(JSON.stringify({ event: "slow", data: "at last" }));
  assert.equal((await later).data, "at last");
  assert.equal(hub.awaiting.size, 0);
});

test("which requests are pending is the core's: a reply routes by id, the core decides", async () => {
  const { hub, port, socket } = openHub();
  const any = [];
  hub.on("*", (_data, msg) => any.push(msg.id), false);
  // An id the app chose for a reliable send routes to its n; the hub's own form parses.
  port.hold(hub.expectAck("order-17", 7));
  const asked = port.hold(hub.track(8, undefined));
  socket.message(JSON.stringify({ type: "ack", id: "order-17" }));
  socket.message(JSON.stringify({ type: "reply", id: "p-8", data: 1 }));
  assert.equal((await asked).data, 1);
  assert.equal(port.held.size, 0);
  assert.equal(hub.routes.size, 0);
  // Ids the core does not hold (an ack of a plain send, another form, the fast path's
  // `<prefix>f<n>`, a padded number) reach the listeners.
  for (const id of ["p-9", "p-08", "p-f1", "order-17", 3]) socket.message(JSON.stringify({ type: "ack", id }));
  assert.deepEqual(any, ["p-9", "p-08", "p-f1", "order-17", 3]);
  assert.deepEqual(port.calls.filter(([name]) => name === "settle").map(([, n]) => n), [7, 8, 9]);
});

// The golden frames of tests/fixtures/ (the server's tests decode them too), as the shipped
// inbound path reads them: the client's decoder is the hub.
test("the golden server frames, as the hub decodes and dispatches them", () => {
  const fixture = (name) => read(`tests/fixtures/${name}`).trim();
  const { hub, port, socket, events } = openHub();
  const got = [];
  hub.on("*", (data, msg) => got.push([msg.type, msg.topic, msg.seq, data]), false);
  socket.message(fixture("batch.json"));
  socket.message(fixture("push.json"));
  socket.message(fixture("ack.json"));
  socket.message(fixture("auth_ok.json"));
  socket.message(fixture("unsubscribed.json"));
  assert.deepEqual(got, [
    ["task_progress", "task:progress", 1, { percent: 1 }],
    ["task_progress", "task:progress", 2, { percent: 2 }],
    ["notice", undefined, undefined, "third"],
    ["task_progress", "task:progress", 7, { task: "export", percent: 40 }],
    ["ack", undefined, undefined, undefined],
    ["auth_ok", undefined, undefined, undefined],
    ["unsubscribed", undefined, undefined, { topics: ["user:42"] }],
  ]);
  // The batch's pushes are the topic's 1 and 2: the push of seq 7 reports 3..6 missed.
  assert.deepEqual(events.map(([n, g]) => [n, g.topic, g.expected, g.got]), [["gap", "task:progress", 3, 7]]);
  events.length = 0;
  socket.message(fixture("pong.json"));
  assert.deepEqual(port.calls.filter(([n]) => n === "pong"), [["pong", 1]]);
  socket.message(fixture("error.json"));
  assert.deepEqual(events.map(([n, e]) => [n, e.code, e.fromServer]), [["error", "UNKNOWN_MESSAGE_TYPE", true]]);
  // user:42 was not recovered but had no position: no gap; it starts from the server's.
  socket.message(fixture("subscribed.json"));
  assert.equal(events.length, 1);
  assert.deepEqual(hub.positions().map((p) => [p.topic, p.seq]), [["task:progress", 7], ["user:42", 0]]);
  const before = hub.malformed;
  socket.message(fixture("malformed.txt"));
  socket.message(fixture("legacy_heartbeat.txt"));
  assert.equal(hub.malformed, before + 2);
  const legacy = openHub("event");
  const frames = [];
  legacy.hub.on("*", (data, msg) => frames.push([msg.event, msg.message, msg.id, data]), false);
  legacy.socket.message(fixture("event_market_data.json"));
  legacy.socket.message(fixture("event_reply.json"));
  assert.deepEqual(frames, [
    ["market_data", "ok", undefined, { symbol: "BTC-USD", price: 64000.5 }],
    ["get_unread_message", "ok", "c-6", { count: 3 }],
  ]);
});

// One list of error codes: every code the Rust core, the hub and the entries raise is in
// the TypeScript union (`WsErrorCode`, src/web/ts.rs) and in the README's table, and
// those two name the same codes.
test("every error code raised is in the WsErrorCode union and the README, and they agree", () => {
  const raised = new Set();
  for (const [, code] of read("src/error.rs").matchAll(/=> "([A-Z_]+)"/g)) raised.add(code);
  for (const file of ["src/web/hub.js", "src/web/early.js", "src/web/outbox.js", "js/index.js", "js/compat.js"]) {
    for (const [, code] of read(file).matchAll(/(?:makeError|wsError)\(\s*"([A-Z_]+)"/g)) raised.add(code);
    for (const [, code] of read(file).matchAll(/\["([A-Z_]+)", `/g)) raised.add(code); // resolve()'s [code, why]
  }
  for (const [, code] of read("src/web/hub.js").matchAll(/: "([A-Z_]+)";/g)) raised.add(code); // serverError's default
  for (const [, code] of read("src/web/mod.rs").matchAll(/make_error\(\s*"([A-Z_]+)"/g)) raised.add(code);
  // The protocol's server error codes (src/protocol.rs), as the server sends them.
  for (const [, code] of read("src/protocol.rs").matchAll(/ErrorCode::\w+ => "([A-Z_]+)"/g)) raised.add(code);
  // The providers' failures, raised by code in `resolve`.
  for (const [, code] of read("src/web/hub.js").matchAll(/call\(\w+, "([A-Z_]+)"/g)) raised.add(code);
  const ts = read("src/web/ts.rs");
  const union = new Set([...ts.slice(ts.indexOf("export type WsErrorCode"), ts.indexOf(";", ts.indexOf("export type WsErrorCode"))).matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]));
  const readme = read("README.md");
  const table = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## Close codes"));
  const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Z_]+)`/g)].map((c) => c[1])));
  assert.ok(raised.size >= 29, `found ${raised.size} codes raised: ${[...raised]}`);
  for (const code of raised) assert.ok(union.has(code), `${code} is raised but not in WsErrorCode`);
  assert.deepEqual([...union].sort(), [...documented].sort(), "WsErrorCode and the README's table");
  // The Rust API's `ErrorCode` (src/web/rust.rs, `error_codes!`) names the same list.
  const rust = read("src/web/rust.rs");
  const block = rust.slice(rust.indexOf("error_codes! {"), rust.indexOf("\n}\n", rust.indexOf("error_codes! {")));
  const rustCodes = [...block.matchAll(/= "([A-Z_]+)",/g)].map((m) => m[1]);
  assert.deepEqual(rustCodes.sort(), [...union].sort(), "the Rust ErrorCode and WsErrorCode");
});

test("after dispose, what settles late (a token provider) reaches no port", async () => {
  const port = fakePort();
  let freed = 0;
  port.free = () => freed++;
  const hub = new Hub(false, "type", "p-", port, []);
  let give;
  hub.useToken(() => new Promise((r) => (give = r)));
  hub.resolve(1);
  await new Promise((done) => setTimeout(done, 0));
  hub.dispose();
  give("late token");
  await new Promise((done) => setTimeout(done, 0));
  assert.equal(freed, 1, "the port is freed once");
  assert.deepEqual(port.calls, [], "nothing reached it after dispose");
});

// Issue 24, item 5: a socket opened before its client (`preconnect`) is taken by the first
// client that opens the same URL and subprotocols, with what it received, in order.
// `preconnect` works in pages and workers only (they have a `location`).
const onPage = (body) => async () => {
  globalThis.location = new URL("http://page.test/app/");
  try {
    await body();
  } finally {
    delete globalThis.location;
  }
};

test("preconnect: outside a page (server-side rendering) it opens nothing", () => {
  const before = FakeSocket.last;
  assert.equal(preconnect("ws://early/ssr"), false);
  assert.equal(FakeSocket.last, before);
});

test("preconnect: the client takes the early socket with its frames, once", onPage(async () => {
  assert.equal(preconnect("ws://early/ws"), true);
  const early = FakeSocket.last;
  assert.equal(preconnect("ws://early/ws"), false, "one early socket per URL");
  early.open();
  early.message(JSON.stringify({ type: "hello", data: 1 }));
  early.message(JSON.stringify({ type: "hello", data: 2 }));
  const port = fakePort();
  const hub = new Hub(false, "type", "p-", port, []);
  const got = [];
  hub.on("hello", (data) => got.push(data), false);
  hub.open("ws://early/ws", 1);
  assert.equal(hub.socket, early, "no second socket");
  assert.deepEqual(port.calls, [], "nothing while the core's call runs");
  await Promise.resolve();
  assert.deepEqual(port.calls, [["opened", 1, undefined]]);
  assert.deepEqual(got, [1, 2]);
  early.message(JSON.stringify({ type: "hello", data: 3 }));
  assert.deepEqual(got, [1, 2, 3]);
  // Taken: the next client of that URL opens a socket of its own.
  const other = new Hub(false, "type", "p-", fakePort(), []);
  other.open("ws://early/ws", 1);
  assert.notEqual(other.socket, early);
}));

test("preconnect: other subprotocols, a closed early socket and bad input", onPage(() => {
  assert.equal(preconnect("/ws", { subprotocols: "v1" }), true);
  assert.equal(FakeSocket.last.url, "ws://page.test/ws", "a path is on the page's host");
  assert.equal(preconnect("http://early/sub", { subprotocols: "v2" }), true);
  const early = FakeSocket.last;
  assert.equal(early.url, "ws://early/sub");
  const hub = new Hub(false, "type", "p-", fakePort(), ["v3"]);
  hub.open("ws://early/sub", 1);
  assert.notEqual(hub.socket, early, "v3 is not what the early socket offered");
  const v2 = new Hub(false, "type", "p-", fakePort(), ["v2"]);
  v2.open("ws://early/sub", 1);
  assert.equal(v2.socket, early);
  // One the server closed before a client came is forgotten.
  assert.equal(preconnect("ws://early/gone"), true);
  const gone = FakeSocket.last;
  gone.onclose({ code: 1006 });
  const late = new Hub(false, "type", "p-", fakePort(), []);
  late.open("ws://early/gone", 1);
  assert.notEqual(late.socket, gone);
  assert.throws(() => preconnect("ftp://x"), { code: "INVALID_ARGUMENT" });
  assert.throws(() => preconnect("ws://x", { protocols: [] }), { code: "INVALID_OPTION", field: "protocols" });
  assert.throws(() => preconnect("ws://x", { subprotocols: 1 }), { code: "INVALID_OPTION", field: "subprotocols" });
}));

test("preconnect: an early socket that receives too much before its client is closed", onPage(() => {
  assert.equal(preconnect("ws://early/flood"), true);
  const early = FakeSocket.last;
  early.open();
  for (let i = 0; i <= 1000; i++) early.message("x");
  assert.deepEqual(early.closedWith?.[0], 1000);
  const hub = new Hub(false, "type", "p-", fakePort(), []);
  hub.open("ws://early/flood", 1);
  assert.notEqual(hub.socket, early);
}));
