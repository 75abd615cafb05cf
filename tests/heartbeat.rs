//! The heartbeat: pings on an interval, a pong-or-any-frame deadline, no duplicates.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::{Input, State, Timer};
use wsocket::Options;

fn hb() -> Options {
    Options { heartbeat_interval_ms: 1_000.0, heartbeat_timeout_ms: 500.0, ..quiet() }
}

#[test]
fn pings_on_the_interval_with_a_typed_ping_frame() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.advance(1_000.0);
    assert_eq!(sim.sent_texts(), vec![r#"{"type":"ping","id":"c-1","timestamp":1000}"#]);
}

#[test]
fn no_pong_and_no_frame_within_the_deadline_closes_4000_and_reconnects() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    // The server answers the first heartbeat: it is one that answers.
    sim.advance(1_000.0);
    sim.frame();
    sim.input(Input::Pong { gen: 1 });
    // Then it goes silent (half-open).
    sim.advance(1_499.0);
    assert_eq!(sim.state(), State::Open);
    sim.advance(1.0);
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"]);
    assert_eq!(sim.closed, vec![(1, 4000, true)]);
    assert_eq!(sim.state(), State::Reconnecting);
}

/// Issue 22, #3: a stock NestJS gateway drops the text heartbeat and never answers. An
/// idle connection to it (nothing since the open) stays up; where such a server sends
/// anything, silence after an unanswered heartbeat still ends the connection. (The typed
/// protocol's server must answer: there, silence is death from the first ping.)
#[test]
fn a_legacy_server_that_never_answers_keeps_an_idle_connection_up() {
    for opts in [
        Options { heartbeat_message: Some("PONG".into()), ..hb() },
        Options { event_key: "event".into(), ..hb() },
    ] {
        never_answering(opts);
    }
}

fn never_answering(opts: Options) {
    let mut sim = Sim::new(opts);
    sim.connect_and_open();
    sim.advance(60_000.0);
    assert_eq!(sim.state(), State::Open, "idle, never answered: up");
    assert!(sim.errors().is_empty());
    assert!(sim.sent_texts().len() >= 50, "it still pings");
    // The server pushes once, then goes silent: a sign of life, so silence counts.
    sim.frame();
    sim.advance(2_600.0);
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"]);
    assert_eq!(sim.closed, vec![(1, 4000, true)]);
}

#[test]
fn a_pong_meets_the_deadline_and_gives_the_rtt() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.advance(1_000.0);
    sim.advance(120.0);
    sim.frame();
    sim.input(Input::Pong { gen: 1 });
    assert!(!sim.armed(Timer::PongDeadline));
    sim.advance(800.0);
    assert_eq!(sim.state(), State::Open);
    assert_eq!(sim.m.stats().rtt_ms, Some(120.0));
}

#[test]
fn any_frame_after_the_ping_meets_the_deadline() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    for _ in 0..10 {
        sim.advance(1_000.0);
        sim.frame();
    }
    assert_eq!(sim.state(), State::Open);
    assert!(sim.errors().is_empty());
}

#[test]
fn a_frame_before_the_ping_does_not_count() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.advance(900.0);
    sim.frame();
    sim.advance(600.0);
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"]);
}

#[test]
fn a_late_timer_does_not_cause_a_false_timeout_when_frames_arrived() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.advance(1_000.0);
    sim.frame();
    // The tab was throttled: the deadline fires a minute late, after the frame came.
    sim.now += 60_000.0;
    sim.fire(Timer::PongDeadline);
    assert_eq!(sim.state(), State::Open);
    assert!(sim.errors().is_empty());
}

#[test]
fn a_pong_from_an_old_socket_is_ignored() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    sim.advance(1_000.0);
    sim.input(Input::Pong { gen: 1 });
    assert_eq!(sim.m.stats().rtt_ms, None);
    assert!(sim.armed(Timer::PongDeadline));
}

#[test]
fn legacy_text_heartbeat_is_sent_verbatim() {
    let mut sim = Sim::new(Options { heartbeat_message: Some("PONG".into()), ..hb() });
    sim.connect_and_open();
    sim.frame();
    sim.advance(1_000.0);
    assert_eq!(sim.sent_texts(), vec!["PONG"]);
}

