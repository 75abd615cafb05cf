//! Topics: reference counting, and resubscription on every open.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::topics::Topics;
use wsocket::Options;

#[test]
fn only_the_first_reference_subscribes_and_the_last_unsubscribes() {
    let mut t = Topics::default();
    assert_eq!(t.add(["a", "b"]), vec!["a", "b"]);
    assert_eq!(t.add(["a"]), Vec::<String>::new());
    assert_eq!(t.count("a"), 2);
    assert_eq!(t.remove(["a"]), Vec::<String>::new());
    assert_eq!(t.remove(["a", "zzz"]), vec!["a"]);
    assert_eq!(t.active(), vec!["b"]);
}

#[test]
fn duplicate_topics_in_one_call_subscribe_once() {
    let mut t = Topics::default();
    assert_eq!(t.add(["a", "a"]), vec!["a"]);
    assert_eq!(t.count("a"), 2);
}

#[test]
fn subscribe_while_open_sends_one_frame_for_new_topics_only() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.subscribe(["x", "y"]);
    sim.m.subscribe(["x"]);
    sim.run();
    assert_eq!(
        sim.sent_texts(),
        vec![r#"{"type":"subscribe","id":"c-1","data":{"topics":["x","y"]}}"#]
    );
    sim.m.unsubscribe(["x"]);
    sim.run();
    assert_eq!(sim.sent.len(), 1, "x still has one reference");
    sim.m.unsubscribe(["x", "y"]);
    sim.run();
    assert_eq!(
        sim.sent_texts()[1],
        r#"{"type":"unsubscribe","id":"c-2","data":{"topics":["x","y"]}}"#
    );
}

#[test]
fn topics_are_resubscribed_on_every_open() {
    let mut sim = Sim::new(Options { topics: vec!["task:progress".into()], ..quiet() });
    sim.m.subscribe(["user:42"]);
    sim.connect_and_open();
    for _ in 0..3 {
        sim.server_close(1012);
        sim.advance(1_000.0);
        sim.open();
    }
    let subs: Vec<&str> =
        sim.sent_texts().into_iter().filter(|s| s.contains("\"subscribe\"")).collect();
    assert_eq!(subs.len(), 4);
    for s in subs {
        assert!(s.contains(r#"["task:progress","user:42"]"#), "{s}");
    }
}

#[test]
fn unsubscribed_topics_are_not_resubscribed() {
    let mut sim = Sim::new(quiet());
    sim.m.subscribe(["a", "b"]);
    sim.m.unsubscribe(["a"]);
    sim.connect_and_open();
    assert_eq!(
        sim.sent_texts(),
        vec![r#"{"type":"subscribe","id":"c-1","data":{"topics":["b"]}}"#]
    );
}
