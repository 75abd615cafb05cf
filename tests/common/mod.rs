//! A fake driver for the pure core: a fake clock, timers as fire times, and a record of
//! every effect, so tests read like the browser's story without a browser.
#![allow(dead_code)]

use wsocket::machine::{Effect, Event, Input, Machine, Outbound, State, Timer};
use wsocket::{Error, Options};

pub struct Sim {
    pub m: Machine<String>,
    pub now: f64,
    pub timers: [Option<f64>; 6],
    pub sent: Vec<(u32, String)>,
    pub opened: Vec<u32>,
    pub closed: Vec<(u32, u16, bool)>,
    pub events: Vec<Event>,
    pub failed: Vec<(u64, Error)>,
    pub frames_in: u64,
}

impl Sim {
    pub fn new(opts: Options) -> Sim {
        Sim::seeded(opts, 7)
    }

    pub fn seeded(opts: Options, seed: u64) -> Sim {
        let m = Machine::new(opts, seed, "c-").expect("valid options");
        Sim {
            m,
            now: 0.0,
            timers: [None; 6],
            sent: Vec::new(),
            opened: Vec::new(),
            closed: Vec::new(),
            events: Vec::new(),
            failed: Vec::new(),
            frames_in: 0,
        }
    }

    /// Executes every pending effect, as the browser driver does.
    pub fn run(&mut self) {
        while let Some(effect) = self.m.poll() {
            match effect {
                Effect::OpenSocket { gen } => self.opened.push(gen),
                Effect::Send { gen, frame } => self.sent.push((
                    gen,
                    match frame {
                        Outbound::Payload(p) | Outbound::Reliable(p) => p,
                        Outbound::Text(t) => t,
                    },
                )),
                Effect::CloseSocket { gen, code, detach, .. } => {
                    self.closed.push((gen, code, detach))
                }
                Effect::Arm { timer, after_ms } => {
                    self.timers[timer.index()] = Some(self.now + after_ms)
                }
                Effect::Disarm(timer) => self.timers[timer.index()] = None,
                Effect::Emit(event) => self.events.push(event),
                Effect::RequestFailed { id, error } => self.failed.push((id, error)),
            }
        }
    }

    pub fn input(&mut self, input: Input) {
        self.m.handle(self.now, input);
        self.run();
    }

    /// A reply to request `id` arrived: the driver settles it, then runs the effects.
    pub fn reply(&mut self, id: u64) {
        self.m.settle(self.now, id);
        self.run();
    }

    pub fn connect(&mut self) {
        self.input(Input::Connect);
    }

    /// Opens the socket the machine asked for last.
    pub fn open(&mut self) {
        let gen = self.m.gen();
        self.input(Input::SocketOpened { gen, auth: None, since: vec![] });
    }

    pub fn connect_and_open(&mut self) {
        self.connect();
        self.open();
    }

    /// The current socket closes with `code`.
    pub fn server_close(&mut self, code: u16) {
        let gen = self.m.gen();
        self.input(Input::SocketClosed {
            gen,
            code,
            reason: String::new(),
            was_clean: code != 1006,
        });
    }

    /// The server shows it answers heartbeats: a pong arrives (as if to an earlier ping).
    pub fn answers_heartbeats(&mut self) {
        self.frame();
        let (gen, frames_in) = (self.m.gen(), self.frames_in);
        self.m.handle(self.now, Input::Activity { frames_in });
        self.input(Input::Pong { gen });
    }

    /// A frame arrives (the driver counts it; the machine sees the total lazily).
    pub fn frame(&mut self) {
        self.frames_in += 1;
    }

