//! Many nodes, one topic space, over Redis (`--redis URL`).
//!
//! Every node keeps its own subscribers (the `Hub`); Redis holds what must be one for all
//! of them: each topic's numbering, epoch and history, and the processed ids of reliable
//! sends. A publish on any node runs one script that numbers the push, appends it to the
//! topic's history and publishes it, atomically, so numbering has no gaps and history
//! and live pushes agree. Every node receives every push (one pattern subscription) and
//! hands it to its local subscribers in order; a node that finds a number missing (Redis
//! Pub/Sub drops messages of a slow or cut-off subscriber silently) reads it from the
//! history first. The keys, for a topic `T` (`{T}` is a Redis Cluster hash tag: a topic's
//! keys share a slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `wsocket:{T}:meta` | hash | `seq` (the last number given), `epoch`, `bytes` (of history) |
//! | `wsocket:{T}:hist` | stream | one entry per push, id `<seq>-1`, fields `e` (epoch), `m` (the push as sent) |
//! | `wsocket:push:T` | channel | `<seq> <epoch> <push>` for every publish |
//! | `wsocket:seen:<scope>` | sorted set | processed ids of one user or client, scored by time |
//!
//! A topic's keys expire `topic_idle` after its last publish, refreshed while any node
//! has a subscriber. When Redis loses them (a restart without persistence, eviction), the
//! next publish or subscribe starts a new epoch: clients get one `gap`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamRangeReply;
use redis::Script;
use wsocket::protocol::{Message, Position};

use crate::hub::{now_ms, Joined, Published};
use crate::{AppState, Config};

/// What the scripts share (each script is these functions and its body). `seen`
/// records a processed id in its scope's set, 1 the first time; bounded: ids older than
/// the TTL go, then the oldest past `most`, and the set expires with its newest id.
/// `known` gives a topic Redis does not know (new, expired or lost) the epoch the node
/// proposes, and its history starts afresh; it returns the topic's epoch.
const FUNCTIONS: &str = r#"
local function seen(key, id, most, ttl)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ttl)
  local added = redis.call('ZADD', key, 'NX', now, id)
  local n = redis.call('ZCARD', key)
  if n > most then redis.call('ZREMRANGEBYRANK', key, 0, n - most - 1) end
  redis.call('PEXPIRE', key, ttl)
  return added
end
local function known(meta, hist, proposed)
  local epoch = redis.call('HGET', meta, 'epoch')
  if epoch then return epoch end
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'epoch', proposed, 'seq', 0, 'bytes', 0)
  return proposed
end
"#;

/// Numbers a push, appends it to the history (trimmed to a count and a size), refreshes
/// the expiry and publishes it, in one step. With a third key (a scope's processed ids)
/// and an id, a repeated id publishes nothing and returns seq -1: the check and the
/// publish are one step, so a reliable publish takes effect exactly once.
const PUBLISH: &str = r#"
if KEYS[3] and seen(KEYS[3], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])) == 0 then
  return {-1, '', 0}