#[test]
fn zero_timeout_disables_the_watchdog_but_keeps_pinging() {
    let mut sim = Sim::new(Options { heartbeat_timeout_ms: 0.0, ..hb() });
    sim.connect_and_open();
    sim.advance(10_000.0);
    assert_eq!(sim.state(), State::Open);
    assert_eq!(sim.pings_sent(), 1, "one outstanding ping at a time");
}

#[test]
fn exactly_one_heartbeat_timer_after_many_reconnects() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    for _ in 0..20 {
        sim.server_close(1006);
        assert!(!sim.armed(Timer::Heartbeat), "heartbeat disarmed while down");
        sim.advance(1_000.0);
        sim.open();
    }
    let before = sim.pings_sent();
    // Answer every ping; count pings over 10 intervals.
    for _ in 0..10 {
        sim.advance(1_000.0);
        sim.frame();
    }
    assert_eq!(sim.pings_sent() - before, 10);
}

// ---- Socket.IO: the server pings, the client watches ---------------------------------

fn socketio() -> Options {
    Options {
        protocol: wsocket::options::Protocol::SocketIo,
        heartbeat_interval_ms: 0.0,
        ..quiet()
    }
}

fn open_with_server_window(sim: &mut Sim, window_ms: f64) {
    sim.connect();
    sim.input(Input::ServerHeartbeat { gen: 1, window_ms });
    sim.open();
}

#[test]
fn a_socketio_server_that_keeps_pinging_is_alive_and_the_client_never_pings() {
    let mut sim = Sim::new(socketio());
    open_with_server_window(&mut sim, 1_500.0);
    for _ in 0..20 {
        sim.advance(1_000.0);
        sim.frame(); // the server's "2"
    }
    assert_eq!(sim.state(), State::Open);
    assert!(sim.errors().is_empty());
    assert_eq!(sim.pings_sent(), 0);
    assert!(sim.sent_texts().is_empty());
}

#[test]
fn a_socketio_server_silent_for_ping_interval_plus_timeout_is_dead() {
    let mut sim = Sim::new(socketio());
    open_with_server_window(&mut sim, 1_500.0);
    sim.advance(1_000.0);
    sim.frame(); // seen by the check at 1125 (checks every quarter window)
    sim.advance(1_624.0);
    assert_eq!(sim.state(), State::Open, "silent for less than a window since 1125");
    sim.advance(1.0);
    assert!(sim.now - 1_000.0 <= 1_500.0 * 1.25, "found within 1.25 windows of the last frame");
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"]);
    assert_eq!(sim.closed, vec![(1, 4000, true)]);
    assert_eq!(sim.state(), State::Reconnecting);
}

#[test]
fn the_server_window_is_per_socket_and_reset_on_reconnect() {
    let mut sim = Sim::new(Options { min_delay_ms: 0.0, ..socketio() });
    open_with_server_window(&mut sim, 1_000.0);
    sim.server_close(1006);
    sim.advance(0.0);
    assert_eq!(sim.state(), State::Connecting);
    // The new socket has not said how it pings (no open packet yet): no watchdog.
    sim.input(Input::SocketOpened { gen: 2, auth: None, since: vec![] });
    sim.advance(60_000.0);
    assert_eq!(sim.state(), State::Open);
    assert!(sim.errors().is_empty());
}

#[test]
fn the_watchdog_works_with_the_options_the_js_reader_sets_for_socketio() {
    let opts = Options {
        protocol: wsocket::options::Protocol::SocketIo,
        heartbeat_interval_ms: 0.0,
        token_in: wsocket::options::TokenIn::Message,
        min_delay_ms: 20.0,
        max_delay_ms: 200.0,
        ..Options::default()
    };
    let mut sim = Sim::new(opts);
    sim.connect();
    sim.input(Input::ServerHeartbeat { gen: 1, window_ms: 500.0 });
    sim.input(Input::SocketOpened { gen: 1, auth: Some("good-token".into()), since: vec![] });
    sim.frame();
    sim.advance(400.0);
    sim.frame();
    sim.advance(3000.0);
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"]);
}
