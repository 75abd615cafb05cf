// The baseline of the many-node fan-out benchmark: a `socket.io` server that broadcasts
// every `fan` event it receives to every other socket, across processes through
// `@socket.io/redis-adapter` (as socket.io's docs set it up) when given a Redis URL.
// Loopback only.
// usage: node bench/sio-broadcast.mjs [redis://127.0.0.1:PORT]   (prints "listening on 127.0.0.1:PORT")
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const redisUrl = process.argv[2];
const http = createServer();
const io = new Server(http, { transports: ["websocket"] });
if (redisUrl) {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}
io.on("connection", (socket) => {
  socket.on("fan", (data) => socket.broadcast.emit("fan", data));
});
http.listen(0, "127.0.0.1", () => console.log(`listening on 127.0.0.1:${http.address().port}`));
