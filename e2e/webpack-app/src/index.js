// A webpack 5 build of a plain app: no loader, no plugin, no `experiments` flag.
import { ready, WsClient } from "wsocket";

const url = new URLSearchParams(location.search).get("ws");
ready().then(() => {
  const ws = new WsClient(url, { topics: ["market:ticker"] });
  ws.on("state", ({ to }) => (document.body.dataset.state = to));
  ws.on("market_data", ({ symbol }) => (document.body.dataset.symbol = symbol));
  ws.connect();
});