end
local epoch = known(KEYS[1], KEYS[2], ARGV[2])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local push = ARGV[1] .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '"}'
redis.call('XADD', KEYS[2], seq .. '-1', 'e', epoch, 'm', push)
local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', #push)
local len = redis.call('XLEN', KEYS[2])
local most, most_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while len > 1 and (len > most or bytes > most_bytes) do
  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[2], oldest[1])
  bytes = redis.call('HINCRBY', KEYS[1], 'bytes', -#oldest[2][4])
  len = len - 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local nodes = redis.call('PUBLISH', ARGV[6], seq .. ' ' .. epoch .. ' ' .. push)
return {seq, epoch, nodes}
"#;

/// Where a topic stands, and, given a client's position (`ARGV[3]` its epoch, `''` for
/// none; `ARGV[4]` its seq), whether what it missed is all in the history, and that.
const RECOVER: &str = r#"
local epoch = known(KEYS[1], KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if ARGV[3] == '' then return {seq, epoch, 1, {}} end
local since = tonumber(ARGV[4])
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
local first = seq + 1
if oldest then first = tonumber(string.match(oldest[1], '^%d+')) end
if ARGV[3] ~= epoch or since > seq or since + 1 < first then return {seq, epoch, 0, {}} end
local replay = {}
for i, entry in ipairs(redis.call('XRANGE', KEYS[2], (since + 1) .. '-0', '+')) do
  replay[i] = entry[2][4]
end
return {seq, epoch, 1, replay}
"#;

/// Records a processed id (`ARGV[1]`) in its scope (`KEYS[1]`): 1 the first time.
const SEEN: &str = r#"
return seen(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
"#;

fn script(body: &str) -> Script {
    Script::new(&[FUNCTIONS, body].concat())
}

const CHANNELS: &str = "wsocket:push:";
/// How long one Redis command may take before the node calls Redis unreachable.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Between two checks that this node has every push of its topics (a Pub/Sub message
/// Redis dropped), and refreshes of its topics' expiry.
const CHECK_EVERY: Duration = Duration::from_secs(2);
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// A failure to reach Redis, worded for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl From<redis::RedisError> for Unavailable {
    fn from(e: redis::RedisError) -> Self {
        Unavailable(format!("the message bus (Redis) is unreachable: {e}"))
    }
}

/// A publish waiting for its turn in the next pipeline: `EVALSHA` of `PUBLISH`.
struct Job {
    cmd: redis::Cmd,
    reply: tokio::sync::oneshot::Sender<Result<Option<Published>, Unavailable>>,
}

/// Publishes queued at most (past it, `publish` fails at once: Redis does not keep up).
const QUEUED: usize = 65_536;
/// Publishes sent in one pipeline at most.
const PIPELINE: usize = 512;

/// This node's link to Redis.
pub struct Cluster {
    jobs: tokio::sync::mpsc::Sender<Job>,
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Job>>>,
    client: redis::Client,
    conn: ConnectionManager,
    publish: Script,
    recover: Script,
    seen: Script,
    history: usize,
    history_bytes: usize,
    ttl_ms: u64,
    per_scope: usize,
    seen_ttl_ms: u64,
    /// Proposed epochs start with it: unique per node and start.
    node: String,
    made: std::sync::atomic::AtomicU64,
    /// Whether the node's subscription to every topic's pushes is live.
    subscribed: AtomicBool,
}

fn meta(topic: &str) -> String {
    format!("wsocket:{{{topic}}}:meta")
}

fn hist(topic: &str) -> String {
    format!("wsocket:{{{topic}}}:hist")
}

fn seen(scope: &str) -> String {
    format!("wsocket:seen:{scope}")
}

impl Cluster {
    /// A link to the Redis at `url` (`redis://host:port/db`), connected lazily and again
    /// after every failure, with backoff. Fails only on a URL it cannot read.
    pub fn new(url: &str, config: &Config) -> Result<Cluster, String> {
        let client = redis::Client::open(url).map_err(|e| format!("--redis {url}: {e}"))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_min_delay(RETRY_MIN)
            .set_max_delay(RETRY_MAX)
            .set_number_of_retries(3);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager)
            .map_err(|e| format!("--redis {url}: {e}"))?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let (jobs, queue) = tokio::sync::mpsc::channel(QUEUED);
        Ok(Cluster {
            jobs,
            queue: std::sync::Mutex::new(Some(queue)),
            client,
            conn,
            publish: script(PUBLISH),
            recover: script(RECOVER),
            seen: script(SEEN),
            history: config.history,
            history_bytes: config.history_bytes,
            ttl_ms: config.topic_idle.as_millis().max(1) as u64,
            per_scope: config.processed_per_scope.max(1),
            seen_ttl_ms: config.processed_ttl.as_millis().max(1) as u64,
            node: format!("r{:x}{:x}", nonce % 0xffff_ffff, std::process::id()),
            made: std::sync::atomic::AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
        })
    }

    fn fresh_epoch(&self) -> String {
        let n = self.made.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}.{n}", self.node)
    }

    /// Whether this node receives the pushes published anywhere (its Pub/Sub link is up).
    pub fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    /// Publishes `data` on `topic` as a push of type `event`, on every node. `delivered`
    /// is the number of nodes that received it. With `once` (a scope and a message id),
    /// only the first time that id is seen there: `None` for a repeat.
    ///
    /// The publish is queued at once, in the order of the calls, and Redis runs the queue
    /// in pipelines (`publisher`): a caller that does not need the answer need not wait
    /// for it (a burst is not one round trip per message).
    pub fn publish(
        &self,
        topic: &str,
        event: &str,
        data: serde_json::Value,
        once: Option<(&str, &str)>,
    ) -> impl std::future::Future<Output = Result<Option<Published>, Unavailable>> + Send + 'static
    {
        let message = Message {
            kind: event.to_owned(),
            topic: Some(topic.to_owned()),
            data: Some(data),
            timestamp: Some(now_ms()),
            ..Message::default()
        };
        let mut head = crate::encode(&message);
        head.pop(); // its closing brace: the script adds `seq` and `epoch`
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.publish.get_hash()).arg(if once.is_some() { 3 } else { 2 });
        cmd.arg(meta(topic)).arg(hist(topic));
        if let Some((scope, _)) = once {
            cmd.arg(seen(scope));
        }
        cmd.arg(head)
            .arg(self.fresh_epoch())
            .arg(self.history.max(1))
            .arg(self.history_bytes)
            .arg(self.ttl_ms)
            .arg(format!("{CHANNELS}{topic}"));
        if let Some((_, id)) = once {
            cmd.arg(id).arg(self.per_scope).arg(self.seen_ttl_ms);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued = self.jobs.try_send(Job { cmd, reply });
        async move {
            if queued.is_err() {
                return Err(Unavailable("too many publishes are waiting for Redis".to_owned()));
            }
            answer.await.map_err(|_| Unavailable("the publisher to Redis stopped".to_owned()))?
        }
    }

    /// Where `topic` stands and, from `since`, what the client missed when all of it is
    /// still in the history.
    pub async fn recover(
        &self,
        topic: &str,
        since: Option<&Position>,
    ) -> Result<Joined, Unavailable> {
        let mut conn = self.conn.clone();
        let (seq, epoch, recovered, replay): (u64, String, u8, Vec<String>) = self
            .recover
            .key(meta(topic))
            .key(hist(topic))
            .arg(self.fresh_epoch())
            .arg(self.ttl_ms)
            .arg(since.map_or("", |p| p.epoch.as_str()))
            .arg(since.map_or(0, |p| p.seq))
            .invoke_async(&mut conn)
            .await?;
        Ok(Joined {
            recovered: recovered == 1,
            replay: replay.into_iter().map(Utf8Bytes::from).collect(),
            position: Position { seq, epoch },
        })
    }

    /// Records `id` as processed in `scope`, for every node; true the first time.
    pub async fn first_time(&self, scope: &str, id: &str) -> Result<bool, Unavailable> {
        let mut conn = self.conn.clone();
        let added: u8 = self
            .seen
            .key(seen(scope))
            .arg(id)
            .arg(self.per_scope)
            .arg(self.seen_ttl_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(added == 1)
    }

    /// The pushes of `topic` from `from` on that the history still holds: (seq, epoch,
    /// push), in order.
    async fn range(
        &self,
        topic: &str,
        from: u64,
    ) -> Result<Vec<(u64, String, Utf8Bytes)>, Unavailable> {
        let mut conn = self.conn.clone();
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(hist(topic))
            .arg(format!("{from}-0"))
            .arg("+")
            .query_async(&mut conn)
            .await?;
        let mut pushes = Vec::with_capacity(reply.ids.len());
        for entry in reply.ids {
            let seq = entry.id.split('-').next().and_then(|s| s.parse().ok());
            let epoch: Option<String> = entry.get("e");
            let push: Option<String> = entry.get("m");
            if let (Some(seq), Some(epoch), Some(push)) = (seq, epoch, push) {
                pushes.push((seq, epoch, Utf8Bytes::from(push)));
            }
        }
        Ok(pushes)
    }

    /// Where each of `topics` stands in Redis (`None`: Redis does not know it), and their
    /// expiry refreshed: they have subscribers.
    async fn positions(&self, topics: &[String]) -> Result<Vec<Option<Position>>, Unavailable> {
        let mut pipe = redis::pipe();
        for topic in topics {
            pipe.cmd("HMGET").arg(meta(topic)).arg("seq").arg("epoch");
            pipe.cmd("PEXPIRE").arg(meta(topic)).arg(self.ttl_ms).ignore();
            pipe.cmd("PEXPIRE").arg(hist(topic)).arg(self.ttl_ms).ignore();
        }
        let mut conn = self.conn.clone();
        let rows: Vec<(Option<u64>, Option<String>)> = pipe.query_async(&mut conn).await?;
        Ok(rows
            .into_iter()
            .map(|(seq, epoch)| Some(Position { seq: seq?, epoch: epoch? }))
            .collect())
    }
}

/// Receives every push published on any node and hands it to this node's subscribers,
/// for as long as the server runs: subscribes again after every failure (with backoff)
/// and then fetches from the history what passed meanwhile; every `CHECK_EVERY`, checks
/// that no push went missing.
pub async fn run(state: Arc<AppState>) {
    let Some(cluster) = state.cluster.as_ref() else { return };
    let queue = cluster.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(queue) = queue else { return };
    tokio::join!(publisher(cluster, queue), subscriber(&state, cluster));
}

/// Sends the queued publishes to Redis in order, as many as are waiting (up to
/// `PIPELINE`) in one pipeline, and answers each.
async fn publisher(cluster: &Cluster, mut queue: tokio::sync::mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while queue.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut conn = cluster.conn.clone();
        let mut pending: Vec<Job> = std::mem::take(&mut batch);
        // Twice at most: Redis may have lost the script (a restart); it is loaded, and
        // what it refused for that is sent again, in order.
        for attempt in 0..2 {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for job in &pending {
                pipe.add_command(job.cmd.clone());
            }
            let values: Vec<redis::Value> = match pipe.query_async(&mut conn).await {
                Ok(v) => v,
                Err(e) => {
                    let failed = Unavailable::from(e);
                    for job in pending.drain(..) {
                        let _ = job.reply.send(Err(failed.clone()));
                    }
                    break;
                }
            };
            let mut again = Vec::new();
            for (job, value) in pending.drain(..).zip(values) {
                let unknown = matches!(&value, redis::Value::ServerError(e)
                    if e.kind() == Some(redis::ServerErrorKind::NoScript));
                if unknown && attempt == 0 {
                    again.push(job);
                    continue;
                }
                let answer = redis::from_redis_value::<(i64, String, usize)>(value)
                    .map(|(seq, epoch, nodes)| {
                        u64::try_from(seq).ok().map(|seq| Published {
                            seq,
                            epoch,
                            delivered: nodes,
                        })
                    })
                    .map_err(|e| Unavailable(format!("Redis refused the publish: {e}")));
                let _ = job.reply.send(answer);
            }
            if again.is_empty() {
                break;
            }
            if let Err(e) = cluster.publish.load_async(&mut conn).await {
                let failed = Unavailable::from(e);
                for job in again.drain(..) {
                    let _ = job.reply.send(Err(failed.clone()));
                }
                break;
            }
            pending = again;
        }
    }
}

