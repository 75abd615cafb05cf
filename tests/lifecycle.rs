//! Page lifecycle and auth: wake-ups, late timers, token refresh on 4001/1008.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::{Input, State, Timer};
use wsocket::Options;

fn hb() -> Options {
    Options { heartbeat_interval_ms: 30_000.0, heartbeat_timeout_ms: 5_000.0, ..quiet() }
}

#[test]
fn wake_while_open_checks_liveness_at_once() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.answers_heartbeats();
    sim.input(Input::Wake);
    assert_eq!(sim.pings_sent(), 1, "a ping right away, not in 30 s");
    sim.advance(5_000.0);
    assert_eq!(
        sim.errors(),
        vec!["HEARTBEAT_TIMEOUT"],
        "a dead connection is found within one timeout"
    );
}

#[test]
fn wake_while_open_and_alive_keeps_the_connection() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.input(Input::Wake);
    sim.frame();
    sim.input(Input::Pong { gen: 1 });
    sim.advance(10_000.0);
    assert_eq!(sim.state(), State::Open);
}

#[test]
fn wake_while_reconnecting_retries_now() {
    let mut sim = Sim::new(Options { min_delay_ms: 20_000.0, max_delay_ms: 30_000.0, ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    sim.input(Input::Wake);
    assert_eq!(sim.opened, vec![1, 2]);
}

#[test]
fn wake_after_the_app_closed_does_not_reconnect() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.close(1000, "").unwrap();
    sim.run();
    sim.server_close(1000);
    sim.input(Input::Wake);
    sim.input(Input::Online);
    assert_eq!(sim.opened, vec![1]);
}

#[test]
fn a_deadline_firing_long_after_its_time_pings_again_instead_of_closing() {
    let mut sim = Sim::new(hb());
    sim.connect_and_open();
    sim.answers_heartbeats();
    sim.advance(30_000.0); // ping sent
    sim.now += 120_000.0; // the tab slept; the deadline fires two minutes late
    sim.fire(Timer::PongDeadline);
    assert_eq!(sim.state(), State::Open, "no false timeout");
    assert_eq!(sim.pings_sent(), 2, "asked again");
    sim.advance(5_000.0);
    assert_eq!(sim.errors(), vec!["HEARTBEAT_TIMEOUT"], "still found dead one timeout later");
}

#[test]
fn a_4001_close_with_a_token_provider_retries_once_then_stops() {
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.server_close(4001);
    assert_eq!(sim.state(), State::Reconnecting, "one retry with a fresh token");
    sim.advance(1_000.0);
    sim.open();
    sim.server_close(4001);
    assert_eq!(sim.state(), State::Closed);
    assert_eq!(sim.errors(), vec!["AUTH_FAILED"]);
    sim.advance(60_000.0);
    assert_eq!(sim.opened.len(), 2, "no reconnect loop");
}

#[test]
fn a_1008_close_without_a_token_provider_stops_at_once() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(1008);
    assert_eq!(sim.state(), State::Closed);
    assert_eq!(sim.errors(), vec!["AUTH_FAILED"]);
}

#[test]
fn the_token_retry_is_restored_after_a_stable_connection() {
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.server_close(4001);
    sim.advance(1_000.0);
    sim.open();
    sim.advance(1_000.0); // stable
    sim.server_close(4001);
    assert_eq!(sim.state(), State::Reconnecting);
}

#[test]
fn an_unauthorized_error_closes_the_socket_and_retries_with_a_fresh_token() {
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.input(Input::Unauthorized { gen: 1 });
    assert_eq!(sim.closed, vec![(1, 4001, true)]);
    assert_eq!(sim.state(), State::Reconnecting);
}

/// Issue 22, #7: the usual server-side credential check disconnects in the connection
/// handler, right after the open with nothing in between. With a token provider that is
/// refused credentials: one fresh token, one retry, then AUTH_FAILED (not a kick).
#[test]
fn a_close_right_after_the_open_with_a_token_provider_is_refused_credentials() {
    for code in [1000, 1005] {
        let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
        sim.connect_and_open();
        sim.server_close(code);
        assert_eq!(sim.state(), State::Reconnecting, "{code}: one retry, with a fresh token");
        assert!(sim.errors().is_empty());
        sim.advance(1_000.0);
        sim.open();
        sim.server_close(code);
        assert_eq!(sim.errors(), vec!["AUTH_FAILED"], "{code}");
        assert_eq!(sim.state(), State::Closed);
    }
}

#[test]
fn a_close_after_a_frame_or_once_stable_or_without_a_provider_is_a_kick() {
    let kicked = |sim: &Sim| sim.errors() == vec!["CLOSED_BY_SERVER"];
    // A frame arrived first.
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.frame();
    sim.input(Input::Activity { frames_in: 1 });
    sim.server_close(1000);
    assert!(kicked(&sim), "{:?}", sim.errors());
    // The connection was stable.
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.advance(sim.m.options().stable_after_ms + 1.0);
    sim.server_close(1000);
    assert!(kicked(&sim), "{:?}", sim.errors());
    // No token provider.
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(1000);
    assert!(kicked(&sim), "{:?}", sim.errors());
}

/// The Socket.IO form of the same check: the namespace is left right after the CONNECT.
#[test]
fn a_socketio_disconnect_right_after_the_open_is_refused_credentials_else_final() {
    let mut sim = Sim::new(Options { refresh_token: true, ..quiet() });
    sim.connect_and_open();
    sim.input(Input::ServerDisconnected { gen: 1 });
    assert_eq!(sim.closed, vec![(1, 1000, true)]);
    assert_eq!(sim.state(), State::Reconnecting);
    sim.advance(1_000.0);
    sim.open();
    sim.frame();
    sim.input(Input::Activity { frames_in: 1 });
    sim.input(Input::ServerDisconnected { gen: 2 });
    assert_eq!(sim.errors(), vec!["CLOSED_BY_SERVER"], "after an event: final");
    assert_eq!(sim.state(), State::Closed);
}
