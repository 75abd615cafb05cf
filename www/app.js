// The demo: one WsClient on /ws, the demo feeds of the companion server, and buttons
// that break the connection through the test-control API.
import init, { WsClient } from "/pkg/index.js";

await init();

const cid = `demo-${Math.random().toString(36).slice(2, 8)}`;
const ws = new WsClient(`/ws?cid=${cid}`, {
  topics: ["market:ticker", "task:progress"],
  heartbeatIntervalMs: 2000,
  heartbeatTimeoutMs: 2000,
  minDelayMs: 250,
  maxDelayMs: 5000,
});

const $ = (id) => document.getElementById(id);
const log = (text, kind = "") => {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (kind) li.className = `ev-${kind}`;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
};

ws.on("state", ({ from, to }) => {
  $("state").textContent = to;
  $("state").className = `state ${to}`;
  $("toggle").textContent = to === "closed" ? "Connect" : "Disconnect";
  log(`state ${from} → ${to}`, "state");
});
ws.on("open", () => log("open"));
ws.on("close", ({ code, reason, wasClean }) => log(`close ${code}${reason ? ` (${reason})` : ""}${wasClean ? "" : ", not clean"}`));
ws.on("reconnecting", ({ attempt, delayMs }) => log(`reconnecting: attempt ${attempt} in ${Math.round(delayMs)} ms`));
ws.on("error", (e) => log(`error ${e.code}: ${e.message}`, "error"));
ws.on("subscribed", (data) => log(`subscribed ${data.topics.join(", ")}`));
ws.on("gap", ({ topic, expected, got }) => log(`gap on ${topic}: expected seq ${expected}${got === null ? "" : `, got ${got}`}`, "error"));
ws.on("user_message", (data, msg) => log(`${msg.topic}: ${JSON.stringify(data)}`));

const prices = new Map();
ws.on("market_data", ({ symbol, price }) => {
  const row = prices.get(symbol) ?? { price, updates: 0 };
  const tr = document.querySelector(`tr[data-symbol="${symbol}"]`) ?? (() => {
    const tr = document.createElement("tr");
    tr.dataset.symbol = symbol;
    tr.innerHTML = `<td>${symbol}</td><td class="price"></td><td class="n"></td>`;
    $("ticker").tBodies[0].append(tr);
    return tr;
  })();
  const cell = tr.querySelector(".price");
  cell.textContent = price.toFixed(2);
  cell.className = `price ${price >= row.price ? "up" : "down"}`;
  row.price = price;
  row.updates += 1;
  tr.querySelector(".n").textContent = row.updates;
  prices.set(symbol, row);
});

ws.on("task_progress", ({ task, percent }) => {
  let el = document.querySelector(`.task[data-task="${task}"]`);
  if (!el) {
    el = document.createElement("div");
    el.className = "task";
    el.dataset.task = task;
    el.innerHTML = `<div class="label"><span>${task}</span><span class="pct"></span></div><div class="bar"><div></div></div>`;
    $("tasks").append(el);
  }
  el.querySelector(".pct").textContent = `${percent}%`;
  el.querySelector(".bar > div").style.width = `${percent}%`;
});

const control = (path) => fetch(`${path}${path.includes("?") ? "&" : "?"}cid=${cid}`, { method: "POST" });
$("drop").onclick = () => control("/control/drop");
$("restart").onclick = () => control("/control/close?code=1012&reason=restart");
$("stall").onclick = () => control("/control/stall");
$("epoch").onclick = () => fetch("/control/epoch", { method: "POST" });
$("malformed").onclick = () => control("/control/malformed");
$("toggle").onclick = () => (ws.state === "closed" ? ws.connect() : ws.close(1000, "user"));

// Topics: the two feeds are subscribed by the `topics` option; others are added here.
const topics = new Map([["market:ticker", true], ["task:progress", true]]);
const renderTopics = () => {
  $("topics").replaceChildren(...[...topics].map(([topic, on]) => {
    const li = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = on;
    box.onchange = () => {
      if (box.checked) ws.subscribe(topic);
      else ws.unsubscribe(topic);
      topics.set(topic, box.checked);
      log(`${box.checked ? "subscribe" : "unsubscribe"} ${topic}`);
    };
    label.append(box, ` ${topic}`);
    li.append(label);
    return li;
  }));
};
$("topic-form").onsubmit = (e) => {
  e.preventDefault();
  const topic = $("topic-name").value.trim();
  if (topic && !topics.get(topic)) {
    ws.subscribe(topic);
    topics.set(topic, true);
    log(`subscribe ${topic}`);
    renderTopics();
  }
  $("topic-name").value = "";
};
$("publish-form").onsubmit = (e) => {
  e.preventDefault();
  // Over the WebSocket (the protocol's `publish`): the HTTP endpoint needs the server's
  // publish token, which a page must not hold.
  ws.send({ type: "publish", topic: $("publish-topic").value.trim(), event: "user_message", data: { text: $("publish-text").value } });
};
renderTopics();

setInterval(() => {
  const s = ws.stats();
  const rows = [
    ["messagesIn", "messages in", s.messagesIn], ["messagesOut", "messages out", s.messagesOut],
    ["reconnects", "reconnects", s.reconnects],
    ["rttMs", "RTT", s.rttMs === null ? "–" : `${Math.round(s.rttMs)} ms`],
    ["queueLength", "queue", s.queueLength], ["gaps", "gaps", s.gaps], ["malformed", "malformed", s.malformed],
  ];
  $("stats").innerHTML = rows.map(([id, k, v]) => `<dt>${k}</dt><dd data-stat="${id}">${v}</dd>`).join("");
}, 500);

ws.connect();
window.wsocketDemo = ws;
