// Written against the old hand-written `Wsocket.js` API, as admin frontends use it. The
// only line that changed in a migration is the import. `window.legacy` is what the test
// reads.
import Wsocket from "wsocket/compat";

const url = new URLSearchParams(location.search).get("ws");
const legacy = (window.legacy = { opens: 0, closes: 0, errors: [], ticks: 0, second: 0, unread: [] });

// Old bug 6: close() before connection() threw.
const unused = new Wsocket(url, {});
unused.close();

const socket = new Wsocket(url, {
  onOpen() {
    legacy.opens += 1;
    socket.send({ event: "market_subscribe", data: { symbols: ["BTC-USD"] } });
  },
  onClose() {
    legacy.closes += 1;
  },
  onError(error) {
    legacy.errors.push(error.code ?? String(error));
  },
});

// Old bug 5: send() before the socket existed threw.
socket.send({ event: "get_unread_message" });

socket.on("market_data", (message, data) => {
  legacy.ticks += 1;
  legacy.price = data.price;
  document.getElementById("ticks").textContent = legacy.ticks;
});
// Old bug 1: a second on() replaced the first.
socket.on("market_data", () => {
  legacy.second += 1;
});
socket.on("get_unread_message", (message, data) => {
  legacy.unread.push({ message, count: data.count });
});

socket.connection();
window.socket = socket;
