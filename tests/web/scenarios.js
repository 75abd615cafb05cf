// Browser scenarios for tests/web.rs. Each one drives the real JS API of WsClient
// against the companion server and throws on the first broken expectation.
// `make(url, options)` constructs a WsClient; `server` is "host:port".

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
  throw new Error(message);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

function ok(condition, what) {
  if (!condition) fail(what);
}

/** What `f()` threw, or undefined when it returned. */
function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Waits until `condition()` is truthy; bounded, polls every 5 ms. */
async function until(condition, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = condition();
    if (value) return value;
    await sleep(5);
  }
  fail(`timed out after ${ms} ms waiting for ${what}`);
}

/** A client plus a record of everything it emitted. */
class Probe {
  constructor(make, url, options) {
    this.client = make(url, options);
    this.log = [];
    this.errors = [];
    this.states = [];
    this.closes = [];
    this.reconnecting = [];
    this.opens = 0;
    this.client.on("open", () => this.opens++);
    this.client.on("error", (e) => this.errors.push(e));
    this.client.on("state", (s) => this.states.push(s.to));
    this.client.on("close", (c) => this.closes.push(c));
    this.client.on("reconnecting", (r) => this.reconnecting.push(r));
  }
  record(event) {
    const got = [];
    this.client.on(event, (data, msg) => got.push({ data, msg }));
    return got;
  }
  errorCodes() {
    return this.errors.map((e) => e.code);
  }
  async opened(n = 1, what = "open") {
    await until(() => this.opens >= n, `${what} #${n}`);
  }
  dispose() {
    try {
      this.client.close();
    } catch {}
    this.client.free();
  }
}

let counter = 0;
function cid(name) {
  counter += 1;
  return `${name}-${Date.now() % 100000}-${counter}`;
}

// The test servers' `/publish` credential (`cargo xtask test` starts them with it; a test
// value, not a secret).
const PUBLISH_TOKEN = "test-publish-token";

async function post(server, path, body) {
  const headers = path === "/publish"
    ? { "Content-Type": "application/json", Authorization: `Bearer ${PUBLISH_TOKEN}` }
    : { "Content-Type": "text/plain" };
  // The browser can see `open` a moment before the server's connection task has
  // registered the cid: a command for a cid retries (bounded) until it reaches one.
  const targeted = path.startsWith("/control/") && path.includes("cid=");
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`http://${server}${path}`, { method: "POST", body, headers });
    if (!response.ok) fail(`POST ${path}: HTTP ${response.status} ${await response.text()}`);
    const result = await response.json();
    if (!targeted || result.connections > 0 || attempt >= 100) return result;
    await sleep(20);
  }
}

const publish = (server, topic, event, data) =>
  post(server, "/publish", JSON.stringify({ topic, event, data }));

/** Opens a probe on /ws (or `path`) with a fresh cid; returns [probe, cid]. */
async function open(make, server, options = {}, path = "/ws", query = "") {
  const id = cid(path.slice(1));
  const probe = new Probe(make, `ws://${server}${path}?cid=${id}${query}`, { minDelayMs: 20, maxDelayMs: 200, ...options });
  probe.client.connect();
  await probe.opened();
  return [probe, id];
}

/** Subscribes and waits for the server's `subscribed` of those topics, so pushes
 * cannot race it. */
async function subscribed(probe, topics) {
  const wanted = [topics].flat();
  const acks = probe.record("subscribed");
  probe.client.subscribe(topics);
  await until(() => acks.some((a) => wanted.every((t) => a.data.topics.includes(t))), `subscribed ${topics}`);
}

