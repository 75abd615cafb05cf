// `wsocket/preconnect`: only `preconnect`, with nothing else of the client, for an app
// that opens its socket first and loads the rest (`import("wsocket")`) while the
// handshake runs (README, "First load").
export { preconnect } from "./snippets/EARLY";
