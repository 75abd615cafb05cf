// Socket.IO, inbound: Engine.IO and Socket.IO packets read into the hub's events, acks
// and lifecycle. Loaded by the hub (`loadCodec`) only for a client with `protocol:
// "socketio"`, before its first socket opens: an app that never uses Socket.IO never
// downloads it (bundlers make it a chunk of its own). What a send needs (`sioEncode`)
// stays in the hub: `send()` encodes at once, before anything could load.
//
// Each function takes the hub: the state it reads and changes (`hub.sio`: the namespace,
// the open packet's limits, the attachments arriving, the recoverable session) is the
// hub's, as before. It imports nothing, so a bundle's Socket.IO chunk is this file alone.

/**
 * Where the Socket.IO server of `given` (a WebSocket URL) answers: `ws://host[:port]`
 * and `ws://host/` become `ws://host/socket.io/` (another path is kept), then the query
 * of Engine.IO v4's WebSocket transport, then the URL's own query parameters.
 */
export function url(given) {
  const q = given.indexOf("?");
  let base = q < 0 ? given : given.slice(0, q);
  // After `ws://` or `wss://` (the core gives only those).
  const slash = base.indexOf("/", base.indexOf("://") + 3);
  if (slash < 0) base += "/socket.io/";
  else if (slash === base.length - 1) base += "socket.io/";
  const query = q < 0 ? "" : given.slice(q + 1);
  return `${base}?EIO=4&transport=websocket${query === "" ? "" : `&${query}`}`;
}

/** One Socket.IO text frame of the socket, in Socket.IO mode. */
export function receive(hub, text) {
  const sio = hub.sio;
  const h = sioHeader(text);
  if (typeof h === "string") {
    hub.bad(`not a Socket.IO packet (${h})`, text);
    return;
  }
  const eio = h.eio;
  const start = h.start;
  if (eio === 2) {
    hub.write("3");
    return;
  }
  if (eio === 0) {
    let info;
    try {
      info = JSON.parse(text.slice(start));
    } catch {
      hub.bad("an Engine.IO open packet that is not JSON", text);
      return;
    }
    const num = (v, d) => (Number.isFinite(v) && v > 0 ? v : d);
    sio.max = num(info.maxPayload, 1000000);
    sio.window = num(info.pingInterval, 25000) + num(info.pingTimeout, 20000);
    // As socket.io-client: with a session, the CONNECT asks for it back from the offset on.
    const auth = sio.pid === undefined ? sio.auth : JSON.stringify(Object.assign({ pid: sio.pid, offset: sio.offset }, sio.auth && JSON.parse(sio.auth)));
    hub.write(`40${sio.part}${auth}`);
    return;
  }
  if (eio !== 4) return;
  // Attachments follow their packet's header at once (pings may come in between).
  if (sio.bin !== null) {
    hub.bad("a Socket.IO packet whose binary attachments did not all arrive", sio.bin.text);
    sio.bin = null;
  }
  const kind = h.kind;
  // BINARY_EVENT and BINARY_ACK announce their attachments.
  const count = h.count;
  if (h.nsp !== sio.nsp) {
    // Another namespace's packet: its attachments are skipped with it.
    if (count > 0) sio.bin = { text, count, buffers: [], skip: true };
    return;
  }
  let payload;
  if (start < text.length) {
    try {
      payload = JSON.parse(text.slice(start));
    } catch {
      hub.bad("a Socket.IO payload that is not JSON", text);
      return;
    }
  }
  if (count > 0) sio.bin = { kind, ack: h.ack, payload, text, count, buffers: [] };
  else packet(hub, kind, h.ack, payload, text, kind > 4 ? [] : null);
}

// A binary frame: the next attachment of the packet in `sio.bin`.
export function attachment(hub, data) {
  const bin = hub.sio.bin;
  if (bin === null) {
    hub.bad("a binary attachment no packet announced", data);
    return;
  }
  bin.buffers.push(data);
  if (bin.buffers.length < bin.count) return;
  hub.sio.bin = null;
  if (!bin.skip) packet(hub, bin.kind, bin.ack, bin.payload, bin.text, bin.buffers);
}