const scenarios = {
  async dispatchByTypeEventAndTopic(make, server) {
    const [p] = await open(make, server);
    const order = [];
    p.client.on("task_progress", (data) => order.push(["type", data.percent]));
    p.client.on("task:progress", (data, msg) => order.push(["topic", msg.topic]));
    p.client.on("*", (data, msg) => order.push(["*", msg.type]));
    await subscribed(p, "task:progress");
    await publish(server, "task:progress", "task_progress", { percent: 40 });
    await until(() => order.length >= 3, "three dispatches");
    eq(order.filter((o) => o[0] !== "*" || o[1] === "task_progress"), [["type", 40], ["topic", "task:progress"], ["*", "task_progress"]], "dispatch order");
    // A topic listener added after frames of that topic arrived still gets the next one.
    const late = p.record("task:progress");
    await publish(server, "task:progress", "task_progress", { percent: 41 });
    await until(() => late.length === 1, "late topic listener");
    const offLate = p.client.on("task:progress", () => fail("removed listener called"));
    offLate();
    await publish(server, "task:progress", "task_progress", { percent: 42 });
    await until(() => late.length === 2, "after removing a topic listener");
    p.dispose();
  },

  async dispatchByEventKeyOnLegacyBackend(make, server) {
    const [p] = await open(make, server, { eventKey: "event", heartbeatMessage: "PONG" }, "/legacy");
    const unread = p.record("get_unread_message");
    const ticks = p.record("market_data");
    p.client.send({ event: "get_unread_message" });
    p.client.send({ event: "market_subscribe", data: { symbols: ["BTC-USD"] } });
    await until(() => unread.length === 1 && ticks.length >= 2, "reply and two ticks");
    eq(unread[0].data, { count: 3 }, "reply data");
    eq(unread[0].msg.message, "ok", "legacy message field");
    eq(ticks[0].data.symbol, "BTC-USD", "ticker symbol");
    p.dispose();
  },

  async batchIsUnpackedInOrder(make, server) {
    const [p, id] = await open(make, server, {}, "/ws", "&batch=1");
    const got = p.record("n");
    await subscribed(p, "batch-topic");
    for (let i = 1; i <= 25; i++) await publish(server, "batch-topic", "n", i);
    await until(() => got.length === 25, "25 pushes");
    eq(got.map((g) => g.data), Array.from({ length: 25 }, (_, i) => i + 1), "batched order");
    const hand = p.record("hand");
    await post(server, `/control/send?cid=${id}`, JSON.stringify({ type: "batch", messages: [{ type: "hand", data: 1 }, 7, { type: "hand", data: 2 }] }));
    await until(() => hand.length === 2, "hand-made batch");
    eq(hand.map((h) => h.data), [1, 2], "hand-made batch order");
    ok(p.errorCodes().includes("MALFORMED_FRAME"), "a non-object batch entry is reported");
    p.dispose();
  },

  async sendAndRequestReply(make, server) {
    const [p] = await open(make, server);
    const acks = p.record("ack");
    const id = p.client.send({ type: "custom_action", data: {} });
    // The package's fast path numbers its own sends `f<n>`, apart from the core's.
    ok(/^[0-9a-z]{10}-f?\d+$/.test(id), `send returns an id: 10 random base-36 characters, a dash, a counter (${id})`);
    await until(() => acks.length === 1, "ack");
    eq(acks[0].msg.id, id, "ack carries the send id");
    eq(p.client.send({ type: "custom_action", id: "mine" }), "mine", "an explicit id is kept");
    const echo = await p.client.request("echo", { x: 1 });
    eq(echo.data, { x: 1 }, "echo reply");
    const unread = await p.client.request("get_unread_message", {}, { timeoutMs: 3000 });
    eq(unread.data, { count: 3 }, "unread reply");
    try {
      await p.client.request("frobnicate", {});
      fail("an error reply must reject");
    } catch (e) {
      eq([e.code, e.fromServer], ["UNKNOWN_MESSAGE_TYPE", true], "error reply rejects with the server code");
    }
    eq(p.client.stats().pendingRequests, 0, "no request left pending");
    // A large message sits in the browser's buffer until it is on the network.
    const big = p.client.request("echo", { s: "x".repeat(60000) });
    const buffered = p.client.stats().bufferedAmount;
    ok(buffered > 60000, `bufferedAmount right after a 60 KB send: ${buffered}`);
    eq((await big).data.s.length, 60000, "the large echo");
    await until(() => p.client.stats().bufferedAmount === 0, "the buffer drained");
    p.dispose();
  },

  async requestTimesOut(make, server) {
    const [p, id] = await open(make, server, { heartbeatIntervalMs: 0 });
    await post(server, `/control/stall?cid=${id}`);
    const started = Date.now();
    try {
      await p.client.request("echo", {}, { timeoutMs: 150 });
      fail("a stalled server must time the request out");
    } catch (e) {
      eq(e.code, "REQUEST_TIMEOUT", "timeout code");
    }
    ok(Date.now() - started >= 140, "not before its deadline");
    p.dispose();
  },

  async freeingTheClientRejectsItsPendingRequests(make, server) {
    const [p, id] = await open(make, server, { heartbeatIntervalMs: 0 });
    await post(server, `/control/stall?cid=${id}`);
    const pending = p.client.request("echo", {}, { timeoutMs: 60000 });
    const outcome = pending.then(
      () => "resolved",
      (e) => e,
    );
    eq(p.client.stats().pendingRequests, 1, "the request is pending");
    p.client.free();
    const e = await Promise.race([outcome, sleep(2000).then(() => "still pending")]);
    ok(e instanceof Error, `a freed client's request must reject, got ${e}`);
    eq(e.code, "REQUEST_ABORTED", "the code says why");
    ok(/freed/.test(e.message), `the message says why: ${e.message}`);
  },

  async freeingTheClientInAListenerStopsThatFrame(make, server) {
    // A listener frees the client while a frame is being dispatched: the frame's other
    // listeners (the same event's, the topic's, "*") must not hear of it.
    const [p] = await open(make, server, { heartbeatIntervalMs: 0 });
    const heard = [];
    p.client.on("echo", () => {
      heard.push("first");
      p.client.free();
    });
    p.client.on("echo", () => heard.push("second"));
    p.client.on("*", () => heard.push("any"));
    p.client.send({ type: "echo", data: 1 });
    await until(() => heard.length > 0, "the echo");
    await sleep(100);
    eq(heard, ["first"], "only the listener that freed the client ran");
  },

  async reconnectAfterAbruptDrop(make, server) {
    const [p, id] = await open(make, server);
    eq((await post(server, `/control/drop?cid=${id}`)).connections, 1, "dropped one");
    await p.opened(2, "reopen after drop");
    eq(p.closes[0].code, 1006, "abrupt drop is 1006");
    eq(p.closes[0].wasClean, false, "not clean");
    eq(p.reconnecting[0].attempt, 1, "first attempt");
    eq(p.states, ["connecting", "open", "reconnecting", "connecting", "open"], "states");
    eq(p.client.stats().reconnects, 1, "stats count the reconnect");
    p.dispose();
  },

  async reconnectAfterGoingAway1001(make, server) {
    const [p, id] = await open(make, server);
    await post(server, `/control/close?cid=${id}&code=1001&reason=deploy`);
    await p.opened(2, "reopen after 1001");
    eq([p.closes[0].code, p.closes[0].reason], [1001, "deploy"], "close event");
    p.dispose();
  },

  async reconnectAfterServiceRestart1012(make, server) {
    const [p, id] = await open(make, server);
    await post(server, `/control/close?cid=${id}&code=1012`);
    await p.opened(2, "reopen after 1012");
    eq(p.closes[0].code, 1012, "close code");
    p.dispose();
  },

  async noReconnectAfterUserClose(make, server) {
    const [p, id] = await open(make, server);
    p.client.close(1000, "done");
    await until(() => p.client.state === "closed", "closed");
    await sleep(300);
    eq(p.opens, 1, "no reopen");
    eq((await fetch(`http://${server}/control/connections?cid=${id}`).then((r) => r.json())).connections, 0, "server sees no connection");
    eq(p.reconnecting.length, 0, "no reconnecting event");
    p.dispose();
  },

  async noReconnectAfterServerClose1000(make, server) {
    const [p, id] = await open(make, server);
    await post(server, `/control/close?cid=${id}&code=1000`);
    await until(() => p.client.state === "closed", "closed");
    await sleep(300);
    eq(p.opens, 1, "no reopen");
    ok(p.errorCodes().includes("CLOSED_BY_SERVER"), "reported");
    p.dispose();
  },

  async sendsWhileDisconnectedArriveOnceInOrder(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 250, maxDelayMs: 250 });
    const topic = `own:${id}`;
    const got = p.record(topic);
    await subscribed(p, topic);
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state === "reconnecting", "reconnecting");
    for (let i = 0; i < 5; i++) p.client.send({ type: "publish", topic, data: i });
    eq(p.client.stats().queueLength, 5, "queued while down");
    await p.opened(2);
    await until(() => got.length >= 5, "five echoes");
    await sleep(100);
    eq(got.map((g) => g.data), [0, 1, 2, 3, 4], "once each, in order");
    eq(p.client.stats().queueLength, 0, "queue drained");
    p.dispose();
  },

  // Issue 22, #1: from the server's close frame to the close event the socket is CLOSING
  // and the browser drops what is sent. Those sends are queued for the next open: sent
  // every 5 ms across a close that lingers 1.5 s (a draining load balancer) and a fast
  // one, every message arrives once, in order.
  async sendsWhileTheServerClosesAreQueuedNotLost(make, server) {
    for (const linger of [1500, 0]) {
      const [p, id] = await open(make, server, { minDelayMs: 50, maxDelayMs: 50 });
      const topic = `own:${id}`;
      const got = p.record(topic);
      await subscribed(p, topic);
      const total = 400;
      let closing;
      for (let i = 0; i < total; i++) {
        p.client.send({ type: "publish", topic, data: i });
        if (i === 40) closing = post(server, `/control/close?cid=${id}&code=1001&linger_ms=${linger}`);
        await sleep(5);
      }
      await closing;
      await until(() => got.length >= total, `${total} echoes (close lingering ${linger} ms), got ${got.length}`, 10000);
      await sleep(200);
      const data = got.map((g) => g.data);
      eq(data.length, total, `nothing twice (linger ${linger} ms)`);
      ok(data.every((d, i) => d === i), `in order (linger ${linger} ms): ${JSON.stringify(data.filter((d, i) => d !== i).slice(0, 5))}`);
      ok(p.opens >= 2, "the client reconnected");
      p.dispose();
    }
  },

  // Issue 22, #8: a push the client already has (a server resending, as DESIGN §3 allows)
  // is dropped, whatever position the client held at its last open, and a push in a new
  // epoch reports the gap from the position delivered last.
  async aRepeatedLivePushIsDroppedAndGapsCountFromTheLastDelivered(make, server) {
    const [p, id] = await open(make, server);
    const topic = `repeat:${id}`;
    const got = p.record(topic);
    const gaps = p.record("gap");
    await subscribed(p, topic);
    for (let i = 1; i <= 5; i++) await publish(server, topic, topic, i);
    await until(() => got.length === 5, "five pushes");
    const { seq, epoch } = got[4].msg;
    const push = (s, e, data) => post(server, `/control/send?cid=${id}`, JSON.stringify({ type: topic, topic, seq: s, epoch: e, data }));
    await push(seq - 2, epoch, "again");
    await publish(server, topic, topic, 6);
    await until(() => got.length >= 6, "the next push");
    await sleep(100);
    eq(got.map((g) => g.data), [1, 2, 3, 4, 5, 6], "the repeated push is dropped");
    eq(gaps.length, 0, "and no gap is reported");
    eq(p.client.stats().duplicates, 1, "one duplicate counted");
    await push(1, `${epoch}-new`, "new epoch");
    await until(() => gaps.length === 1, "a gap for the new epoch");
    eq([gaps[0].data.expected, gaps[0].data.got], [seq + 2, 1], "counted from the last delivered");
    p.dispose();
  },

  async topicsAreResubscribedAfterReconnect(make, server) {
    const [p, id] = await open(make, server, { topics: ["initial-topic"] });
    const acks = p.record("subscribed");
    await subscribed(p, "later-topic");
    const initial = p.record("initial-topic");
    const later = p.record("later-topic");
    const acksBefore = acks.length;
    await post(server, `/control/drop?cid=${id}`);
    await p.opened(2);
    await until(() => acks.length > acksBefore, "resubscribe ack");
    eq(acks[acks.length - 1].data.topics, ["initial-topic", "later-topic"], "one resubscribe with every topic");
    await publish(server, "initial-topic", "x", 1);
    await publish(server, "later-topic", "y", 2);
    await until(() => initial.length === 1 && later.length === 1, "pushes after reconnect");
    p.dispose();
  },

  async malformedFrameAndThrowingListenerDoNotStopDelivery(make, server) {
    const [p, id] = await open(make, server);
    const seen = [];
    p.client.on("tick", () => {
      throw new Error("listener bug");
    });
    p.client.on("tick", (data) => seen.push(data));
    await subscribed(p, "ticks");
    await post(server, `/control/malformed?cid=${id}`);
    await post(server, `/control/send?cid=${id}`, "[1,2,3]");
    await post(server, `/control/send?cid=${id}`, JSON.stringify({ data: "no type" }));
    await publish(server, "ticks", "tick", 1);
    await publish(server, "ticks", "tick", 2);
    await until(() => seen.length === 2, "both ticks");
    eq(seen, [1, 2], "delivery continued");
    const codes = p.errorCodes();
    eq(codes.filter((c) => c === "MALFORMED_FRAME").length, 3, "three malformed frames reported");
    eq(codes.filter((c) => c === "LISTENER_ERROR").length, 2, "each throw reported");
    eq(p.client.stats().malformed, 3, "malformed counter");
    eq(p.client.state, "open", "still open");
    p.dispose();
  },

  // A frame over `maxMessageBytes` (its UTF-8 bytes, not its characters) is skipped
  // unparsed and reported; the frames around it are delivered and the client stays open.
  async framesOverMaxMessageBytesAreSkippedAndReported(make, server) {
    const [p, id] = await open(make, server, { maxMessageBytes: 100 });
    const got = p.record("big");
    const echo = p.record("echo");
    // `{"type":"big","data":""}` is 24 bytes: each pair is exactly at the limit, then over.
    const texts = ["a".repeat(76), "a".repeat(77), "é".repeat(38), "é".repeat(39), "😀".repeat(19), "😀".repeat(20)];
    for (const text of texts) await post(server, `/control/send?cid=${id}`, JSON.stringify({ type: "big", data: text }));
    await post(server, `/control/send?cid=${id}&binary=1`, "x".repeat(101));
    p.client.send({ type: "echo" });
    await until(() => echo.length === 1, "the echo after the frames");
    eq(got.map((g) => g.data), [texts[0], texts[2], texts[4]], "the frames at the limit, in order");
    const tooLarge = p.errors.filter((e) => e.code === "FRAME_TOO_LARGE");
    eq(tooLarge.map((e) => e.size), [101, 102, 104, 101], "each frame over it reported with its bytes");
    ok(tooLarge[1].frame.startsWith('{"type":"big","data":"éé'), `the frame's start: ${tooLarge[1].frame}`);
    ok(tooLarge[0].message.includes("maxMessageBytes (100)"), `the message names the option: ${tooLarge[0].message}`);
    eq(p.errorCodes().length, 4, "nothing else reported");
    eq([p.client.stats().oversized, p.client.stats().malformed], [4, 0], "counted as oversized, not malformed");
    eq(p.client.state, "open", "still open");
    p.dispose();
  },

  async binaryWhereTextWasExpectedIsReported(make, server) {
    const [p, id] = await open(make, server);
    const echo = p.record("echo");
    await post(server, `/control/send?cid=${id}&binary=1`, "bytes");
    p.client.send({ type: "echo" });
    await until(() => echo.length === 1, "delivery after a binary frame");
    const bad = p.errors.find((e) => e.code === "MALFORMED_FRAME");
    ok(bad && bad.message.includes("binary"), "binary frame reported");
    p.dispose();
  },

  async rawProtocolDeliversFramesAsTheyAre(make, server) {
    const [raw, id] = await open(make, server, { protocol: "raw" });
    const got = raw.record("message");
    const all = raw.record("*");
    await post(server, `/control/send?cid=${id}`, "plain text");
    await post(server, `/control/send?cid=${id}&binary=1`, "abc");
    await until(() => got.length === 2 && all.length === 2, "two raw frames");
    eq(got[0].data, "plain text", "text as is");
    ok(got[1].data instanceof ArrayBuffer, "binary as an ArrayBuffer");
    eq(Array.from(new Uint8Array(got[1].data)), [97, 98, 99], "bytes");
    eq(raw.client.send(new Uint8Array([1, 2])), undefined, "binary send has no id");
    eq(raw.errors.length, 0, "no errors in raw mode");
    raw.dispose();
  },

  async optionsAreValidatedWithTheFieldNamed(make, server) {
    const url = `ws://${server}/ws`;
    const codeOf = (options, u = url) => {
      const e = thrown(() => make(u, options));
      return e ? [e.code, e.field ?? null] : null;
    };
    eq(codeOf({ maxDelayMs: "soon" }), ["INVALID_OPTION", "maxDelayMs"], "wrong type");
    eq(codeOf({ minDelayMs: -1 }), ["INVALID_OPTION", "minDelayMs"], "out of range");
    eq(codeOf({ maxDelay: 5 }), ["INVALID_OPTION", "maxDelay"], "unknown option");
    eq(codeOf({ queueOverflow: "drop-all" }), ["INVALID_OPTION", "queueOverflow"], "bad enum");
    eq(codeOf({ topics: ["ok", 3] }), ["INVALID_OPTION", "topics"], "bad topics");
    eq(codeOf("nope"), ["INVALID_OPTION", "options"], "not an object");
    eq(codeOf({}, "ftp://example.invalid/"), ["INVALID_URL", null], "bad url");
    ok(codeOf(undefined) === null, "no options is fine");
    eq(codeOf({ queueMax: NaN }), ["INVALID_OPTION", "queueMax"], "NaN is not a count");
    eq(codeOf({ maxAttempts: NaN }), ["INVALID_OPTION", "maxAttempts"], "NaN is not a count of attempts");
    eq(codeOf({ queueMax: 1.5 }), ["INVALID_OPTION", "queueMax"], "a count is whole");
    ok(codeOf({ maxAttempts: null, queueMax: 0 }) === null, "null attempts (unlimited) and an empty queue are fine");
    ok(codeOf({ maxAttempts: Infinity }) === null, "Infinity attempts is unlimited");
    eq(codeOf({ maxMessageBytes: 0 }), ["INVALID_OPTION", "maxMessageBytes"], "a frame limit of 0");
    eq(codeOf({ maxMessageBytes: "1mb" }), ["INVALID_OPTION", "maxMessageBytes"], "a frame limit that is no number");
    eq(codeOf({ maxMessageBytes: 1.5 }), ["INVALID_OPTION", "maxMessageBytes"], "a frame limit is whole");
    eq(codeOf({ crossTab: "yes" }), ["INVALID_OPTION", "crossTab"], "crossTab is a boolean");
    eq(codeOf({ crossTab: true, protocol: "socketio" }), ["INVALID_OPTION", "crossTab"], "crossTab is not for Socket.IO");
    eq(codeOf({ outbox: "disk" }), ["INVALID_OPTION", "outbox"], "outbox is memory or indexeddb");
    eq(codeOf({ crossTab: false, outbox: "memory" }), null, "crossTab and outbox at their defaults");
    ok(codeOf({ maxMessageBytes: null }) === null && codeOf({ maxMessageBytes: Infinity }) === null,
      "null or Infinity: no frame limit");
    const messageOf = (options) => {
      try {
        make(url, options);
      } catch (e) {
        return e.message;
      }
      return null;
    };
    eq(messageOf({ queueOverflow: "drop-all" }),
      'invalid option `queueOverflow`: expected "reject", "drop-oldest" or "drop-newest"', "the message lists the choices");
    eq(messageOf({ maxAttempts: -1 }),
      "invalid option `maxAttempts`: expected a whole number from 0 to 4294967295", "the message gives the range");
    eq(messageOf({ protocol: 1 }), "invalid option `protocol`: expected a string", "a choice must be a string");
  },

  async subprotocolsAreOfferedAtEveryConnect(make, server) {
    // The server picks `wsocket.v1` among those offered; `open` says which.
    const [p, id] = await open(make, server, { subprotocols: ["x-unknown", "wsocket.v1"] });
    const picked = [];
    p.client.on("open", (info) => picked.push(info.subprotocol));
    await post(server, `/control/drop?cid=${id}`);
    await p.opened(2, "reopen after the drop");
    eq(picked, ["wsocket.v1"], "offered again on the reconnect, and picked");
    eq((await p.client.request("echo", { n: 1 }, { timeoutMs: 3000 })).data, { n: 1 }, "a request over it");
    p.dispose();
    // One string is one subprotocol; none offered, none picked.
    const [q, qid] = await open(make, server, { subprotocols: "wsocket.v1" });
    const [r, rid] = await open(make, server);
    const seen = [];
    q.client.on("open", (info) => seen.push(["q", info.subprotocol]));
    r.client.on("open", (info) => seen.push(["r", info.subprotocol]));
    for (const id of [qid, rid]) await post(server, `/control/drop?cid=${id}`);
    await until(() => seen.length === 2, "both open again");
    eq(seen.sort(), [["q", "wsocket.v1"], ["r", ""]], "the subprotocol picked, or none");
    q.dispose();
    r.dispose();
    const codeOf = (subprotocols) => {
      const e = thrown(() => make(`ws://${server}/ws`, { subprotocols }));
      return e ? [e.code, e.field ?? null] : null;
    };
    for (const bad of [5, [1], ["two words"], ["a,b"], [""], ["v1", "v1"], "é"]) {
      eq(codeOf(bad), ["INVALID_OPTION", "subprotocols"], `subprotocols ${JSON.stringify(bad)}`);
    }
  },

  async closeArgumentsAreValidated(make, server) {
    const [p] = await open(make, server);
    const codeOf = (f) => thrown(f)?.code ?? null;
    eq(codeOf(() => p.client.close(1005)), "INVALID_CLOSE_CODE", "1005");
    eq(codeOf(() => p.client.close(70000)), "INVALID_CLOSE_CODE", "out of range");
    eq(codeOf(() => p.client.close(1000, "x".repeat(124))), "INVALID_CLOSE_REASON", "long reason");
    eq(p.client.state, "open", "still open after refused closes");
    p.client.close(4000, "app says bye");
    await until(() => p.client.state === "closed", "closed");
    p.dispose();
  },

  // The URLs the WebSocket constructor takes: http(s):// as ws(s)://, a scheme in any
  // case. Anything else is INVALID_URL before a socket exists.
  async urlsAsTheWebSocketConstructorTakesThem(make, server) {
    for (const scheme of ["http", "HTTP", "Ws"]) {
      const id = cid(`url-${scheme}`);
      const p = new Probe(make, `${scheme}://${server}/ws?cid=${id}`, {});
      p.client.connect();
      await p.opened(1, `open of ${scheme}://`);
      const reply = await p.client.request("echo", { scheme }, { timeoutMs: 5000 });
      eq(reply.data, { scheme }, `a request over ${scheme}://`);
      p.dispose();
    }
    for (const url of ["ftp://example.invalid/", "wsx://example.invalid/", "ws:/example.invalid/", "example.invalid/ws"]) {
      const e = thrown(() => make(url, {}));
      eq(e && e.code, "INVALID_URL", `new WsClient(${JSON.stringify(url)})`);
    }
  },

  // Wrong types where the API takes strings (the URL, a request's type, an event name),
  // data JSON cannot encode, a close code that is no number: each throws a WsError saying
  // so, and the client goes on working (a non-string once reached the glue's string
  // passing, which asked the allocator for `undefined` bytes; the page hung later).
  async argumentsOfTheWrongTypeAreRefused(make, server) {
    const codeOf = (f) => {
      const e = thrown(f);
      return e ? `${e.name} ${e.code}` : "no error";
    };
    for (const url of [123, undefined, {}, null]) {
      eq(codeOf(() => make(url, {})), "WsError INVALID_URL", `new WsClient(${JSON.stringify(url)})`);
    }
    const [p] = await open(make, server);
    for (const type of [123, undefined, {}, ""]) {
      eq(codeOf(() => p.client.request(type)), "WsError INVALID_ARGUMENT", `request(${JSON.stringify(type)})`);
    }
    eq(codeOf(() => p.client.request("echo", { big: 1n })), "WsError INVALID_ARGUMENT", "request() with a BigInt");
    for (const name of [123, undefined, ""]) {
      eq(codeOf(() => p.client.off(name)), "WsError INVALID_ARGUMENT", `off(${JSON.stringify(name)})`);
    }
    eq(codeOf(() => p.client.close("bye")), "WsError INVALID_CLOSE_CODE", "close('bye')");
    eq(codeOf(() => (p.client.debug = "yes")), "WsError INVALID_ARGUMENT", "debug = 'yes'");
    // An object whose JSON is no object cannot carry an id: refused, not sent broken.
    const notObjects = [["a Date", new Date(0)], ["toJSON giving undefined", { toJSON: () => undefined }], ["toJSON giving an array", { toJSON: () => [1] }]];
    for (const [what, message] of notObjects) {
      eq(codeOf(() => p.client.send(message)), "WsError INVALID_ARGUMENT", `send(${what})`);
    }
    eq(p.client.stats().messagesOut, 0, "nothing sent by the refused calls");
    eq(p.client.debug, false, "debug unchanged");
    eq(p.client.stats().pendingRequests, 0, "no request left pending by the refused ones");
    // Nothing lost: the same client still answers.
    const reply = await p.client.request("echo", { n: 7 }, { timeoutMs: 5000 });
    eq(reply.data, { n: 7 }, "echo after the refused calls");
    eq(p.client.state, "open", "still open");
    p.dispose();
  },

  // The options of send() and request() are checked like the client's: a typo or a
  // value that is no object is an INVALID_OPTION naming the field, not silently ignored.
  async methodOptionsNameTheField(make, server) {
    const [p] = await open(make, server);
    const codeOf = (f) => {
      const e = thrown(f);
      return e ? [e.code, e.field] : "no error";
    };
    eq(codeOf(() => p.client.send({ type: "x" }, { reliabel: true })), ["INVALID_OPTION", "reliabel"], "send typo");
    eq(codeOf(() => p.client.send({ type: "x" }, true)), ["INVALID_OPTION", "options"], "send options not an object");
    eq(codeOf(() => p.client.send({ type: "x" }, { reliable: "yes" })), ["INVALID_OPTION", "reliable"], "send wrong type");
    eq(codeOf(() => p.client.request("echo", {}, { timeout: 5000 })), ["INVALID_OPTION", "timeout"], "request typo");
    eq(codeOf(() => p.client.request("echo", {}, [])), ["INVALID_OPTION", "options"], "request options an array");
    eq(p.client.stats().pendingRequests, 0, "nothing pending from the refused calls");
    eq(p.client.stats().messagesOut, 0, "nothing sent by the refused calls");
    // The right keys still work, and null means no options.
    eq(typeof p.client.send({ type: "x" }, null), "string", "send with null options returns the id");
    const reply = await p.client.request("echo", { n: 1 }, { timeoutMs: 5000, retry: false });
    eq(reply.data, { n: 1 }, "request with known options");
    p.dispose();
  },

  async onceOffAndUnsubscribeFunctions(make, server) {
    const [p] = await open(make, server);
    const calls = [];
    p.client.once("echo", () => calls.push("once"));
    const offFn = p.client.on("echo", () => calls.push("on"));
    const removed = () => calls.push("removed");
    p.client.on("echo", removed);
    p.client.off("echo", removed);
    const selfRemoving = p.client.on("echo", () => {
      calls.push("self");
      selfRemoving();
    });
    p.client.on("echo", () => calls.push("last"));
    p.client.send({ type: "echo" });
    await until(() => calls.length >= 4, "first echo");
    offFn();
    p.client.send({ type: "echo" });
    await until(() => calls.length >= 5, "second echo");
    await sleep(50);
    eq(calls, ["once", "on", "self", "last", "last"], "listener order and removal");
    p.dispose();
  },

  // One function added twice is two listeners: a `once` entry removes itself, not the
  // `on` entry of the same function, and an unsubscribe function removes its own entry,
  // once.
  async theSameFunctionAddedTwiceIsTwoListeners(make, server) {
    const [p] = await open(make, server);
    const calls = [];
    const both = (data) => calls.push(`both ${data.n}`);
    p.client.on("echo", both);
    p.client.once("echo", both);
    const twice = () => calls.push("twice");
    const offTwice = p.client.on("echo", twice);
    p.client.on("echo", twice);
    offTwice();
    offTwice();
    const kept = () => calls.push("kept");
    p.client.on("echo", kept);
    p.client.once("echo", kept)();
    for (const n of [1, 2, 3]) p.client.send({ type: "echo", data: { n } });
    await until(() => calls.length >= 10, "three echoes");
    await sleep(50);
    eq(calls, [
      "both 1", "both 1", "twice", "kept",
      "both 2", "twice", "kept",
      "both 3", "twice", "kept",
    ], "each listener as often as it was added");
    p.dispose();
  },

  // The hub remembers the last event name of each length (mod 8) with its listeners;
  // "tick" and "tick_tock_ab" share a slot. Every change to the listeners must show at
  // the next frame, including one for a name whose frames had no listener before.
  async listenersChangedBetweenFramesAreHeardFromTheNextFrame(make, server) {
    const [p, id] = await open(make, server);
    const topic = `cache:${id}`;
    const all = p.record("*");
    await subscribed(p, topic);
    const heard = [];
    const frame = async (event, n) => {
      const before = all.length;
      await publish(server, topic, event, n);
      await until(() => all.length > before, `${event} ${n}`);
    };
    const a = (n) => heard.push(`a${n}`);
    const b = (n) => heard.push(`b${n}`);
    const long = (n) => heard.push(`long${n}`);
    await frame("tick", 1); // no listener yet
    p.client.on("tick", a);
    await frame("tick", 2);
    await frame("tick_tock_ab", 3); // the same slot, no listener
    await frame("tick", 4);
    p.client.on("tick_tock_ab", long);
    p.client.on("tick", b);
    await frame("tick_tock_ab", 5);
    await frame("tick", 6);
    p.client.off("tick", a);
    await frame("tick", 7);
    const offB = p.client.on("tick", b);
    await frame("tick", 8);
    offB();
    p.client.off("tick_tock_ab");
    await frame("tick_tock_ab", 9);
    await frame("tick", 10);
    eq(heard, ["a2", "a4", "long5", "a6", "b6", "b7", "b8", "b8", "b10"], "each frame reaches the listeners of that moment");
    eq(p.errorCodes(), [], "no errors");
    p.dispose();
  },

  async tokenProviderIsCalledBeforeEveryConnect(make, server) {
    let calls = 0;
    const token = async () => `token-${++calls}`;
    const id = cid("token");
    const p = new Probe(make, `ws://${server}/ws?cid=${id}`, { token, tokenIn: "message", minDelayMs: 20 });
    const authOk = p.record("auth_ok");
    p.client.connect();
    await until(() => authOk.length === 1, "auth_ok");
    await post(server, `/control/drop?cid=${id}`);
    await p.opened(2);
    await until(() => authOk.length === 2, "auth_ok after reconnect");
    eq(calls, 2, "provider called per connect");
    p.dispose();
  },

  async urlProviderIsCalledBeforeEveryConnect(make, server) {
    // A URL signed per connection: each connect asks for a fresh one, and the token
    // provider's `?token=` goes on the URL it gave.
    const urls = [];
    const id = cid("url");
    const url = async () => {
      urls.push(`ws://${server}/ws?cid=${id}&sig=${urls.length + 1}`);
      return urls.at(-1);
    };
    let tokens = 0;
    const p = new Probe(make, url, { token: () => `t${++tokens}`, minDelayMs: 20 });
    p.client.connect();
    await p.opened();
    await post(server, `/control/drop?cid=${id}`);
    await p.opened(2, "reopen on a fresh URL");
    eq([urls.length, tokens], [2, 2], "both providers called per connect");
    eq((await p.client.request("echo", 1, { timeoutMs: 3000 })).data, 1, "a request over it");
    p.dispose();
    // A provider that fails, or gives no WebSocket URL: INVALID_URL, and a retry.
    const answers = [() => Promise.reject(new Error("signer down")), () => 42, () => "ftp://x/ws", () => `http://${server}/ws`];
    const q = new Probe(make, () => answers.shift()(), { minDelayMs: 20, maxDelayMs: 40 });
    q.client.connect();
    await q.opened(1, "open on the fourth answer");
    eq(q.errorCodes(), ["INVALID_URL", "INVALID_URL", "INVALID_URL"], "each failure reported");
    ok(/threw or rejected/.test(q.errors[0].message) && /no string/.test(q.errors[1].message) && /ftp:/.test(q.errors[2].message),
      `the messages say which: ${q.errors.map((e) => e.message)}`);
    eq(q.reconnecting.map((r) => r.attempt), [1, 2, 3], "retried like drops, with backoff");
    q.dispose();
    // A token provider that fails: TOKEN_ERROR, and a retry.
    const tokens2 = [() => { throw new Error("no session"); }, () => null, () => "t"];
    const t = new Probe(make, url, { token: () => tokens2.shift()(), minDelayMs: 20, maxDelayMs: 40 });
    t.client.connect();
    await t.opened(1, "open with the third token");
    eq(t.errorCodes(), ["TOKEN_ERROR", "TOKEN_ERROR"], "each token failure reported");
    ok(/threw or rejected: Error: no session/.test(t.errors[0].message) && /no string/.test(t.errors[1].message),
      `the messages say which: ${t.errors.map((e) => e.message)}`);
    t.dispose();
    eq(thrown(() => make(42)).code, "INVALID_URL", "a URL that is neither a string nor a function");
  },

  async missedPushesAreReplayedOnceInOrderAfterADrop(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 300, maxDelayMs: 300 });
    const topic = `replay:${id}`;
    const got = p.record(topic);
    const gaps = p.record("gap");
    await subscribed(p, topic);
    for (let i = 1; i <= 3; i++) await publish(server, topic, "n", i);
    await until(() => got.length === 3, "first three");
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state === "reconnecting", "reconnecting");
    for (let i = 4; i <= 10; i++) await publish(server, topic, "n", i);
    await p.opened(2);
    await until(() => got.length >= 10, "replayed pushes");
    await sleep(100);
    eq(got.map((g) => g.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "once each, in order");
    eq(p.client.stats().gaps, 0, "no gap inside the window");
    ok(p.client.stats().duplicates >= 0, "duplicates counted");
    p.dispose();
  },

  async gapIsReportedWhenTheServerLostItsHistory(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 300, maxDelayMs: 300 });
    const topic = `gap:${id}`;
    const got = p.record(topic);
    const gaps = [];
    p.client.on("gap", (g) => gaps.push(g));
    await subscribed(p, topic);
    await publish(server, topic, "n", 1);
    await publish(server, topic, "n", 2);
    await until(() => got.length === 2, "two pushes");
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state === "reconnecting", "reconnecting");
    await post(server, "/control/epoch");
    await p.opened(2);
    await until(() => gaps.length === 1, "a gap event");
    eq([gaps[0].topic, gaps[0].expected, gaps[0].got], [topic, 3, null], "gap payload");
    await publish(server, topic, "n", "after");
    await until(() => got.length === 3, "delivery goes on in the new epoch");
    eq(p.client.stats().gaps, 1, "one gap");
    p.dispose();
  },

  async reliableSendsTakeEffectOnceAcrossDrops(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 20, maxDelayMs: 60 });
    const topic = `reliable:${id}`;
    const got = p.record(topic);
    await subscribed(p, topic);
    const ids = [];
    for (let i = 0; i < 40; i++) {
      ids.push(p.client.send({ type: "publish", topic, data: i }, { reliable: true }));
      if (i % 10 === 5) await post(server, `/control/drop?cid=${id}`);
      await sleep(5);
    }
    await until(() => p.client.stats().pendingRequests === 0 && p.client.state === "open", "every send acknowledged");
    await until(() => got.length >= 40, "every push");
    await sleep(100);
    eq(got.map((g) => g.data), Array.from({ length: 40 }, (_, i) => i), "each once, in order");
    const counts = await fetch(`http://${server}/control/connections?cid=${id}`).then((r) => r.json());
    eq(counts.processed, 40, "the server processed each id once");
    eq(new Set(ids).size, 40, "distinct ids");
    p.dispose();
  },

  async retriedRequestResolvesAfterAReconnect(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 50, maxDelayMs: 50, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 150 });
    await post(server, `/control/stall?cid=${id}`);
    const reply = p.client.request("echo", { x: 1 }, { timeoutMs: 5000, retry: true });
    const result = await reply;
    eq(result.data, { x: 1 }, "answered on the new connection");
    ok(p.opens >= 2, "it took a reconnect");
    p.dispose();
  },

  async tokenIsRefreshedOnceOn4001ThenConnects(make, server, authServer) {
    const tokens = ["stale-token", "good-token"];
    let calls = 0;
    const p = new Probe(make, `ws://${authServer}/ws?cid=${cid("refresh")}`, { token: () => tokens[calls++] ?? "good-token", minDelayMs: 20 });
    const echo = p.record("echo");
    p.client.connect();
    await until(() => p.opens >= 2, "open with the fresh token");
    p.client.send({ type: "echo", data: "in" });
    await until(() => echo.length === 1, "authenticated traffic");
    eq(calls, 2, "the provider was asked again once");
    ok(p.closes.some((c) => c.code === 4001), "the stale token was refused with 4001");
    p.dispose();
  },

  async aTokenThatStaysBadStopsWithoutALoop(make, server, authServer) {
    let calls = 0;
    const p = new Probe(make, `ws://${authServer}/ws?cid=${cid("badauth")}`, { token: async () => { calls++; return "bad"; }, tokenIn: "message", minDelayMs: 20 });
    p.client.connect();
    await until(() => p.errorCodes().includes("AUTH_FAILED"), "AUTH_FAILED");
    await sleep(300);
    eq(p.client.state, "closed", "stopped");
    eq(calls, 2, "one retry, no loop");
    p.dispose();
  },

  async wakeUpFindsADeadConnectionAtOnce(make, server) {
    const [p, id] = await open(make, server, { heartbeatIntervalMs: 60000, heartbeatTimeoutMs: 200 });
    await post(server, `/control/stall?cid=${id}`);
    const t0 = Date.now();
    document.dispatchEvent(new Event("visibilitychange"));
    await p.opened(2, "reopen after the wake-up check");
    ok(Date.now() - t0 < 3000, "found within about one timeout, not one interval");
    ok(p.errorCodes().includes("HEARTBEAT_TIMEOUT"), "by the watchdog");
    p.dispose();
  },

  async onlineEventAndPageshowReconnectAtOnce(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 60000, maxDelayMs: 60000 });
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state === "reconnecting", "reconnecting with a long delay");
    window.dispatchEvent(new Event("online"));
    await p.opened(2, "reopen on online");
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state === "reconnecting", "reconnecting again");
    window.dispatchEvent(new Event("pageshow"));
    await p.opened(3, "reopen on pageshow");
    p.client.close();
    await until(() => p.client.state === "closed", "closed");
    window.dispatchEvent(new Event("online"));
    document.dispatchEvent(new Event("visibilitychange"));
    await sleep(200);
    eq(p.opens, 3, "no reconnect after the app closed");
    p.dispose();
  },

  async badInputIsReportedAndNothingIsLost(make, server) {
    const [p, id] = await open(make, server);
    const topic = `bad:${id}`;
    const got = p.record(topic);
    await subscribed(p, topic);
    const frames = [
      "not json at all",
      "42",
      "null",
      '"a string"',
      "[1,2]",
      JSON.stringify({ type: 7 }),
      JSON.stringify({ type: "x", topic: 5 }),
      JSON.stringify({ type: "x", topic, seq: "one", epoch: "e" }),
      JSON.stringify({ type: "x", topic, seq: 1.5, epoch: "e" }),
      JSON.stringify({ type: "batch", messages: "nope" }),
    ];
    for (const f of frames) await post(server, `/control/send?cid=${id}`, f);
    await post(server, `/control/send?cid=${id}&binary=1`, "binary");
    const huge = JSON.stringify({ type: "huge", data: "x".repeat(16 * 1024 * 1024) });
    const big = p.record("huge");
    await post(server, `/control/send?cid=${id}`, huge);
    await post(server, `/control/send?cid=${id}`, "{" + "x".repeat(16 * 1024 * 1024));
    const unknown = p.record("*");
    await post(server, `/control/send?cid=${id}`, JSON.stringify({ type: "never_heard_of_it", data: 1 }));
    await publish(server, topic, "n", "still here");
    const unknownArrived = () => unknown.some((u) => u.msg.type === "never_heard_of_it");
    await until(() => got.length === 1 && big.length === 1 && unknownArrived(), "delivery after bad input");
    eq(big[0].data.length, 16 * 1024 * 1024, "a 16 MiB frame arrives whole");
    const bad = p.errors.filter((e) => e.code === "MALFORMED_FRAME");
    eq(bad.length, frames.length + 2, "each bad frame reported once");
    ok(bad.every((e) => typeof e.message === "string" && e.message.includes("malformed frame skipped")), "clear messages");
    eq(p.client.state, "open", "still open");
    p.dispose();
  },

  async chaosLosesNothingAndDuplicatesNothing(make, server) {
    const total = 20000;
    const drops = 50;
    const [p, id] = await open(make, server, { minDelayMs: 5, maxDelayMs: 50, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 150, stableAfterMs: 60000 });
    const topic = `chaos:${id}`;
    const side = `chaos-side:${id}`;
    const seen = new Map();
    let dupes = 0;
    p.client.on(topic, (data) => {
      if (seen.has(data.n)) dupes++;
      seen.set(data.n, true);
    });
    const sideSeen = new Map();
    let sideDupes = 0;
    p.client.on(side, (data) => {
      if (sideSeen.has(data)) sideDupes++;
      sideSeen.set(data, true);
    });
    await subscribed(p, [topic, side]);
    await post(server, `/control/burst?topic=${encodeURIComponent(topic)}&count=${total}&per_ms=2`);
    const sent = 500;
    let faults = 0;
    // A fault counts when it hit a live connection; bounded at 5,000 rounds.
    for (let i = 0; (i < sent || faults < drops) && i < 5000; i++) {
      if (i < sent) p.client.send({ type: "publish", topic: side, data: i }, { reliable: true });
      if (i % 10 === 9 && faults < drops) {
        const action = faults % 3 === 2 ? "stall" : "drop";
        const before = p.client.stats().reconnects;
        const hit = await post(server, `/control/${action}?cid=${id}`);
        if (hit.connections > 0) {
          faults++;
          // One outage at a time, so every fault is one reconnect.
          await until(() => p.client.stats().reconnects > before, `recovery from fault ${faults}`);
        }
      }
      await sleep(15 + (i % 7) * 3);
    }
    await until(() => seen.size === total && sideSeen.size === sent, `all ${total} pushes and ${sent} sends (have ${seen.size}, ${sideSeen.size})`, 60000);
    await sleep(300);
    const counts = await fetch(`http://${server}/control/connections?cid=${id}`).then((r) => r.json());
    const stats = p.client.stats();
    console.log(`chaos: server->client ${total} published, ${seen.size} delivered, 0 lost, ${dupes} duplicated; ` +
      `client->server ${sent} sent, ${counts.processed} processed, ${counts.repeated} resends ignored, ${sideDupes} duplicated; ` +
      `${faults} faults, ${stats.reconnects} reconnects, ${stats.duplicates} duplicate pushes dropped, ${stats.gaps} gaps`);
    eq(dupes, 0, "no push delivered twice");
    eq(sideDupes, 0, "no send took effect twice");
    eq(counts.processed, sent, "each send processed once");
    eq(stats.gaps, 0, "no gap inside the history window");
    ok(faults >= drops, `at least ${drops} faults`);
    eq(stats.reconnects, faults, "one reconnect per fault");
    p.dispose();
  },

  async randomFramesNeverEscapeTheClient(make) {
    // The real onmessage path, fed 20,000 mutated frames through a fake socket.
    class FakeSocket {
      static last = null;
      constructor(url) { this.url = url; this.readyState = 0; FakeSocket.last = this; }
      send() {}
      close() { this.readyState = 3; }
    }
    const real = globalThis.WebSocket;
    globalThis.WebSocket = FakeSocket;
    let client;
    try {
      client = make("ws://fuzz.invalid/", { heartbeatIntervalMs: 0, connectTimeoutMs: 0, topics: ["t"] });
      client.connect();
      // The core opens through the hub's `resolve`: the socket comes a microtask later.
      await until(() => FakeSocket.last, "the socket");
    } finally {
      globalThis.WebSocket = real;
    }
    const errors = [];
    client.on("error", (e) => errors.push(e.code));
    const good = [];
    client.on("ok", (data) => good.push(data));
    const ws = FakeSocket.last;
    ws.readyState = 1;
    ws.onopen({});
    const seeds = [
      '{"type":"ok","data":1}', '{"type":"batch","messages":[{"type":"ok"},{"type":"x","topic":"t","seq":1,"epoch":"e"}]}',
      '{"type":"subscribed","data":{"topics":["t"],"recovered":{"t":false},"positions":{"t":{"seq":3,"epoch":"e"}}}}',
      '{"type":"x","topic":"t","seq":4,"epoch":"e","data":{}}', '{"type":"error","error":{"code":"BAD_REQUEST","message":"m"}}',
      '{"type":"pong","id":"z"}', '{"type":"ok","id":"nope","data":[1,{"a":null}]}',
    ];
    const chars = '{}[]":,\\0123456789abcdeftypsqn .-é\u0000';
    let seed = 12345;
    // A 32-bit LCG (in float arithmetic the product loses bits, and the sequence can fall
    // into a short cycle).
    const rand = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n; };
    let thrown = 0;
    for (let i = 0; i < 20000; i++) {
      let f = seeds[rand(seeds.length)].split("");
      for (let k = 0, n = 1 + rand(4); k < n; k++) {
        const at = rand(f.length + 1);
        const op = rand(3);
        if (op === 0) f.splice(at, 1);
        else if (op === 1) f.splice(at, 0, chars[rand(chars.length)]);
        else f = f.slice(0, at);
      }
      try {
        ws.onmessage({ data: f.join("") });
      } catch (e) {
        thrown++;
      }
    }
    eq(thrown, 0, "nothing thrown out of onmessage");
    const before = good.length;
    ws.onmessage({ data: '{"type":"ok","data":"after"}' });
    eq(good.length, before + 1, "still delivering after 20,000 random frames");
    ok(errors.every((c) => typeof c === "string"), "every problem reported with a code");
    console.log(`browser fuzz: 20000 frames, ${errors.length} reported, ${good.length} delivered, 0 thrown`);
    client.free();
  },

  async randomSocketIoFramesNeverEscapeTheClient(make) {
    // The same in Socket.IO mode: mutated packets, binary headers and attachments in
    // random order, through the real onmessage path of a fake socket.
    class FakeSocket {
      static last = null;
      constructor(url) { this.url = url; this.readyState = 0; this.sent = []; FakeSocket.last = this; }
      send(frame) { this.sent.push(frame); }
      close() { this.readyState = 3; }
    }
    const real = globalThis.WebSocket;
    const withFake = (f) => {
      globalThis.WebSocket = FakeSocket;
      try {
        return f();
      } finally {
        globalThis.WebSocket = real;
      }
    };
    const client = withFake(() => make("http://fuzz.invalid/", { protocol: "socketio", namespace: "/events", connectTimeoutMs: 0 }));
    const errors = [];
    client.on("error", (e) => errors.push(e.code));
    const good = [];
    client.on("ok", (data, msg) => {
      good.push(data);
      msg.ack?.({ back: new Uint8Array([1]) });
    });
    const sent = [];
    // Connects on a fresh fake socket, through the Engine.IO open and the CONNECT answer.
    // In Socket.IO mode the socket is made once the decoder is loaded (sio.js), a few
    // tasks after `connect()`: the fake stays in place until then.
    const connect = async () => {
      const before = FakeSocket.last;
      globalThis.WebSocket = FakeSocket;
      try {
        client.connect();
        for (let i = 0; i < 200 && FakeSocket.last === before; i++) await new Promise((r) => setTimeout(r, 10));
      } finally {
        globalThis.WebSocket = real;
      }
      const ws = FakeSocket.last;
      ok(ws !== before, "a socket within 2 s of connect()");
      ws.readyState = 1;
      ws.onopen({});
      ws.onmessage({ data: '0{"sid":"s","pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}' });
      ws.onmessage({ data: '40/events,{"sid":"x","pid":"p"}' });
      eq(client.state, "open", "open after the CONNECT answer");
      sent.push(ws.sent);
    };
    await connect();
    const seeds = [
      '42/events,["ok",1,"offset-1"]', '42/events,7["ok",{"a":[1,2]}]', '43/events,1[{"ok":true}]',
      '452-/events,["ok",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]',
      '461-/events,3[{"_placeholder":true,"num":0}]', '451-/other,["ok",{"_placeholder":true,"num":0}]',
      '2', '3', '6', '40/events,{"sid":"y"}',
    ];
    const chars = '{}[]":,\\0123456789-/_placeholdernumtrue é\u0000';
    // A 32-bit LCG (in float arithmetic the product loses bits, and the sequence can fall
    // into a short cycle).
    let seed = 4242;
    const rand = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n; };
    let thrown = 0;
    let ended = 0;
    for (let i = 0; i < 20000; i++) {
      // A mutation can make a valid DISCONNECT or CONNECT_ERROR, which ends the session
      // as it should: connect again.
      if (client.state === "closed") {
        ended++;
        await connect();
      }
      let data;
      if (rand(4) === 0) {
        data = new Uint8Array(rand(8)).buffer; // an attachment, announced or not
      } else {
        let f = seeds[rand(seeds.length)].split("");
        for (let k = 0, n = rand(4); k < n; k++) {
          const at = rand(f.length + 1);
          const op = rand(3);
          if (op === 0) f.splice(at, 1);
          else if (op === 1) f.splice(at, 0, chars[rand(chars.length)]);
          else f = f.slice(0, at);
        }
        data = f.join("");
      }
      try {
        FakeSocket.last.onmessage({ data });
      } catch (e) {
        thrown++;
      }
    }
    eq(thrown, 0, "nothing thrown out of onmessage");
    if (client.state === "closed") await connect();
    const before = good.length;
    FakeSocket.last.onmessage({ data: '42/events,["ok","after"]' });
    eq(good.slice(before), ["after"], "still delivering after 20,000 random frames");
    ok(errors.every((c) => typeof c === "string"), "every problem reported with a code");
    ok(sent.flat().some((f) => f instanceof Uint8Array), "binary acks went out");
    console.log(`browser Socket.IO fuzz: 20000 frames, ${errors.length} reported, ${good.length} delivered, ${ended} sessions ended, 0 thrown`);
    client.free();
  },

  async packagedClientSendsFastAndKeepsOrder(make, server) {
    // The npm package as an app imports it: js/index.js over the wasm-bindgen module.
    const pkg = await import(`http://${server}/pkg/index.js`);
    await pkg.default();
    const id = cid("pkg");
    const topic = `pkg:${id}`;
    const client = new pkg.WsClient(`ws://${server}/ws?cid=${id}`, { minDelayMs: 50, maxDelayMs: 50 });
    const got = [];
    const ids = [];
    let opens = 0;
    client.on(topic, (data) => got.push(data));
    client.on("open", () => {
      opens++;
      ids.push(client.send({ type: "publish", topic, data: opens === 1 ? 1 : 12 }));
    });
    client.on("close", () => ids.push(client.send({ type: "publish", topic, data: 11 })));
    client.subscribe(topic);
    ids.push(client.send({ type: "publish", topic, data: 0 })); // offline: queued by the core
    client.connect();
    await until(() => got.length >= 2, "queued and open-listener sends");
    for (let i = 2; i <= 10; i++) ids.push(client.send({ type: "publish", topic, data: i }));
    await until(() => got.length >= 11, "fast sends");
    await post(server, `/control/drop?cid=${id}`);
    await until(() => got.length >= 13, "sends around the reconnect");
    await sleep(100);
    eq(got, Array.from({ length: 13 }, (_, i) => i), "every send once, in order, across both paths");
    ok(ids.some((x) => /f\d+$/.test(x)), "the fast path was taken");
    ok(ids.some((x) => !/f\d+$/.test(x)), "and the core's path too");
    eq(new Set(ids).size, ids.length, "ids are distinct across both paths");
    ok(client.stats().messagesOut >= 13, "counted");
    client.close();
    client.free();
  },

  async packagedClientRequestsStopAtTheirSignal(make, server) {
    // `request(…, { signal })` of the package's WsClient, as `fetch` takes one.
    const pkg = await import(`http://${server}/pkg/index.js`);
    await pkg.default();
    const id = cid("abort");
    const client = new pkg.WsClient(`ws://${server}/ws?cid=${id}`, { minDelayMs: 20, heartbeatIntervalMs: 0 });
    const errors = [];
    client.on("error", (e) => errors.push(e.code));
    client.connect();
    await until(() => client.state === "open", "open");
    // A stalled server: the request waits until its signal fires, then rejects at once.
    await post(server, `/control/stall?cid=${id}`);
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.request("echo", { n: 1 }, { timeoutMs: 150, retry: true, signal: controller.signal });
    eq(client.stats().pendingRequests, 1, "pending while unanswered");
    setTimeout(() => controller.abort(new Error("unmounted")), 50);
    const e = await pending.then(() => fail("an aborted request must reject"), (e) => e);
    eq([e.code, e.cause?.message], ["REQUEST_ABORTED", "unmounted"], "rejected with the signal's reason");
    ok(Date.now() - started < 140, "at the abort, not at the timeout");
    eq(client.stats().pendingRequests, 0, "the core forgot it");
    await sleep(200);
    eq(errors, [], "no REQUEST_TIMEOUT after the abort");
    // Already aborted: not sent at all.
    await post(server, `/control/stall?cid=${id}&on=0`);
    const out = client.stats().messagesOut;
    const early = await client.request("echo", {}, { signal: AbortSignal.abort() }).catch((e) => e);
    eq([early.code, client.stats().messagesOut], ["REQUEST_ABORTED", out], "refused before sending");
    eq(thrown(() => client.request("echo", {}, { signal: "stop" }))?.field, "signal", "a signal that is no AbortSignal");
    // A signal that fires after the reply changes nothing.
    const late = new AbortController();
    eq((await client.request("echo", { n: 2 }, { signal: late.signal })).data, { n: 2 }, "answered");
    late.abort();
    client.close();
    client.free();
  },

  async legacyBug1SecondOnDoesNotReplaceFirst(make, server) {
    const [p] = await open(make, server);
    const a = p.record("echo");
    const b = p.record("echo");
    p.client.send({ type: "echo", data: "both" });
    await until(() => a.length === 1 && b.length === 1, "both listeners");
    p.dispose();
  },

  async legacyBug2NoDuplicateHeartbeatAfterReconnects(make, server) {
    const [p, id] = await open(make, server, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1000 });
    for (let i = 2; i <= 4; i++) {
      await post(server, `/control/drop?cid=${id}`);
      await p.opened(i);
    }
    const before = p.client.stats().messagesOut;
    const t0 = Date.now();
    await sleep(1000);
    const pings = p.client.stats().messagesOut - before;
    const expected = (Date.now() - t0) / 100;
    ok(pings >= expected / 2 && pings <= expected + 2, `one heartbeat: ${pings} pings in ~${expected} intervals`);
    eq(p.errorCodes().filter((c) => c !== "LISTENER_ERROR"), [], "no send on a closed socket, no error");
    p.dispose();
  },

  async legacyBug3ReconnectWorksRepeatedlyWithJitterForEveryCode(make, server) {
    const [p, id] = await open(make, server, { minDelayMs: 10, maxDelayMs: 80, stableAfterMs: 60000 });
    const codes = [1001, 1011, 1012, 1013, 4000, 4321];
    let n = 1;
    for (const code of codes) {
      await post(server, `/control/close?cid=${id}&code=${code}`);
      await p.opened(++n, `reopen after ${code}`);
      await post(server, `/control/drop?cid=${id}`);
      await p.opened(++n, `reopen after drop following ${code}`);
    }
    eq(p.closes.map((c) => c.code).filter((c) => c !== 1006), codes, "every code reconnected");
    const delays = p.reconnecting.map((r) => Math.round(r.delayMs));
    ok(new Set(delays).size > 3, `jittered delays, got ${delays}`);
    ok(p.reconnecting.some((r) => r.attempt > 3), "attempts grow while flapping");
    p.dispose();
  },

  async legacyBug4NonJsonFrameDoesNotThrow(make, server) {
    const [p, id] = await open(make, server);
    const echo = p.record("echo");
    await post(server, `/control/send?cid=${id}`, "hello, not json");
    p.client.send({ type: "echo", data: "after" });
    await until(() => echo.length === 1, "delivery after a non-JSON frame");
    const bad = p.errors.find((e) => e.code === "MALFORMED_FRAME");
    ok(bad && bad.frame === "hello, not json", "reported with the frame");
    p.dispose();
  },

  async legacyBug5SendWhileClosedIsQueuedNotThrownOrDropped(make, server) {
    const p = new Probe(make, `ws://${server}/ws?cid=${cid("bug5")}`, {});
    const echo = p.record("echo");
    const id = p.client.send({ type: "echo", data: "early" });
    ok(typeof id === "string", "send before connect returns an id");
    eq(p.client.stats().queueLength, 1, "queued");
    p.client.connect();
    await until(() => echo.length === 1, "queued message delivered");
    eq(echo[0].msg.id, id, "same message");
    p.dispose();
  },

  async legacyBug6CloseBeforeConnectDoesNotThrow(make, server) {
    const p = new Probe(make, `ws://${server}/ws?cid=${cid("bug6")}`, {});
    p.client.close();
    p.client.close(1000, "twice");
    eq(p.client.state, "closed", "closed");
    p.client.connect();
    await p.opened();
    p.dispose();
  },

  async legacyBug7HalfOpenConnectionIsDetected(make, server) {
    const [p, id] = await open(make, server, { heartbeatIntervalMs: 150, heartbeatTimeoutMs: 250 });
    await until(() => p.client.stats().rttMs !== null, "a measured RTT");
    await post(server, `/control/stall?cid=${id}`);
    await p.opened(2, "reopen after the watchdog fired");
    ok(p.errorCodes().includes("HEARTBEAT_TIMEOUT"), "heartbeat timeout reported");
    eq(p.closes[0].code, 4000, "closed with 4000");
    p.dispose();
  },
};

