//! The close-code table of DESIGN §3: one case per code.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::close::{self, ClosePolicy};
use wsocket::machine::State;

fn after_close(code: u16) -> Sim {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.server_close(code);
    sim
}

fn assert_reconnects(code: u16) {
    let mut sim = after_close(code);
    assert_eq!(sim.state(), State::Reconnecting, "code {code}");
    sim.advance(1_000.0);
    assert_eq!(sim.opened.len(), 2, "code {code} should reconnect");
}

fn assert_stops(code: u16) {
    let mut sim = after_close(code);
    assert_eq!(sim.state(), State::Closed, "code {code}");
    sim.advance(600_000.0);
    assert_eq!(sim.opened.len(), 1, "code {code} must not reconnect");
}

#[test]
fn code_1000_normal_does_not_reconnect() {
    assert_stops(1000);
    assert!(after_close(1000).errors().contains(&"CLOSED_BY_SERVER"));
}

#[test]
fn code_1001_going_away_reconnects() {
    assert_reconnects(1001);
}

#[test]
fn code_1005_no_status_reconnects() {
    assert_reconnects(1005);
}

#[test]
fn code_1006_abnormal_reconnects() {
    assert_reconnects(1006);
}

#[test]
fn code_1008_policy_does_not_reconnect() {
    assert_stops(1008);
}

#[test]
fn code_1009_too_big_does_not_reconnect() {
    assert_stops(1009);
}

#[test]
fn code_1011_internal_error_reconnects() {
    assert_reconnects(1011);
}

#[test]
fn code_1012_service_restart_reconnects() {
    assert_reconnects(1012);
}

#[test]
fn code_1013_try_again_later_reconnects() {
    assert_reconnects(1013);
}

#[test]
fn code_4000_heartbeat_timeout_reconnects() {
    assert_reconnects(4000);
}

#[test]
fn code_4001_unauthorized_does_not_reconnect() {
    assert_stops(4001);
}

#[test]
fn code_4008_rate_limited_reconnects_after_a_longer_delay() {
    let mut sim = after_close(4008);
    assert_eq!(sim.state(), State::Reconnecting);
    let delay = sim.reconnect_delays()[0];
    assert!(delay >= close::RATE_LIMIT_DELAY_MS, "delay {delay}");
    sim.advance(delay - 1.0);
    assert_eq!(sim.opened.len(), 1);
    sim.advance(1.0);
    assert_eq!(sim.opened.len(), 2);
}

#[test]
fn unknown_codes_reconnect() {
    assert_eq!(close::policy(4321), ClosePolicy::Reconnect);
    assert_reconnects(4321);
}

#[test]
fn client_close_validation_matches_the_browser() {
    assert!(close::validate(1000, "").is_ok());
    assert!(close::validate(3000, "").is_ok());
    assert!(close::validate(4999, "").is_ok());
    for bad in [0, 999, 1001, 1005, 1006, 2999, 5000] {
        assert_eq!(close::validate(bad, "").unwrap_err().code(), "INVALID_CLOSE_CODE", "{bad}");
    }
    assert!(close::validate(1000, &"é".repeat(61)).is_ok()); // 122 bytes
    assert_eq!(close::validate(1000, &"é".repeat(62)).unwrap_err().code(), "INVALID_CLOSE_REASON");
}
