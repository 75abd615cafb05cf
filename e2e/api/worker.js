// A module worker that uses the package off the main thread (e2e/run.mjs, "in a Web
// Worker"): no `document`, no `window`, its own copy of the wasm.
import init, { WsClient } from "/pkg/index.js";

self.onmessage = async ({ data: { url } }) => {
  try {
    await init();
    const client = new WsClient(url, { heartbeatIntervalMs: 0 });
    const errors = [];
    client.on("error", (e) => errors.push(e.code));
    await new Promise((resolve) => {
      client.on("open", resolve);
      client.connect();
    });
    const reply = await client.request("echo", { n: 5 }, { timeoutMs: 5000 });
    const echoed = new Promise((resolve) => client.once("echo", resolve));
    client.send({ type: "echo", data: "sent" });
    const pushed = await echoed;
    const { messagesIn, messagesOut } = client.stats();
    // A path resolves against the worker's own location (no INVALID_URL without a page).
    let path = "accepted";
    try {
      new WsClient("/ws", {}).free();
    } catch (e) {
      path = e.code;
    }
    self.postMessage({ reply: reply.data, pushed, state: client.state, messagesIn, messagesOut, errors, path });
    client.close();
    client.free();
  } catch (e) {
    self.postMessage({ failed: `${e.code ?? e.name}: ${e.message}` });
  }
};