export async function run(name, server, authServer, make) {
  const scenario = scenarios[name];
  if (scenario === undefined) fail(`no scenario named ${name}`);
  await scenario(make, server, authServer);
}

export function names() {
  return Object.keys(scenarios);
}

/** For the Rust API tests in web.rs: a POST to the server (control API or /publish). */
export async function control(server, path, body) {
  return post(server, path, body);
}

// ---- Socket.IO: run against the companion server's socketioxide gateway and against the
// reference `socket.io` server from npm (tests/socketio-reference), both behind the
// server's /socket.io/ relay (where the control API acts). Both require the token
// `good-token` and ping every 300 ms with a 200 ms timeout.

const SIO = { protocol: "socketio", namespace: "/events", minDelayMs: 20, maxDelayMs: 200 };

async function sioOpen(make, server, options = {}) {
  const id = cid("sio");
  // An http:// URL, as socket.io-client is given one (the WebSocket constructor takes it too).
  const probe = new Probe(make, `http://${server}/?cid=${id}`, { ...SIO, token: "good-token", ...options });
  probe.client.connect();
  await probe.opened();
  return [probe, id];
}

async function join(probe, room) {
  const ack = await probe.client.request("join", { room }, { timeoutMs: 3000 });
  eq([ack.data.success, ack.data.room], [true, room], `join ${room} ack`);
}

