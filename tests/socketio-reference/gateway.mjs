// The reference implementation for the Socket.IO browser tests: the `socket.io` v4 server
// from npm, mirroring the companion server's gateway (server/src/sio.rs), which mirrors a
// NestJS EventsGateway on namespace /events. Started by `cargo xtask test`:
// `node tests/socketio-reference/gateway.mjs [--port 0] [--token good-token]`; prints
// "socket.io reference listening on HOST:PORT". Loopback only.
import { createServer } from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(arg("--port", "0"));
const token = arg("--token", "good-token");
const [pingInterval, pingTimeout] = arg("--ping-ms", "300,200").split(",").map(Number);
const MAX_CONTENT = 1000;

const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  pingInterval,
  pingTimeout,
  maxHttpBufferSize: 64 * 1024,
  // As a NestJS gateway may set it: a client back within two minutes gets its session
  // (rooms, data) and the events it missed. The companion server's socketioxide has no
  // such extension, so only the reference runs `sioConnectionStateRecovery`.
  connectionStateRecovery: { maxDisconnectionDuration: 120000 },
});
// A namespace named outside ASCII, open to all: an `echo` is answered with a
// `bienvenue` event, then echoed in its ack.
io.of("/événements").on("connection", (socket) => {
  socket.on("echo", (body, ack) => {
    socket.emit("bienvenue", { nsp: "/événements" });
    if (typeof ack === "function") ack(body);
  });
});
const events = io.of("/events");

events.use((socket, next) => {
  const given = socket.handshake.auth?.token ?? socket.handshake.query?.token;
  if (!given) return next(new Error("unauthorized: no token"));
  if (given !== token) return next(new Error("unauthorized: invalid token"));
  socket.data.userId = socket.id;
  next();
});

events.on("connection", (socket) => {
  const user = socket.data.userId;
  const refuse = (ack, message) => typeof ack === "function" && ack({ success: false, message });
  socket.on("message", (body = {}, ack) => {
    const content = String(body.content ?? "");
    if ([...content].length > MAX_CONTENT) return refuse(ack, "content must be at most 1000 characters");
    const payload = { senderId: user, content, timestamp: Date.now() };
    if (body.room) socket.to(body.room).emit("message", payload);
    else socket.broadcast.emit("message", payload);
    if (typeof ack === "function") ack({ success: true });
  });
  socket.on("join", (body = {}, ack) => {
    const room = body.room;
    if (!room) return refuse(ack, "room is required");
    if (room.startsWith("private:") && room !== `private:${user}`) {
      return refuse(ack, "forbidden: you may not join this room");
    }
    socket.join(room);
    socket.to(room).emit("user:joined", { userId: user, room });
    if (typeof ack === "function") ack({ success: true, room });
  });
  // Binary attachments both ways, as a NestJS gateway takes a Buffer.
  socket.on("file", (body = {}, ack) => {
    const parts = Array.isArray(body.parts) ? body.parts : [];
    const size = [body.bytes, ...parts].reduce((n, b) => n + (Buffer.isBuffer(b) ? b.length : 0), 0);
    socket.emit("file:echo", body);
    if (typeof ack === "function") ack({ success: true, name: body.name, size, bytes: body.bytes });
  });
  socket.on("file:ask-me", () => {
    socket.emit("file:ask", { want: "bytes" }, (answer) => socket.emit("file:answered", answer));
  });
  socket.on("leave", (body = {}, ack) => {
    const room = body.room;
    if (!room) return refuse(ack, "room is required");
    socket.leave(room);
    socket.to(room).emit("user:left", { userId: user, room });
    if (typeof ack === "function") ack({ success: true, room });
  });
});

http.listen(port, "127.0.0.1", () => {
  const { address, port: bound } = http.address();
  console.log(`socket.io reference listening on ${address}:${bound}`);
});
