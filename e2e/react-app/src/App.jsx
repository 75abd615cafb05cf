import { useState } from "react";
import { useWsocket, useWsocketEvent, useWsocketMessages, useWsocketTopic } from "wsocket/react";

// `?ws=` picks the server (the e2e test serves the built app from another origin);
// `?crossTab=1` shares the connection with the app's other tabs.
const query = new URLSearchParams(location.search);
const url = query.get("ws") ?? "/ws";
const crossTab = query.get("crossTab") === "1";

function Ticker({ client }) {
  const [prices, setPrices] = useState({});
  useWsocketTopic(client, "market:ticker", ({ symbol, price }) =>
    setPrices((p) => ({ ...p, [symbol]: price })),
  );
  return (
    <table>
      <tbody>
        {Object.entries(prices).map(([symbol, price]) => (
          <tr key={symbol} data-testid="ticker-row">
            <td>{symbol}</td>
            <td>{price.toFixed(2)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Burst({ client }) {
  // Every message of a burst, even when React renders the burst once.
  const messages = useWsocketMessages(client, "e2e:burst", { topic: true, limit: 10000 });
  return <p data-testid="burst">{messages.length}</p>;
}

export function App() {
  // Unmounting every user of the URL must close its connection.
  const [mounted, setMounted] = useState(true);
  return (
    <>
      <button data-testid="unmount" onClick={() => setMounted(false)}>
        Unmount
      </button>
      {mounted && <Live />}
    </>
  );
}

function Live() {
  const { client, state, error } = useWsocket(url, { minDelayMs: 100, maxDelayMs: 1000, crossTab });
  // The same endpoint spelled as the WebSocket constructor also takes it: the same client.
  const other = useWsocket(url.replace(/^ws/i, "HTTP"));
  const [opens, setOpens] = useState(0);
  useWsocketEvent(client, "open", () => setOpens((n) => n + 1));
  return (
    <main>
      <h1>wsocket + React</h1>
      <p>
        state: <b data-testid="state">{state}</b>, opens: <b data-testid="opens">{opens}</b>,
        one client: <b data-testid="shared">{String(client !== null && client === other.client)}</b>,
        socket in: <b data-testid="via">{state === "open" ? client.stats().crossTab ?? "this tab" : ""}</b>
      </p>
      {error && <p data-testid="error">{error.message}</p>}
      <Ticker client={client} />
      <Burst client={client} />
    </main>
  );
}