const sioScenarios = {
  async sioEmitOnRoomsAndAcks(make, server) {
    const [a] = await sioOpen(make, server);
    const [b] = await sioOpen(make, server);
    const [c] = await sioOpen(make, server);
    const joined = a.record("user:joined");
    const aGot = a.record("message");
    const cGot = c.record("message");
    await join(a, "room-1");
    await join(c, "room-2");
    await join(b, "room-1");
    await until(() => joined.length === 1, "user:joined in room-1");
    eq(joined[0].data.room, "room-1", "user:joined payload");
    ok(typeof joined[0].data.userId === "string", "user:joined has a userId");
    // An emit with an ack, to a room: only that room's members receive it.
    const sent = await b.client.request("message", { room: "room-1", content: "hello room" }, { timeoutMs: 3000 });
    eq(sent.data, { success: true }, "message ack");
    await until(() => aGot.length === 1, "the room message");
    eq(aGot[0].data.content, "hello room", "message content");
    ok(typeof aGot[0].data.senderId === "string" && typeof aGot[0].data.timestamp === "number", "senderId and timestamp");
    eq(aGot[0].msg.type, "message", "the event name is the message type");
    // A plain send (no ack) to everyone but the sender.
    eq(b.client.send({ type: "message", data: { content: "to all" } }), undefined, "Socket.IO sends have no id");
    await until(() => cGot.length === 1 && aGot.length === 2, "the broadcast message");
    eq(cGot.map((m) => m.data.content), ["to all"], "room-2 got only the broadcast");
    for (const p of [a, b, c]) {
      eq(p.errorCodes(), [], "no errors");
      p.dispose();
    }
  },

  async sioGatewayValidationAndAckTimeout(make, server) {
    const [p] = await sioOpen(make, server);
    const long = await p.client.request("message", { content: "x".repeat(1001) }, { timeoutMs: 3000 });
    eq(long.data.success, false, "content over 1000 characters refused");
    ok(/1000/.test(long.data.message), `a reason: ${long.data.message}`);
    const denied = await p.client.request("join", { room: "private:someone-else" }, { timeoutMs: 3000 });
    eq(denied.data.success, false, "room access rule");
    // No handler for this event: no ack ever comes.
    try {
      await p.client.request("no_such_event", {}, { timeoutMs: 150 });
      fail("an unanswered emit must time out");
    } catch (e) {
      eq(e.code, "REQUEST_TIMEOUT", "ack timeout code");
    }
    // Larger than the server's maxPayload (64 KiB): refused before sending.
    try {
      p.client.send({ type: "message", data: { content: "x".repeat(70000) } });
      fail("an event over maxPayload must be refused");
    } catch (e) {
      eq(e.code, "PAYLOAD_TOO_LARGE", "maxPayload");
    }
    eq(p.client.state, "open", "still open");
    p.dispose();
  },

  async sioRejectedAuthIsConnectErrorWithoutALoop(make, server) {
    const id = cid("sio-bad");
    const p = new Probe(make, `ws://${server}/?cid=${id}`, { ...SIO, token: "bad-token" });
    p.client.connect();
    await until(() => p.client.state === "closed", "closed after connect_error");
    const connectError = p.errors.find((e) => e.code === "CONNECT_ERROR");
    ok(connectError, `a CONNECT_ERROR: ${p.errorCodes()}`);
    ok(/unauthorized|invalid|token/i.test(connectError.message), `the server's message: ${connectError.message}`);
    ok(p.errorCodes().includes("AUTH_FAILED"), `AUTH_FAILED: ${p.errorCodes()}`);
    await sleep(300);
    eq(p.states.filter((s) => s === "connecting").length, 1, "one attempt, no reconnect loop");
    eq(p.opens, 0, "never open");
    p.dispose();
  },

  async sioReconnectAndRejoinAfterAbruptDrop(make, server) {
    const [a, id] = await sioOpen(make, server);
    // As with socket.io-client: rejoin rooms on every (re)connect.
    a.client.on("open", () => a.client.request("join", { room: "rejoin" }).catch(() => {}));
    await join(a, "rejoin");
    const [b] = await sioOpen(make, server);
    await join(b, "rejoin");
    const got = a.record("message");
    await post(server, `/control/drop?cid=${id}`);
    await a.opened(2, "reopen after the drop");
    eq(a.closes[0].code, 1006, "an abrupt drop");
    // The rejoin is in flight; retry the room message until it lands.
    await until(() => {
      if (got.length === 0) b.client.send({ type: "message", data: { room: "rejoin", content: "after" } });
      return got.length > 0;
    }, "a room message after the rejoin", 5000);
    eq(got[0].data.content, "after", "delivered to the rejoined room");
    a.dispose();
    b.dispose();
  },

  async sioDeadServerFoundByThePingWatchdog(make, server) {
    const [p, id] = await sioOpen(make, server);
    await sleep(400); // at least one server ping answered
    eq(p.errorCodes(), [], "pings keep it alive");
    const stalledAt = Date.now();
    await post(server, `/control/stall?cid=${id}`);
    await until(() => p.errorCodes().includes("HEARTBEAT_TIMEOUT"), "the watchdog", 3000).catch((e) => {
      fail(`${e.message}: errors ${p.errorCodes()}, states ${p.states}, ${JSON.stringify(p.client.stats())}`);
    });
    const took = Date.now() - stalledAt;
    // pingInterval 300 + pingTimeout 200 = 500 ms, checked every quarter.
    ok(took >= 400 && took < 1500, `found dead after ${took} ms`);
    eq(p.closes[0].code, 4000, "closed 4000");
    await p.opened(2, "reconnected to a live server");
    p.dispose();
  },

  // Issue 22, #2: a namespace outside ASCII opens, and its events and acks arrive (the
  // header's offsets were UTF-8 bytes applied to a UTF-16 string: nothing matched).
  async sioNamespaceOutsideAsciiOpensAndGetsItsEvents(make, server) {
    const [p] = await sioOpen(make, server, { namespace: "/événements" });
    const hello = p.record("bienvenue");
    const echo = await p.client.request("echo", { texte: "ça marche" }, { timeoutMs: 3000 });
    eq(echo.data, { texte: "ça marche" }, "the ack");
    await until(() => hello.length === 1, "the event");
    eq(hello[0].data, { nsp: "/événements" }, "the event");
    p.dispose();
  },

  async sioServerDisconnectDoesNotReconnect(make, server) {
    const [p, id] = await sioOpen(make, server);
    await post(server, `/control/send?cid=${id}`, "41/events,");
    await until(() => p.client.state === "closed", "closed for good");
    ok(p.errorCodes().includes("CLOSED_BY_SERVER"), `reported: ${p.errorCodes()}`);
    await sleep(200);
    eq(p.states.filter((s) => s === "connecting").length, 1, "no reconnect");
    p.dispose();
  },

  async sioBinaryAttachmentsBothWays(make, server) {
    const [p, id] = await sioOpen(make, server);
    const echoes = p.record("file:echo");
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const view = (b) => (b instanceof ArrayBuffer ? [...new Uint8Array(b)] : `not an ArrayBuffer: ${b}`);
    // A BINARY_EVENT with two attachments (a typed array and an ArrayBuffer, one nested in
    // an array), answered by a BINARY_ACK.
    const ack = await p.client.request("file", { name: "a.bin", bytes, parts: [new Uint8Array([9, 8, 7]).buffer] }, { timeoutMs: 3000 });
    eq([ack.data.success, ack.data.name, ack.data.size, view(ack.data.bytes)], [true, "a.bin", 8, [0, 1, 2, 250, 255]], "the gateway's binary ack");
    await until(() => echoes.length === 1, "the echoed binary event");
    const echo = echoes[0].data;
    eq([echo.name, view(echo.bytes), echo.parts.map(view)], ["a.bin", [0, 1, 2, 250, 255], [[9, 8, 7]]], "the binary event");
    eq([...bytes], [0, 1, 2, 250, 255], "the caller's data is left as it was");
    // A plain send with an attachment, no ack; then one queued while reconnecting.
    p.client.send({ type: "file", data: { name: "b.bin", bytes: new Uint8Array([42]) } });
    await until(() => echoes.length === 2, "the second echo");
    eq(view(echoes[1].data.bytes), [42], "a send's attachment");
    await post(server, `/control/drop?cid=${id}`);
    await until(() => p.client.state !== "open", "the drop seen");
    p.client.send({ type: "file", data: { name: "c.bin", bytes: new Uint8Array([1, 2]) } });
    eq(p.client.stats().queueLength, 1, "queued while reconnecting");
    await p.opened(2, "reopen after the drop");
    await until(() => echoes.length === 3, "the queued binary event, sent on open");
    eq([echoes[2].data.name, view(echoes[2].data.bytes)], ["c.bin", [1, 2]], "the queued event's attachment");
    // The server asks with an ack; the client answers with an attachment (a BINARY_ACK).
    const answered = p.record("file:answered");
    p.client.on("file:ask", (data, msg) => msg.ack({ name: "answer", bytes: new Uint8Array([7, 7]) }));
    p.client.send({ type: "file:ask-me" });
    await until(() => answered.length === 1, "the server got the binary answer");
    eq([answered[0].data.name, view(answered[0].data.bytes)], ["answer", [7, 7]], "the answer's attachment");
    eq(p.errorCodes(), [], "no errors");
    eq(p.client.stats().malformed, 0, "nothing malformed");
    p.dispose();
  },

  async sioConnectionStateRecovery(make, server) {
    // `a` reconnects only after 300 ms, so `b`'s messages go out while it is away.
    const [a, id] = await sioOpen(make, server, { minDelayMs: 300, maxDelayMs: 300 });
    const [b] = await sioOpen(make, server);
    await join(a, "recover");
    await join(b, "recover");
    const got = a.record("message");
    const say = (content) => b.client.request("message", { room: "recover", content }, { timeoutMs: 3000 });
    await say("before");
    await until(() => got.length === 1, "a message before the drop");
    ok(typeof got[0].msg.args.at(-1) === "string", `the server's offset ends the event's arguments: ${JSON.stringify(got[0].msg.args)}`);
    await post(server, `/control/drop?cid=${id}`);
    await until(() => a.client.state !== "open", "the drop seen");
    for (const content of ["missed 1", "missed 2", "missed 3"]) await say(content);
    eq(a.opens, 1, "still away while they were sent");
    await a.opened(2, "reopen after the drop");
    // The session came back: the missed messages in order, nothing twice, and the room
    // kept without a rejoin.
    await until(() => got.length === 4, "the missed messages, replayed");
    await say("after");
    await until(() => got.length === 5, "a live message after the recovery");
    eq(got.map((m) => m.data.content), ["before", "missed 1", "missed 2", "missed 3", "after"], "every message once, in order");
    eq(a.errorCodes(), [], "no errors");
    a.dispose();
    b.dispose();
  },

  async sioMalformedPacketsAndStrayAttachmentsAreReportedAndSkipped(make, server) {
    const [a, id] = await sioOpen(make, server);
    const [b] = await sioOpen(make, server);
    const got = a.record("message");
    const send = (body, binary) => post(server, `/control/send?cid=${id}${binary ? "&binary=1" : ""}`, body);
    const placeholder = (num) => `["message",{"_placeholder":true,"num":${num}}]`;
    await send(`42/events,["message",`); // cut short
    await send("4x"); // no packet type
    await send("attachment", true); // an attachment no packet announced
    await send(`451-/events,${placeholder(1)}`); // a placeholder past its one attachment
    await send("attachment", true);
    await send(`451-/other,${placeholder(0)}`); // another namespace's: skipped, not counted
    await send("attachment", true);
    await send(`451-/events,${placeholder(0)}`); // its attachment never comes
    await send(`42/events,["message",{"content":"after"}]`);
    await until(() => a.client.stats().malformed === 5, "five malformed frames counted");
    ok(a.errorCodes().every((c) => c === "MALFORMED_FRAME"), `only MALFORMED_FRAME: ${a.errorCodes()}`);
    b.client.send({ type: "message", data: { content: "still here" } });
    await until(() => got.length === 2, "delivery goes on");
    eq(got.map((m) => m.data.content), ["after", "still here"], "the packets after the bad ones");
    eq(a.client.stats().malformed, 5, "five malformed frames");
    eq(a.client.state, "open", "still open");
    a.dispose();
    b.dispose();
  },
};

export async function runSio(name, server, make) {
  const scenario = sioScenarios[name];
  if (scenario === undefined) fail(`no Socket.IO scenario named ${name}`);
  await scenario(make, server);
}

export function sioNames() {
  return Object.keys(sioScenarios);
}
