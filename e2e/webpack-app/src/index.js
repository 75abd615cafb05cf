// A webpack 5 build of a plain app: no loader, no plugin, no `experiments` flag.
import { ready, WsClient } from "wsocket";

const query = new URLSearchParams(location.search);
const url = query.get("ws");
ready().then(() => {
  const ws = new WsClient(url, { topics: ["market:ticker"], crossTab: query.get("crossTab") === "1" });
  ws.on("state", ({ to }) => {
    document.body.dataset.state = to;
    if (to === "open") document.body.dataset.via = ws.stats().crossTab ?? "";
  });
  ws.on("market_data", ({ symbol }) => (document.body.dataset.symbol = symbol));
  ws.connect();
});
