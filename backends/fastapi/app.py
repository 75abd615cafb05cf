"""A FastAPI + uvicorn WebSocket server as teams write one, which wsocket's test tier
runs against: typed JSON (`{type, id, data}`), topics by query (`/ws?topics=a,b`) and by
`subscribe`, pushes with a per-topic `seq` and a per-process `epoch` (no replay: a
restart is a new epoch), batches of at most 10 pushes per 100 ms, a rate limit of 100
messages per second, and `UNKNOWN_MESSAGE_TYPE` for anything else. `POST /publish`
({topic, data}) publishes. Run: `uvicorn app:app --port PORT`."""

import asyncio
import json
import time
import uuid
from collections import defaultdict

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

app = FastAPI()
EPOCH = uuid.uuid4().hex[:8]
RATE = 100
BATCH = 10
WINDOW = 0.1


class Hub:
    def __init__(self):
        self.subscribers = defaultdict(set)
        self.seq = defaultdict(int)

    def publish(self, topic, data):
        self.seq[topic] += 1
        push = {"type": "tick", "topic": topic, "data": data, "seq": self.seq[topic], "epoch": EPOCH}
        for conn in list(self.subscribers[topic]):
            conn.outbox.append(push)
        return self.seq[topic]


hub = Hub()


class Conn:
    def __init__(self, ws):
        self.ws = ws
        self.outbox = []
        self.topics = set()
        self.window = time.monotonic()
        self.count = 0

    def join(self, topics):
        for t in topics:
            self.topics.add(t)
            hub.subscribers[t].add(self)

    def leave_all(self):
        for t in self.topics:
            hub.subscribers[t].discard(self)

    async def flush(self):
        # At most 10 pushes per 100 ms, as one `batch` frame.
        while True:
            await asyncio.sleep(WINDOW)
            if self.outbox:
                chunk, self.outbox = self.outbox[:BATCH], self.outbox[BATCH:]
                await self.ws.send_text(json.dumps({"type": "batch", "messages": chunk}))


@app.websocket("/ws")
async def socket(ws: WebSocket):
    await ws.accept()
    conn = Conn(ws)
    query = ws.query_params.get("topics")
    if query:
        conn.join([t for t in query.split(",") if t])
    flusher = asyncio.create_task(conn.flush())
    try:
        while True:
            text = await ws.receive_text()
            now = time.monotonic()
            if now - conn.window >= 1:
                conn.window, conn.count = now, 0
            conn.count += 1
            try:
                msg = json.loads(text)
            except ValueError:
                msg = None
            mid = msg.get("id") if isinstance(msg, dict) else None
            if conn.count > RATE:
                await ws.send_text(json.dumps({"type": "error", "id": mid, "error": {"code": "RATE_LIMITED", "message": "more than 100 messages per second"}}))
                continue
            if not isinstance(msg, dict):
                await ws.send_text(json.dumps({"type": "error", "error": {"code": "BAD_REQUEST", "message": "not a JSON object"}}))
                continue
            kind, data = msg.get("type"), msg.get("data") or {}
            if kind == "ping":
                await ws.send_text(json.dumps({"type": "pong", "id": mid, "timestamp": msg.get("timestamp")}))
            elif kind == "subscribe":
                topics = [t for t in data.get("topics", []) if isinstance(t, str)]
                conn.join(topics)
                await ws.send_text(json.dumps({"type": "subscribed", "id": mid, "data": {"topics": topics}}))
            elif kind == "unsubscribe":
                for t in data.get("topics", []):
                    conn.topics.discard(t)
                    hub.subscribers[t].discard(conn)
                await ws.send_text(json.dumps({"type": "unsubscribed", "id": mid, "data": {"topics": data.get("topics", [])}}))
            elif kind == "publish":
                seq = hub.publish(msg.get("topic"), msg.get("data"))
                await ws.send_text(json.dumps({"type": "ack", "id": mid, "data": {"seq": seq}}))
            elif kind == "echo":
                await ws.send_text(json.dumps({"type": "echo", "id": mid, "data": data}))
            else:
                await ws.send_text(json.dumps({"type": "error", "id": mid, "error": {"code": "UNKNOWN_MESSAGE_TYPE", "message": f"unknown message type {kind!r}"}}))
    except WebSocketDisconnect:
        pass
    finally:
        flusher.cancel()
        conn.leave_all()


class Publish(BaseModel):
    topic: str
    data: object = None


@app.post("/publish")
async def publish(body: Publish):
    return {"seq": hub.publish(body.topic, body.data), "epoch": EPOCH}
