// The JS unit tier for `crossTab`'s mux (src/web/tabs.js): the one real socket of many
// tabs' clients, with a fake WebSocket and ports that record what reaches each tab. The
// browser test (e2e/tabs.mjs) runs the whole path in Chromium; these pin the routing
// rules one by one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Mux } from "../../src/web/tabs.js";

class FakeSocket {
  constructor(url, protocols) {
    Object.assign(this, { url, protocols, readyState: 0, sent: [], protocol: "" });
    FakeSocket.made.push(this);
  }
  send(frame) {
    this.sent.push(frame);
  }
  close(code, reason) {
    this.readyState = 3;
    this.closedWith = [code, reason];
  }
}
FakeSocket.made = [];
globalThis.WebSocket = FakeSocket;

const A = "aaaaaaaaaa-";
const B = "bbbbbbbbbb-";

/** A mux with tabs `a` and `b` joined and the socket open; `got.a`/`got.b` record what each tab was told. */
function twoTabs() {
  const mux = new Mux({ url: "ws://h/ws", protocols: [], ekey: "type", raw: false });
  const got = { a: [], b: [] };
  mux.join({ id: "a", prefix: A }, (m) => got.a.push(m));
  mux.join({ id: "b", prefix: B }, (m) => got.b.push(m));
  const ws = mux.ws;
  ws.readyState = 1;
  ws.onopen();
  got.a.length = got.b.length = 0;
  const texts = (tab) => got[tab].filter((m) => m.t === "msg").map((m) => JSON.parse(m.d));
  const server = (msg) => ws.onmessage({ data: JSON.stringify(msg) });
  const subscribe = (tab, prefix, n, topics) => {
    mux.send({ id: tab, k: 2, d: JSON.stringify({ type: "subscribe", id: `${prefix}${n}`, data: { topics } }) });
    server({ type: "subscribed", id: `${prefix}${n}`, data: { topics } });
  };
  return { mux, ws, got, texts, server, subscribe };
}

test("one socket for every tab: opened on the first join, open told to each", () => {
  FakeSocket.made = [];
  const mux = new Mux({ url: "ws://h/ws", protocols: ["p"], ekey: "type", raw: false });
  const got = [];
  mux.join({ id: "a", prefix: A }, (m) => got.push(["a", m.t]));
  mux.join({ id: "b", prefix: B }, (m) => got.push(["b", m.t]));
  assert.equal(FakeSocket.made.length, 1);
  mux.ws.readyState = 1;
  mux.ws.onopen();
  mux.join({ id: "c", prefix: "cccccccccc-" }, (m) => got.push(["c", m.t]));
  assert.deepEqual(got, [["a", "joined"], ["b", "joined"], ["a", "open"], ["b", "open"], ["c", "open"]]);
});

test("a reply goes to the tab whose prefix its id carries, or that gave the id", () => {
  const { mux, ws, texts, server } = twoTabs();
  server({ type: "echo", id: `${B}4`, data: 1 });
  mux.send({ id: "a", k: 0, d: '{"type":"x","id":"mine"}', i: "mine" });
  assert.equal(ws.sent.at(-1), '{"type":"x","id":"mine"}');
  server({ type: "ack", id: "mine" });
  assert.deepEqual(texts("a").map((m) => m.id), ["mine"]);
  assert.deepEqual(texts("b").map((m) => m.id), [`${B}4`]);
});

test("a push reaches the tabs subscribed to its topic, from their own subscribed answer on", () => {
  const { texts, server, subscribe } = twoTabs();
  server({ type: "tick", topic: "t", seq: 1, epoch: "e" });
  subscribe("a", A, 1, ["t"]);
  server({ type: "tick", topic: "t", seq: 2, epoch: "e" });
  subscribe("b", B, 1, ["t"]);
  server({ type: "tick", topic: "t", seq: 3, epoch: "e" });
  server({ type: "notice", data: "all" });
  const seqs = (tab) => texts(tab).map((m) => m.seq ?? m.type);
  assert.deepEqual(seqs("a"), ["subscribed", 2, 3, "notice"]);
  assert.deepEqual(seqs("b"), ["subscribed", 3, "notice"]);
});

