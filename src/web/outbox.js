// `outbox: "indexeddb"`: reliable sends (`send(msg, { reliable: true })`, `request(...,
// { retry: true })`) kept in IndexedDB until they are settled, so that a reload, a crash
// or a closed tab does not lose them: the next client of the same URL sends them again
// with their original ids, and a server that remembers the ids it processed (as the
// companion server does) applies each once. Loaded by the hub (`loadBox`) only for a
// client with that option; it imports nothing, so a bundle's chunk is this file alone.
//
// A record is the wire frame as the core sent it, under the client's URL and its id,
// with the client (its id prefix) that owns it. It is put in a transaction committed in
// a microtask after the send (one for the sends of one script run) and deleted when the
// send is settled: acknowledged, answered with an error, timed out, or abandoned by the
// app (`close()`, `free()`). A page that goes away settles nothing, so its records stay.
//
// Each client holds a Web Lock named after its URL and prefix for as long as its page
// lives, and watches the other clients of its URL: those with records when it starts,
// those holding their lock then, and those that start later (each says so on a
// BroadcastChannel once its lock is held). It waits for each one's lock: granted, that
// client is gone (its tab closed, reloaded or crashed), and its records are sent again
// through this client (as reliable sends with their own ids, oldest first, as many as
// its queue takes; the rest wait for the next client), which owns them from then on. The
// lock lets one watcher at a time in, so each record has one sender. Without Web Locks,
// only records whose owner is not this page's are taken, at start.

// A WsError, as early.js's `makeError` makes them (imported, it would split early.js
// into a chunk of its own in a bundle, one more request at start).
const makeError = (code, message, cause) => Object.assign(new Error(message), { name: "WsError", code, cause });

const DB = "wsocket-outbox";
const STORE = "sends";
const LOCK = "wsocket-outbox:";
const locks = globalThis.navigator?.locks;

let opened;
function database() {
  opened ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: ["key", "id"] }).createIndex("key", "key");
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return opened;
}

const done = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

/**
 * The outbox of `hub`'s client (`hub.opts.url` is its URL as given), once its records
 * are readable. Where IndexedDB cannot be opened (a private window that refuses it, no
 * IndexedDB at all), or the client's URL is a provider (no fixed key), an
 * `OUTBOX_UNAVAILABLE` error is emitted and sends are kept in memory only, as without
 * the option.
 */
export async function start(hub) {
  const key = hub.opts.url;
  let db;
  try {
    if (key === undefined) throw new Error("the outbox keeps the sends of a client whose URL is a string, not a provider");
    db = await database();
  } catch (cause) {
    opened = undefined;
    hub.emitError(makeError("OUTBOX_UNAVAILABLE", `the outbox is not available: ${cause?.message ?? cause}`, cause));
    return { keep() {}, restored: 0 };
  }
  const box = new Outbox(hub, db, key);
  // The sends made before this chunk loaded, then every later one (`Hub.keep`).
  hub.box = box;
  for (const [w, frame] of hub.unboxed ?? []) box.keep(w, frame);
  hub.unboxed = null;
  // This client's records stay its own while its page lives; once that lock is held,
  // the other clients of the URL hear of it and watch it.
  locks?.request(box.lock(hub.prefix), () => {
    announce?.postMessage({ key, owner: hub.prefix });
    return new Promise(() => {});
  });
  boxes.add(box);
  const records = await done(db.transaction(STORE).objectStore(STORE).index("key").getAll(key));
  for (const r of records) box.watch(r.owner);
  if (locks !== undefined) {
    const held = (await locks.query()).held ?? [];
    for (const { name } of held) if (name?.startsWith(LOCK) && name.endsWith(` ${key}`)) box.watch(name.slice(LOCK.length, name.indexOf(" ")));
  }
  return box;
}

// Clients that start later say so here (`start`); every outbox of their URL watches them.
const boxes = new Set();
const announce = locks !== undefined && typeof BroadcastChannel === "function" ? new BroadcastChannel("wsocket-outbox") : undefined;
if (announce !== undefined) {
  announce.onmessage = (e) => {
    for (const box of boxes) if (box.key === e.data?.key) box.watch(e.data.owner);
  };
}

class Outbox {
  constructor(hub, db, key) {
    this.hub = hub;
    this.db = db;
    this.key = key;
    // Writes and deletes of this task, committed together.
    this.puts = [];
    this.dels = [];
    this.flushing = false;
    this.restored = 0;
    // The clients of the URL whose records this one takes when they go (itself: never).
    this.watched = new Set([hub.prefix]);
  }

  // The Web Lock client `owner` of this URL holds while its page lives.
  lock(owner) {
    return `${LOCK}${owner} ${this.key}`;
  }

  // Takes the records of client `owner` once it is gone (its lock is free).
  watch(owner) {
    if (this.watched.has(owner)) return;
    this.watched.add(owner);
    if (locks === undefined) this.restore(owner);
    else locks.request(this.lock(owner), () => this.restore(owner));
  }

  /** Keeps reliable send `w` (a hub waiter, `{id, resolve, reject}`) whose frame is `frame`. */
  keep(w, frame) {
    if (typeof frame !== "string") return;
    this.puts.push({ key: this.key, id: w.id, owner: this.hub.prefix, frame, at: Date.now() });
    const { resolve, reject } = w;
    w.resolve = (v) => {
      this.drop(w.id);
      resolve(v);
    };
    w.reject = (e) => {
      this.drop(w.id);
      reject(e);
    };
    this.flush();
  }

  drop(id) {
    this.dels.push(id);
    this.flush();
  }

  // One transaction for what this task kept and settled, committed at once.
  flush() {
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      const puts = this.puts.splice(0);
      const dels = this.dels.splice(0);
      try {
        const tx = this.db.transaction(STORE, "readwrite");
        const store = tx.objectStore(STORE);
        for (const r of puts) store.put(r);
        for (const id of dels) store.delete([this.key, id]);
        tx.onerror = () => this.failed(tx.error);
        tx.commit?.();
      } catch (cause) {
        this.failed(cause);
      }
    });
  }

  failed(cause) {
    this.hub.emitError(makeError("OUTBOX_UNAVAILABLE", `the outbox could not be written: ${cause?.message ?? cause}`, cause));
  }

  // Sends again, through this client, the records of `owner`, who is gone.
  async restore(owner) {
    const all = await done(this.db.transaction(STORE).objectStore(STORE).index("key").getAll(this.key));
    const mine = all.filter((r) => r.owner === owner).sort((a, b) => a.at - b.at);
    const client = this.hub.owner?.deref();
    const ids = [];
    for (const r of mine) {
      let msg;
      try {
        msg = JSON.parse(r.frame);
      } catch {
        this.drop(r.id);
        continue;
      }
      try {
        client.send(msg, { reliable: true });
      } catch {
        // The queue is full (or the client was freed): the rest wait for the next client.
        break;
      }
      ids.push(r.id);
    }
    if (ids.length === 0) return;
    this.restored += ids.length;
    this.hub.emit("restored", { count: ids.length, ids });
  }
}
