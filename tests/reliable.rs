//! Reliable sends: kept until acknowledged, resent with the same payload after reconnects.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::{Error, Options};

#[test]
fn an_unacknowledged_send_is_resent_on_every_open_until_acked() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    let id = sim.m.next_id();
    sim.m.send_reliable(sim.now, id, "r1".into(), None).unwrap();
    sim.run();
    assert_eq!(sim.sent_texts(), vec!["r1"]);
    for _ in 0..2 {
        sim.server_close(1006);
        sim.advance(1_000.0);
        sim.open();
    }
    assert_eq!(sim.sent_texts(), vec!["r1", "r1", "r1"]);
    sim.reply(id);
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert_eq!(sim.sent.len(), 3, "acknowledged: not sent again");
}

#[test]
fn a_reliable_send_while_down_goes_out_once_on_open_before_the_queue() {
    let mut sim = Sim::new(quiet());
    sim.m.send("plain".into()).unwrap();
    let id = sim.m.next_id();
    sim.m.send_reliable(sim.now, id, "sure".into(), None).unwrap();
    sim.connect_and_open();
    assert_eq!(sim.sent_texts(), vec!["sure", "plain"]);
}

#[test]
fn resends_keep_id_order() {
    let mut sim = Sim::new(quiet());
    for p in ["a", "b", "c"] {
        let id = sim.m.next_id();
        sim.m.send_reliable(sim.now, id, p.into(), None).unwrap();
    }
    sim.connect_and_open();
    assert_eq!(sim.sent_texts(), vec!["a", "b", "c"]);
}

#[test]
fn reliable_sends_are_bounded_by_queue_max() {
    let mut sim = Sim::new(Options { queue_max: 2, ..quiet() });
    for p in ["a", "b"] {
        let id = sim.m.next_id();
        sim.m.send_reliable(sim.now, id, p.into(), None).unwrap();
    }
    let id = sim.m.next_id();
    assert_eq!(sim.m.send_reliable(sim.now, id, "c".into(), None), Err(Error::QueueFull(2)));
}

#[test]
fn a_reliable_request_with_a_timeout_fails_at_its_deadline() {
    let mut sim = Sim::new(quiet());
    let id = sim.m.next_id();
    sim.m.send_reliable(sim.now, id, "r".into(), Some(500.0)).unwrap();
    sim.run();
    sim.advance(500.0);
    assert_eq!(sim.failed, vec![(id, Error::RequestTimeout(id))]);
    sim.connect_and_open();
    assert!(sim.sent.is_empty(), "a failed request is not resent");
}