test("unsubscribe reaches the server only for topics no other tab holds or is subscribing to", () => {
  const { mux, ws, subscribe } = twoTabs();
  subscribe("a", A, 1, ["t", "u"]);
  subscribe("b", B, 1, ["t"]);
  mux.send({ id: "b", k: 2, d: JSON.stringify({ type: "subscribe", id: `${B}2`, data: { topics: ["v"] } }) });
  const before = ws.sent.length;
  mux.send({ id: "a", k: 3, d: JSON.stringify({ type: "unsubscribe", id: `${A}2`, data: { topics: ["t", "u"] } }) });
  assert.deepEqual(JSON.parse(ws.sent.at(-1)).data.topics, ["u"]);
  mux.send({ id: "a", k: 3, d: JSON.stringify({ type: "unsubscribe", id: `${A}3`, data: { topics: ["v"] } }) });
  assert.equal(ws.sent.length, before + 1, "v is still being subscribed by b");
});

test("one heartbeat: the first tab's pings go out, another's are answered by the mux", () => {
  const { mux, ws, got } = twoTabs();
  mux.send({ id: "a", k: 1, d: `{"type":"ping","id":"${A}1"}` });
  mux.send({ id: "b", k: 1, d: `{"type":"ping","id":"${B}1"}` });
  assert.deepEqual(ws.sent, [`{"type":"ping","id":"${A}1"}`]);
  assert.deepEqual(got.b.map((m) => m.t), ["pong"]);
  // The first tab leaves: the next one's pings are the heartbeat now.
  mux.leave("a");
  mux.send({ id: "b", k: 1, d: `{"type":"ping","id":"${B}2"}` });
  assert.equal(ws.sent.at(-1), `{"type":"ping","id":"${B}2"}`);
});

test("a tab that goes: its topics no other tab holds are unsubscribed, and the answer reaches nobody", () => {
  const { mux, ws, got, subscribe, server } = twoTabs();
  subscribe("a", A, 1, ["t", "mine"]);
  subscribe("b", B, 1, ["t"]);
  mux.leave("a");
  const unsub = JSON.parse(ws.sent.at(-1));
  assert.equal(unsub.type, "unsubscribe");
  assert.deepEqual(unsub.data.topics, ["mine"]);
  const n = got.b.length;
  server({ type: "unsubscribed", id: unsub.id, data: { topics: ["mine"] } });
  server({ type: "echo", id: `${A}9` });
  assert.equal(got.b.length, n);
  mux.leave("b");
  assert.deepEqual(ws.closedWith, [1000, "no tab uses the connection"]);
});

test("the first tab's core giving the socket up closes it for every tab; another tab's close only leaves", () => {
  let t = twoTabs();
  t.mux.closed({ id: "b", code: 4000, reason: "heartbeat timeout" });
  assert.equal(t.ws.closedWith, undefined);
  assert.equal(t.mux.ports.size, 1);
  t = twoTabs();
  t.mux.closed({ id: "a", code: 4000, reason: "heartbeat timeout" });
  assert.deepEqual(t.ws.closedWith, [4000, "heartbeat timeout"]);
  assert.deepEqual([t.got.a.at(-1), t.got.b.at(-1)].map((m) => [m.t, m.code]), [["close", 4000], ["close", 4000]]);
  assert.equal(t.mux.ws, null);
});

test("a leader going away closes with 1000 on the wire and tells the tabs 1001, moved: reconnect at once", () => {
  const { mux, ws, got } = twoTabs();
  mux.close(1001, "the tab holding the connection went away");
  assert.equal(ws.closedWith[0], 1000);
  assert.deepEqual([got.a.at(-1).code, got.a.at(-1).moved], [1001, true]);
  // The server closing the socket is not a move: the tabs' backoff applies.
  const t = twoTabs();
  t.ws.onclose({ code: 1001, reason: "restart", wasClean: true });
  assert.deepEqual([t.got.b.at(-1).code, t.got.b.at(-1).moved], [1001, undefined]);
});

test("a batch is split: each tab gets the entries it would get one by one", () => {
  const { texts, server, subscribe } = twoTabs();
  subscribe("a", A, 1, ["t"]);
  server({ type: "batch", messages: [{ type: "tick", topic: "t", seq: 1, epoch: "e" }, { type: "notice" }, { type: "tick", topic: "x", seq: 1, epoch: "e" }] });
  const last = (tab) => texts(tab).at(-1).messages.map((m) => m.topic ?? m.type);
  assert.deepEqual(last("a"), ["t", "notice"]);
  assert.deepEqual(last("b"), ["notice"]);
});
