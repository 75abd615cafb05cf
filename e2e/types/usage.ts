// Type-checked by `tsc` in the test tier (e2e/run.mjs) against the installed package:
// every option and every event, and `@ts-expect-error` lines that fail the check if a
// type ever degrades to `any` or accepts what it must not.
import { preconnect as earlyOpen } from "wsocket/preconnect";
import init, { isReady, preconnect, ready, WsClient, type WsClientOptions, type WsError, type WsState, type WsStats } from "wsocket";
import { Wsocket, type WsocketOptions } from "wsocket/compat";
import * as react from "wsocket/react";
import * as vue from "wsocket/vue";
import { ref } from "vue";

const options: WsClientOptions = {
  protocol: "json",
  eventKey: "type",
  topics: ["task:progress"],
  token: async () => "a token",
  tokenIn: "message",
  reconnect: true,
  minDelayMs: 500,
  maxDelayMs: 30000,
  maxAttempts: null,
  stableAfterMs: 5000,
  connectTimeoutMs: 10000,
  heartbeatIntervalMs: 25000,
  heartbeatTimeoutMs: 10000,
  heartbeatMessage: "PONG",
  queueMax: 1000,
  queueOverflow: "drop-oldest",
  requestTimeoutMs: 10000,
  maxMessageBytes: 1 << 20,
  subprotocols: ["wsocket.v1", "json"],
  crossTab: true,
  outbox: "indexeddb",
  debug: false,
};
const socketio: WsClientOptions = { protocol: "socketio", namespace: "/events", token: "jwt" };
// @ts-expect-error: an unknown option
const typo: WsClientOptions = { maxDelay: 10 };
// @ts-expect-error: a frame limit is a number of bytes
const badLimit: WsClientOptions = { maxMessageBytes: "1mb" };
// @ts-expect-error: not a protocol
const badProtocol: WsClientOptions = { protocol: "xml" };
// @ts-expect-error: subprotocols are strings
const badSubprotocols: WsClientOptions = { subprotocols: [1] };
// @ts-expect-error: the outbox is "memory" or "indexeddb"
const badOutbox: WsClientOptions = { outbox: "localStorage" };

