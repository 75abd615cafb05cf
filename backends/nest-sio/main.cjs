// A stock NestJS app on @nestjs/platform-socket.io, written as such apps are, with the
// decorators applied by hand so that it runs as plain JavaScript: the `/events` gateway
// (join, leave and message with acks, rooms) and the usual JWT check in
// `handleConnection`, which disconnects a client whose token does not verify.
// `PORT` picks the port, `JWT_SECRET` the HS256 secret (a test value); it prints
// `listening PORT`.
require("reflect-metadata");
const jwt = require("jsonwebtoken");
const { Module } = require("@nestjs/common");
const { NestFactory } = require("@nestjs/core");
const { WebSocketGateway, SubscribeMessage } = require("@nestjs/websockets");

const secret = process.env.JWT_SECRET ?? "test-secret";

const decorate = (decorators, target, key) =>
  key === undefined
    ? Reflect.decorate(decorators, target)
    : Reflect.decorate(decorators, target.prototype, key, Object.getOwnPropertyDescriptor(target.prototype, key));

let EventsGateway = class EventsGateway {
  handleConnection(client) {
    try {
      const claims = jwt.verify(String(client.handshake.auth?.token ?? ""), secret);
      client.data.user = claims.sub;
    } catch {
      client.disconnect();
    }
  }

  join(client, body) {
    if (typeof body?.room !== "string") return { success: false, message: "room is required" };
    client.join(body.room);
    client.to(body.room).emit("user:joined", { userId: client.data.user, room: body.room });
    return { success: true, room: body.room };
  }

  leave(client, body) {
    client.leave(body?.room);
    return { success: true, room: body?.room };
  }

  message(client, body) {
    const payload = { senderId: client.data.user, content: String(body?.content ?? ""), timestamp: Date.now() };
    if (body?.room) client.to(body.room).emit("message", payload);
    else client.broadcast.emit("message", payload);
    return { success: true };
  }
};
decorate([SubscribeMessage("join")], EventsGateway, "join");
decorate([SubscribeMessage("leave")], EventsGateway, "leave");
decorate([SubscribeMessage("message")], EventsGateway, "message");
EventsGateway = decorate([WebSocketGateway({ namespace: "events", cors: { origin: true } })], EventsGateway);

let AppModule = class AppModule {};
AppModule = decorate([Module({ providers: [EventsGateway] })], AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ["error"] });
  const port = Number(process.env.PORT ?? 0);
  await app.listen(port, "127.0.0.1");
  console.log(`listening ${app.getHttpServer().address().port}`);
}
main();