// One Socket.IO packet of this namespace; `buffers` are a binary packet's attachments.
function packet(hub, kind, ack, payload, text, buffers) {
  if (buffers !== null) {
    try {
      payload = reconstruct(payload, buffers);
    } catch (e) {
      hub.bad(e.message, text);
      return;
    }
    kind -= 3;
  }
  const sio = hub.sio;
  switch (kind) {
    case 0: {
      // A server with connection state recovery names the session; when it is not the
      // one asked for, the old offset means nothing to it.
      const pid = typeof payload?.pid === "string" ? payload.pid : undefined;
      if (pid !== sio.pid) sio.offset = undefined;
      sio.pid = pid;
      hub.port.opened(hub.gen, sio.window);
      return;
    }
    case 1:
      hub.port.disconnected(hub.gen);
      return;
    case 2: {
      const name = payload[0];
      if (typeof name !== "string") {
        hub.bad("an event without a name", text);
        return;
      }
      const msg = { type: name, data: payload[1], args: payload.slice(1) };
      if (ack >= 0) {
        msg.ack = (...args) => hub.write(hub.sioEncode(3, ack, args));
      } else if (sio.pid !== undefined && payload.length > 1 && typeof payload[payload.length - 1] === "string") {
        // In a recoverable session the server ends each event without an ack with its
        // offset (left in `args`, as socket.io-client leaves it).
        sio.offset = payload[payload.length - 1];
      }
      const ls = hub.lists();
      const list = hub.listeners(ls, name);
      if (list !== undefined) hub.fire(list, msg.data, msg);
      if (ls.any.length !== 0) hub.fire(ls.any, msg.data, msg);
      return;
    }
    case 3: {
      const request = hub.port.settle(ack);
      if (request === undefined) return;
      request.resolve({ type: "ack", id: request.id, data: payload[0], args: payload });
      return;
    }
    case 4:
      hub.connectError(payload);
  }
}

// `v` (parsed JSON) with each placeholder replaced by its attachment; throws on a
// placeholder with no such attachment.
function reconstruct(v, buffers) {
  if (typeof v !== "object" || v === null) return v;
  if (v._placeholder === true) {
    if (Number.isInteger(v.num) && v.num >= 0 && v.num < buffers.length) return buffers[v.num];
    throw new Error(`a placeholder for attachment ${v.num} of ${buffers.length}`);
  }
  for (const k of Object.keys(v)) v[k] = reconstruct(v[k], buffers);
  return v;
}
/**
 * The header of one Socket.IO text frame: an Engine.IO packet `<type>[data]`, and in a
 * message (4) a Socket.IO packet `<type>[<n>-][<nsp>,][<ack id>][<JSON>]`. Returns
 * `{eio, kind, count, ack, nsp, start}` (`kind` and `ack` -1 when absent; `start`, where
 * the JSON begins, an index into the string) or, for a malformed frame, why. Only the
 * payload's first character is checked against the packet type; `JSON.parse` reads it.
 */
export function sioHeader(text) {
  const digit = (i) => {
    const c = text.charCodeAt(i);
    return c >= 48 && c <= 57;
  };
  const eio = text.charCodeAt(0) - 48;
  if (text === "") return "an empty frame";
  if (!(eio >= 0 && eio <= 6)) return "an unknown Engine.IO packet type";
  if (eio === 0 && text[1] !== "{") return "a payload of the wrong shape";
  if (eio !== 4) return { eio, kind: -1, count: 0, ack: -1, nsp: "/", start: 1 };
  const kind = text.charCodeAt(1) - 48;
  if (!(kind >= 0 && kind <= 6)) return "an unknown Socket.IO packet type";
  let i = 2;
  let count = 0;
  if (kind > 4) {
    while (digit(i)) i++;
    if (i === 2 || i > 11 || text[i] !== "-") return "a bad attachment count";
    count = Number(text.slice(2, i++));
  }
  let nsp = "/";
  if (text[i] === "/") {
    // To the first comma (as socket.io-parser reads it); without one, the rest is the
    // namespace only when no payload follows (`41/events`).
    const comma = text.indexOf(",", i);
    if (comma >= 0) {
      nsp = text.slice(i, comma);
      i = comma + 1;
    } else if (!/[[{"]/.test(text.slice(i))) {
      nsp = text.slice(i);
      i = text.length;
    } else return "a namespace without a comma";
  }
  const from = i;
  while (digit(i)) i++;
  const ack = i > from ? Number(text.slice(from, i)) : -1;
  if (!Number.isSafeInteger(ack)) return "an ack id too large";
  const c = text[i];
  const shape = kind === 4 ? c === "{" || c === '"' : kind === 0 ? c === undefined || c === "{" : kind === 1 ? c === undefined : c === "[";
  if (!shape || ((kind === 3 || kind === 6) && ack < 0)) return "a payload of the wrong shape";
  return { eio, kind, count, ack, nsp, start: i };
}