export async function main(): Promise<void> {
  await init();
  await ready();
  await ready({ module_or_path: "/assets/wsocket_bg.wasm" });
  await ready(new URL("https://cdn.example/wsocket_bg.wasm"));
  // @ts-expect-error: not a source of the wasm
  await ready(42);
  const loaded: boolean = isReady();
  const ws = new WsClient("ws://127.0.0.1:8080/ws", options);
  const signed = new WsClient(async () => "wss://example.invalid/ws?sig=x", { protocol: "raw" });
  const cancel = new AbortController();
  void signed.request("get", {}, { timeoutMs: 100, signal: cancel.signal }).catch(() => {});
  cancel.abort();
  signed.free();
  const off: () => void = ws.on("state", ({ from, to }) => {
    const a: WsState = from;
    const b: WsState = to;
    // @ts-expect-error: a state is not a number
    const n: number = to;
  });
  ws.on("error", (e) => {
    if (e.code === "AUTH_FAILED" || e.code === "LOAD_FAILED" || e.code === "SERVER_ERROR") return;
    // @ts-expect-error: a typo in an error code is caught
    if (e.code === "AUTH_FAILD") return;
  });
  void ws.request("get_unread_message", {}, { replyEvent: "get_unread_message" });
  // @ts-expect-error: replyEvent names an event
  void ws.request("get_unread_message", {}, { replyEvent: 1 });
  ws.on("open", () => {});
  ws.on("open", ({ subprotocol }) => subprotocol.toUpperCase());
  ws.on("close", ({ code, reason, wasClean }) => {
    const c: number = code;
    const r: string = reason;
    const w: boolean = wasClean;
  });
  ws.on("error", (e) => {
    const err: WsError = e;
    const code: string = e.code;
    const field: string | undefined = e.field;
    const size: number | undefined = e.size;
  });
  ws.on("reconnecting", ({ attempt, delayMs }) => {
    const n: number = attempt + delayMs;
  });
  ws.on("restored", ({ count, ids }) => {
    const n: number = count;
    const first: string | undefined = ids[0];
  });
  ws.on("gap", ({ topic, expected, got }) => {
    const t: string = topic;
    const g: number | null = got;
    const e: number = expected;
  });
  ws.on<{ percent: number }>("task_progress", (data, message) => {
    const p: number = data.percent;
    const topic: string | undefined = message.topic;
  });
  ws.on("*", (data, message) => {
    const t: string | undefined = message.type;
  });
  // @ts-expect-error: `reconnecting` has no `code`
  ws.on("reconnecting", ({ code }) => {});
  ws.once("open", () => {});
  ws.off("open");
  ws.connect();
  const id: string | undefined = ws.send({ type: "custom_action", data: {} });
  ws.send("text");
  ws.send(new Uint8Array([1, 2]));
  ws.send({ type: "order" }, { reliable: true });
  // @ts-expect-error: a number is not a message
  ws.send(42);
  const reply = await ws.request<{ count: number }>("get_unread_message", {}, { timeoutMs: 3000, retry: true });
  const count: number | undefined = reply.data?.count;
  ws.subscribe(["user:42"]);
  ws.unsubscribe("user:42");
  const state: WsState = ws.state;
  const stats: WsStats = ws.stats();
  const rtt: number | null = stats.rttMs;
  const skipped: number = stats.malformed + stats.oversized;
  const via: "sharedworker" | "weblocks" | "tab" | undefined = stats.crossTab;
  const restored: number | undefined = stats.restored;
  ws.debug = true;
  ws.close(1000, "bye");
  ws.free();
  off();

  const legacyOptions: WsocketOptions = {
    onOpen: () => {},
    onClose: ({ code }) => {},
    onError: (e) => console.log(e.code),
    onMessage: (frame) => console.log(frame.event),
    reconnectInterval: 3000,
    reconnectCount: 10,
    heartbeatInterval: 10000,
    debug: true,
  };
  const legacy = new Wsocket("ws://127.0.0.1:8080/legacy", legacyOptions);
  legacy.on<{ price: number }>("market_data", (message, data) => {
    const m: string | undefined = message;
    const p: number = data.price;
  });
  legacy.connection().send({ event: "market_subscribe" });
  legacy.close();
  const legacyState: WsState = legacy.state;

  // The hooks, type-checked only (they need a component to run).
  type UseReact = ReturnType<typeof react.useWsocket>;
  const r: UseReact = { client: null, state: "connecting", error: null };
  const rs: WsState = r.state;
  const fromVue = vue.useWsocket("/ws", { topics: ["a"] });
  const vs: WsState = fromVue.state.value;
  const vc: WsClient | null = fromVue.client.value;
  vue.useWsocketEvent(fromVue.client, "state", ({ to }) => {
    const s: WsState = to;
  });
  vue.useWsocketTopic(ref<WsClient | null>(null), "market:ticker", (data: { price: number }) => {});
  const messages = vue.useWsocketMessages<{ n: number }>(fromVue.client, "burst", { topic: true, limit: 10 });
  const first: number | undefined = messages.value[0]?.data?.n;
  react.useWsocketEvent(r.client, "reconnecting", ({ attempt }) => {
    const a: number = attempt;
  });
  const list = react.useWsocketMessages<{ n: number }>(r.client, "burst");
  const n: number | undefined = list[0]?.data?.n;
}

// `preconnect`, from the small entry and from the main one: one function.
const early: boolean = earlyOpen("wss://example.com/ws", { subprotocols: ["v1"] }) || preconnect("/ws");
void early;
// @ts-expect-error: preconnect takes the client's URL and only `subprotocols`
preconnect("wss://example.com/ws", { protocol: "raw" });
