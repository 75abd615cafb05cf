/** Opens the WebSocket a client will open, before the client exists: call it as early as
 * the URL is known (before `await ready()`), so the handshake overlaps the `.wasm`
 * download (README, "First load"). The first `WsClient` that opens the same URL with the
 * same `subprotocols` takes the socket and everything it received meanwhile; one no
 * client takes within 10 s is closed. Returns false where there is no `WebSocket`
 * (server-side rendering) or when that URL is already waiting. The client must open the
 * URL as given: protocol `"json"` or `"raw"`, with no token in the query. */
export function preconnect(url: string, options?: { subprotocols?: string | string[] }): boolean;