    /// Moves the clock forward, firing due timers in time order.
    pub fn advance(&mut self, ms: f64) {
        let end = self.now + ms;
        loop {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.map(|at| (i, at)))
                .filter(|(_, at)| *at <= end)
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, at)) = next else { break };
            self.now = self.now.max(at);
            self.timers[i] = None;
            let frames_in = self.frames_in;
            self.m.handle(self.now, Input::Activity { frames_in });
            self.input(Input::Timer(Timer::ALL[i]));
        }
        self.now = end;
    }

    /// Fires `timer` now, whenever it was due: a timer the browser delayed.
    pub fn fire(&mut self, timer: Timer) {
        self.timers[timer.index()] = None;
        let frames_in = self.frames_in;
        self.m.handle(self.now, Input::Activity { frames_in });
        self.input(Input::Timer(timer));
    }

    pub fn armed(&self, timer: Timer) -> bool {
        self.timers[timer.index()].is_some()
    }

    pub fn state(&self) -> State {
        self.m.state()
    }

    pub fn states(&self) -> Vec<State> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::State { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }

    pub fn reconnect_delays(&self) -> Vec<f64> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Reconnecting { delay_ms, .. } => Some(*delay_ms),
                _ => None,
            })
            .collect()
    }

    pub fn errors(&self) -> Vec<&'static str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Error(err) => Some(err.code()),
                _ => None,
            })
            .collect()
    }

    pub fn sent_texts(&self) -> Vec<&str> {
        self.sent.iter().map(|(_, s)| s.as_str()).collect()
    }

    pub fn pings_sent(&self) -> usize {
        self.sent.iter().filter(|(_, s)| s.contains("\"ping\"")).count()
    }
}

/// Options with no heartbeat and no timeouts, for tests about one thing at a time.
pub fn quiet() -> Options {
    Options {
        heartbeat_interval_ms: 0.0,
        connect_timeout_ms: 0.0,
        min_delay_ms: 100.0,
        max_delay_ms: 1_000.0,
        stable_after_ms: 1_000.0,
        ..Options::default()
    }
}

/// The driver's duplicate and gap rule (`src/web/hub.js`: `route`, `sequence`,
/// `subscribed`, `forget`), as a test driver applies it: the simulation's client is the
/// machine plus this, as the browser's is the machine plus the hub. The hub's own code is
/// tested on the same cases in the JS unit tier (`js/test/`).
#[derive(Debug, Default)]
pub struct Recovery {
    /// Per topic: the next seq expected, and its epoch.
    next: std::collections::BTreeMap<String, (u64, String)>,
}

/// What the rule does with one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Deliver,
    Duplicate,
    /// Deliver, after a `gap` event `{topic, expected, got}`.
    Gap {
        expected: u64,
        got: Option<u64>,
    },
}

impl Recovery {
    pub fn observe(&mut self, topic: &str, seq: u64, epoch: &str) -> Verdict {
        let Some((next, at)) = self.next.get_mut(topic) else {
            self.next.insert(topic.to_owned(), (seq + 1, epoch.to_owned()));
            return Verdict::Deliver;
        };
        let same = at == epoch;
        if same && seq < *next {
            return Verdict::Duplicate;
        }
        let expected = *next;
        *next = seq + 1;
        *at = epoch.to_owned();
        if same && seq == expected {
            return Verdict::Deliver;
        }
        Verdict::Gap { expected, got: Some(seq) }
    }

    /// A `subscribed` answer for `topic`; the gap it reports, if any.
    pub fn subscribed(
        &mut self,
        topic: &str,
        recovered: bool,
        position: Option<(u64, String)>,
    ) -> Option<Verdict> {
        let mut gap = None;
        if !recovered {
            if let Some((next, _)) = self.next.remove(topic) {
                gap = Some(Verdict::Gap { expected: next, got: None });
            }
        }
        if let (false, Some((seq, epoch))) = (self.next.contains_key(topic), position) {
            self.next.insert(topic.to_owned(), (seq + 1, epoch));
        }
        gap
    }

    pub fn forget(&mut self, topic: &str) {
        self.next.remove(topic);
    }

    /// What the driver hands the machine at an open.
    pub fn since(&self) -> Vec<wsocket::recovery::Position> {
        let at = |(t, (next, e)): (&String, &(u64, String))| wsocket::recovery::Position {
            topic: t.clone(),
            seq: next - 1,
            epoch: e.clone(),
        };
        self.next.iter().map(at).collect()
    }
}
