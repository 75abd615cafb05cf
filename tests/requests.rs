//! The request table: replies settle, deadlines expire, a final close aborts.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::Timer;
use wsocket::Error;

#[test]
fn a_request_without_reply_times_out_at_its_deadline() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let id = sim.m.next_id();
    sim.m.request(sim.now, id, "req".into(), 3_000.0).unwrap();
    sim.run();
    sim.advance(2_999.0);
    assert!(sim.failed.is_empty());
    sim.advance(1.0);
    assert_eq!(sim.failed, vec![(id, Error::RequestTimeout(id))]);
    assert!(!sim.armed(Timer::Requests));
}

#[test]
fn a_reply_settles_the_request_and_disarms_its_timer() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let id = sim.m.next_id();
    sim.m.request(sim.now, id, "req".into(), 3_000.0).unwrap();
    sim.run();
    sim.reply(id);
    assert!(!sim.armed(Timer::Requests));
    sim.advance(10_000.0);
    assert!(sim.failed.is_empty());
}

#[test]
fn the_machine_says_which_requests_are_pending() {
    // The one owner of "which requests wait": a reply (or an abort) settles a request
    // once; a second answer, or one for an expired request, finds nothing.
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let (a, b) = (sim.m.next_id(), sim.m.next_id());
    sim.m.request(sim.now, a, "a".into(), 1_000.0).unwrap();
    sim.m.send_reliable(sim.now, b, "b".into(), None).unwrap();
    sim.run();
    assert!(sim.m.is_pending(a) && sim.m.is_pending(b));
    assert!(sim.m.settle(sim.now, b));
    assert!(!sim.m.settle(sim.now, b), "settled once");
    assert!(!sim.m.is_pending(b));
    sim.run();
    sim.advance(1_000.0);
    assert_eq!(sim.failed, vec![(a, Error::RequestTimeout(a))]);
    assert!(!sim.m.is_pending(a));
    assert!(!sim.m.settle(sim.now, a), "an expired request answers nothing");
    assert_eq!(sim.m.stats().pending_requests, 0);
}

#[test]
fn several_requests_expire_in_deadline_order() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let a = sim.m.next_id();
    let b = sim.m.next_id();
    sim.m.request(sim.now, a, "a".into(), 5_000.0).unwrap();
    sim.m.request(sim.now, b, "b".into(), 1_000.0).unwrap();
    sim.run();
    sim.advance(1_000.0);
    assert_eq!(sim.failed.iter().map(|f| f.0).collect::<Vec<_>>(), vec![b]);
    sim.advance(4_000.0);
    assert_eq!(sim.failed.iter().map(|f| f.0).collect::<Vec<_>>(), vec![b, a]);
}

#[test]
fn requests_survive_a_reconnect_until_their_timeout() {
    let mut sim = Sim::new(quiet());
    let id = sim.m.next_id();
    sim.m.request(sim.now, id, "queued-req".into(), 10_000.0).unwrap();
    sim.run();
    sim.connect_and_open();
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert!(sim.failed.is_empty());
    sim.reply(id);
    sim.advance(20_000.0);
    assert!(sim.failed.is_empty());
}

#[test]
fn a_final_close_aborts_every_pending_request() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let id = sim.m.next_id();
    sim.m.request(sim.now, id, "r".into(), 10_000.0).unwrap();
    sim.m.close(1000, "").unwrap();
    sim.run();
    sim.server_close(1000);
    assert_eq!(sim.failed, vec![(id, Error::RequestAborted(id))]);
}