/// The subscription to every node's pushes (see `run`).
async fn subscriber(state: &AppState, cluster: &Cluster) {
    let mut delay = RETRY_MIN;
    loop {
        let connected = tokio::time::timeout(RESPONSE_TIMEOUT, async {
            let mut pubsub = cluster.client.get_async_pubsub().await?;
            pubsub.psubscribe(format!("{CHANNELS}*")).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(pubsub)) => {
                cluster.subscribed.store(true, Ordering::Relaxed);
                tracing::info!("receiving every node's pushes through Redis");
                delay = RETRY_MIN;
                let mut messages = pubsub.into_on_message();
                let mut check = tokio::time::interval(CHECK_EVERY);
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(m) => on_push(state, cluster, m).await,
                            None => break,
                        },
                        // The first tick is at once: what passed while not subscribed.
                        _ = check.tick() => if let Err(e) = catch_up(state, cluster).await {
                            state.metrics.redis_errors.inc();
                            tracing::warn!(error = %e.0, "Redis check failed");
                            break;
                        },
                    }
                }
                cluster.subscribed.store(false, Ordering::Relaxed);
                tracing::warn!("lost the Redis subscription; subscribing again");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot subscribe to Redis"),
            Err(_) => tracing::warn!("cannot subscribe to Redis: timed out"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
}

/// One push from Redis: `<seq> <epoch> <push>` on `wsocket:push:<topic>`. What comes
/// before it and this node has not delivered (Pub/Sub dropped some, or the epoch is new)
/// is fetched from the history first.
async fn on_push(state: &AppState, cluster: &Cluster, message: redis::Msg) {
    let channel = message.get_channel_name();
    let Some(topic) = channel.strip_prefix(CHANNELS) else { return };
    let Ok(payload) = message.get_payload::<String>() else { return };
    let mut parts = payload.splitn(3, ' ');
    let (Some(seq), Some(epoch), Some(push)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let Ok(seq) = seq.parse::<u64>() else { return };
    let Some(last) = state.hub.last(topic) else { return };
    // A new epoch (Redis lost the topic): its subscribers see one gap, then all of it.
    let from = match () {
        () if last.epoch.is_empty() => None,
        () if last.epoch != epoch => Some(1),
        () if seq > last.seq + 1 => Some(last.seq + 1),
        () => None,
    };
    if let Some(from) = from {
        match cluster.range(topic, from).await {
            Ok(missed) => {
                for (s, e, m) in missed.into_iter().filter(|(s, e, _)| *s < seq && e == epoch) {
                    if state.hub.deliver(topic, s, &e, &m) {
                        state.metrics.redis_caught_up.inc();
                    }
                }
            }
            Err(_) => {
                state.metrics.redis_errors.inc();
            }
        }
    }
    let push = Utf8Bytes::from(push.to_owned());
    state.hub.deliver(topic, seq, epoch, &push);
}

/// Brings every topic this node has subscribers for up to where Redis stands: what it
/// missed in the same epoch, or all the history of a new one (its subscribers then see
/// one `gap`, and what followed).
async fn catch_up(state: &AppState, cluster: &Cluster) -> Result<(), Unavailable> {
    let local: Vec<(String, Position)> = state.hub.local_positions();
    if local.is_empty() {
        return Ok(());
    }
    let topics: Vec<String> = local.iter().map(|(t, _)| t.clone()).collect();
    let now = cluster.positions(&topics).await?;
    let mut behind: HashMap<&str, u64> = HashMap::new();
    for ((topic, mine), theirs) in local.iter().zip(&now) {
        let Some(theirs) = theirs else { continue };
        if mine.epoch.is_empty() {
            continue;
        }
        if theirs.epoch != mine.epoch {
            behind.insert(topic, 1);
        } else if theirs.seq > mine.seq {
            behind.insert(topic, mine.seq + 1);
        }
    }
    for (topic, from) in behind {
        for (seq, epoch, push) in cluster.range(topic, from).await? {
            if state.hub.deliver(topic, seq, &epoch, &push) {
                state.metrics.redis_caught_up.inc();
            }
        }
    }
    Ok(())
}
