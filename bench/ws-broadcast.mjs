// The baseline of the fan-out benchmark: a Node `ws` server that broadcasts every message
// it receives to every other client, as in the `ws` README. Loopback only.
// usage: node bench/ws-broadcast.mjs   (prints "listening on 127.0.0.1:PORT")
import { WebSocketServer, WebSocket } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== socket && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on("listening", () => console.log(`listening on 127.0.0.1:${wss.address().port}`));
