// A stock NestJS app on @nestjs/platform-ws, written as such apps are (a gateway, a
// module, NestFactory), with the decorators applied by hand so that it runs as plain
// JavaScript. The market gateway of the admin frontends wsocket replaces `Wsocket.js`
// for: `{event, data}` frames, the text heartbeat `PONG` (which Nest's parser drops: it
// is not JSON), `get_unread_message` answered without an id (a handler sees only `data`),
// `market_subscribe` pushing `market_data`, and the usual credential check that closes
// the socket in `handleConnection`. `PORT` picks the port; it prints `listening PORT`.
require("reflect-metadata");
const { Module } = require("@nestjs/common");
const { NestFactory } = require("@nestjs/core");
const { WebSocketGateway, SubscribeMessage } = require("@nestjs/websockets");
const { WsAdapter } = require("@nestjs/platform-ws");

const decorate = (decorators, target, key) =>
  key === undefined
    ? Reflect.decorate(decorators, target)
    : Reflect.decorate(decorators, target.prototype, key, Object.getOwnPropertyDescriptor(target.prototype, key));

let MarketGateway = class MarketGateway {
  constructor() {
    this.tickers = new Map();
  }

  handleConnection(client, request) {
    const token = new URL(request.url, "http://localhost").searchParams.get("token");
    // The usual JWT check: a bad token is disconnected right away.
    if (token !== null && token !== "good-token") client.close();
  }

  handleDisconnect(client) {
    clearInterval(this.tickers.get(client));
    this.tickers.delete(client);
  }

  unread() {
    return { event: "get_unread_message", data: { count: 3 } };
  }

  subscribe(client, data) {
    const symbols = Array.isArray(data?.symbols) ? data.symbols : [];
    clearInterval(this.tickers.get(client));
    let n = 0;
    const tick = () => {
      n += 1;
      for (const symbol of symbols) client.send(JSON.stringify({ event: "market_data", data: { symbol, price: 100 + (n % 7), n } }));
    };
    this.tickers.set(client, setInterval(tick, 50));
    return { event: "market_subscribed", data: { symbols } };
  }
};
decorate([SubscribeMessage("get_unread_message")], MarketGateway, "unread");
decorate([SubscribeMessage("market_subscribe")], MarketGateway, "subscribe");
MarketGateway = decorate([WebSocketGateway({ path: "/market" })], MarketGateway);

let AppModule = class AppModule {};
AppModule = decorate([Module({ providers: [MarketGateway] })], AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ["error"] });
  app.useWebSocketAdapter(new WsAdapter(app));
  const port = Number(process.env.PORT ?? 0);
  await app.listen(port, "127.0.0.1");
  console.log(`listening ${app.getHttpServer().address().port}`);
}
main();
