//! State-machine transitions, driven by a fake clock.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::{Event, Input, State, Timer};
use wsocket::Options;

#[test]
fn starts_closed_and_connect_opens_a_socket() {
    let mut sim = Sim::new(quiet());
    assert_eq!(sim.state(), State::Closed);
    sim.connect();
    assert_eq!(sim.state(), State::Connecting);
    assert_eq!(sim.opened, vec![1]);
    sim.open();
    assert_eq!(sim.state(), State::Open);
    assert_eq!(sim.states(), vec![State::Connecting, State::Open]);
    assert!(sim.events.contains(&Event::Open));
}

#[test]
fn state_events_carry_from_and_to() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    assert_eq!(sim.events[0], Event::State { from: State::Closed, to: State::Connecting });
}

#[test]
fn connect_while_connecting_or_open_does_nothing() {
    let mut sim = Sim::new(quiet());
    sim.connect();
    sim.connect();
    assert_eq!(sim.opened, vec![1]);
    sim.open();
    sim.connect();
    assert_eq!(sim.opened, vec![1]);
}

#[test]
fn drop_moves_to_reconnecting_then_connecting_with_a_new_generation() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(1006);
    assert_eq!(sim.state(), State::Reconnecting);
    assert!(sim.armed(Timer::Retry));
    sim.advance(1_000.0);
    assert_eq!(sim.state(), State::Connecting);
    assert_eq!(sim.opened, vec![1, 2]);
}

#[test]
fn events_from_an_old_socket_generation_are_ignored() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(1006);
    sim.advance(1_000.0);
    assert_eq!(sim.m.gen(), 2);
    // Late close and open from socket 1 must not touch socket 2's state.
    sim.input(Input::SocketClosed { gen: 1, code: 1006, reason: String::new(), was_clean: false });
    assert_eq!(sim.state(), State::Connecting);
    sim.input(Input::SocketOpened { gen: 1, auth: None, since: vec![] });
    assert_eq!(sim.state(), State::Connecting);
    sim.open();
    assert_eq!(sim.state(), State::Open);
}

#[test]
fn user_close_goes_through_closing_to_closed_and_never_reconnects() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.close(1000, "bye").unwrap();
    sim.run();
    assert_eq!(sim.state(), State::Closing);
    assert_eq!(sim.closed, vec![(1, 1000, false)]);
    sim.server_close(1000);
    assert_eq!(sim.state(), State::Closed);
    sim.advance(60_000.0);
    assert_eq!(sim.opened, vec![1]);
    assert!(Timer::ALL.iter().all(|t| !sim.armed(*t)), "no timer left armed after close()");
}

#[test]
fn user_close_while_reconnecting_cancels_the_retry() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(1006);
    sim.m.close(1000, "").unwrap();
    sim.run();
    assert_eq!(sim.state(), State::Closed);
    assert!(!sim.armed(Timer::Retry));
    sim.advance(60_000.0);
    assert_eq!(sim.opened, vec![1]);
}

#[test]
fn close_is_validated_before_anything_changes() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    assert_eq!(sim.m.close(1005, "").unwrap_err().code(), "INVALID_CLOSE_CODE");
    assert_eq!(sim.m.close(1000, &"x".repeat(124)).unwrap_err().code(), "INVALID_CLOSE_REASON");
    assert_eq!(sim.state(), State::Open);
}

#[test]
fn connect_after_close_starts_over() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.close(1000, "").unwrap();
    sim.run();
    sim.server_close(1000);
    sim.connect_and_open();
    assert_eq!(sim.state(), State::Open);
    assert_eq!(sim.opened, vec![1, 2]);
}

#[test]
fn connect_timeout_closes_the_socket_detached_and_retries() {
    let mut sim = Sim::new(Options { connect_timeout_ms: 2_000.0, ..quiet() });
    sim.connect();
    sim.advance(2_000.0);
    assert_eq!(sim.closed, vec![(1, 4002, true)]);
    assert_eq!(sim.errors(), vec!["CONNECT_TIMEOUT"]);
    assert_eq!(sim.state(), State::Reconnecting);
}

#[test]
fn open_disarms_the_connect_timeout() {
    let mut sim = Sim::new(Options { connect_timeout_ms: 2_000.0, ..quiet() });
    sim.connect_and_open();
    assert!(!sim.armed(Timer::Connect));
    sim.advance(10_000.0);
    assert_eq!(sim.state(), State::Open);
}

#[test]
fn online_event_reconnects_at_once() {
    let mut sim = Sim::new(Options { min_delay_ms: 10_000.0, max_delay_ms: 20_000.0, ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    sim.input(Input::Online);
    assert_eq!(sim.state(), State::Connecting);
    assert_eq!(sim.opened, vec![1, 2]);
    assert!(!sim.armed(Timer::Retry));
}

#[test]
fn reconnect_disabled_closes_for_good() {
    let mut sim = Sim::new(Options { reconnect: false, ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    assert_eq!(sim.state(), State::Closed);
}

#[test]
fn max_attempts_stops_with_reconnect_failed() {
    let mut sim = Sim::new(Options { max_attempts: Some(2), ..quiet() });
    sim.connect_and_open();
    for _ in 0..3 {
        sim.server_close(1006);
        sim.advance(1_000.0);
    }
    assert_eq!(sim.state(), State::Closed);
    assert_eq!(sim.errors(), vec!["RECONNECT_FAILED"]);
    assert_eq!(sim.opened.len(), 3);
}

#[test]
fn token_in_message_is_sent_first_on_open() {
    let mut sim = Sim::new(Options {
        token_in: wsocket::options::TokenIn::Message,
        topics: vec!["a".into()],
        ..quiet()
    });
    sim.m.send("queued".to_owned()).unwrap();
    sim.connect();
    let gen = sim.m.gen();
    sim.input(Input::SocketOpened { gen, auth: Some("t0k".into()), since: vec![] });
    let sent = sim.sent_texts();
    assert_eq!(sent[0], r#"{"type":"auth","id":"c-1","data":{"token":"t0k"}}"#);
    assert!(sent[1].contains("\"subscribe\""));
    assert_eq!(sent[2], "queued");
    // The open event comes after the flush, so sends in an open listener stay in order.
    assert_eq!(sim.events.last(), Some(&Event::Open));
}

#[test]
fn reconnects_are_counted_in_stats() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    for _ in 0..3 {
        sim.server_close(1001);
        sim.advance(1_000.0);
        sim.open();
    }
    assert_eq!(sim.m.stats().reconnects, 3);
}
