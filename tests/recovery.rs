//! Recovery: positions per topic, duplicates dropped, gaps reported, `since` on resubscribe.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::{Event, Input};
use wsocket::recovery::{Gap, Positions, Verdict};
use wsocket::Options;

fn gap(topic: &str, expected: u64, got: Option<u64>) -> Verdict {
    Verdict::Gap(Gap { topic: topic.into(), expected, got })
}

#[test]
fn in_order_pushes_are_delivered_and_replayed_ones_dropped() {
    let mut p = Positions::default();
    assert_eq!(p.observe("t", 5, "e1"), Verdict::Deliver, "first push of a topic");
    assert_eq!(p.observe("t", 6, "e1"), Verdict::Deliver);
    assert_eq!(p.observe("t", 6, "e1"), Verdict::Duplicate);
    assert_eq!(p.observe("t", 3, "e1"), Verdict::Duplicate);
    assert_eq!(p.observe("t", 7, "e1"), Verdict::Deliver);
}

#[test]
fn a_seq_jump_or_a_new_epoch_is_a_gap_and_the_push_is_delivered() {
    let mut p = Positions::default();
    p.observe("t", 1, "e1");
    assert_eq!(p.observe("t", 4, "e1"), gap("t", 2, Some(4)));
    assert_eq!(p.observe("t", 5, "e1"), Verdict::Deliver, "continues from the new position");
    assert_eq!(p.observe("t", 1, "e2"), gap("t", 6, Some(1)));
    assert_eq!(p.observe("t", 2, "e2"), Verdict::Deliver);
}

#[test]
fn topics_are_tracked_independently() {
    let mut p = Positions::default();
    p.observe("a", 1, "e");
    p.observe("b", 10, "e");
    assert_eq!(p.observe("a", 2, "e"), Verdict::Deliver);
    assert_eq!(p.observe("b", 10, "e"), Verdict::Duplicate);
}

#[test]
fn resubscribe_after_a_drop_carries_since_positions() {
    let mut sim = Sim::new(Options { topics: vec!["t".into(), "u".into()], ..quiet() });
    sim.connect_and_open();
    sim.m.observe("t", 41, "e1");
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert_eq!(
        sim.sent_texts()[1],
        r#"{"type":"subscribe","id":"c-2","data":{"topics":["t","u"],"since":{"t":{"seq":41,"epoch":"e1"}}}}"#
    );
}

#[test]
fn a_position_advanced_by_the_driver_is_used_for_since() {
    let mut sim = Sim::new(Options { topics: vec!["t".into()], ..quiet() });
    sim.connect_and_open();
    sim.m.observe("t", 1, "e1");
    sim.m.sync_position("t", 900, "e1");
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert!(sim.sent_texts()[1].contains(r#""since":{"t":{"seq":900,"epoch":"e1"}}"#));
}

#[test]
fn unrecovered_topic_reports_the_gap_at_once_and_starts_over() {
    let mut sim = Sim::new(Options { topics: vec!["t".into()], ..quiet() });
    sim.connect_and_open();
    sim.m.observe("t", 7, "e1");
    sim.input(Input::Subscribed { topic: "t".into(), recovered: false, position: None });
    assert!(sim.events.contains(&Event::Gap(Gap { topic: "t".into(), expected: 8, got: None })));
    assert_eq!(sim.m.observe("t", 1, "e2"), Verdict::Deliver, "no second gap for the same loss");
    assert_eq!(sim.m.stats().gaps, 1);
}

#[test]
fn recovered_topic_reports_nothing() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.observe("t", 7, "e1");
    sim.input(Input::Subscribed { topic: "t".into(), recovered: true, position: None });
    assert!(!sim.events.iter().any(|e| matches!(e, Event::Gap(_))));
}

#[test]
fn duplicates_are_counted_in_stats() {
    let mut sim = Sim::new(quiet());
    sim.m.observe("t", 1, "e");
    sim.m.observe("t", 1, "e");
    assert_eq!(sim.m.stats().duplicates, 1);
}

#[test]
fn unsubscribing_forgets_the_position() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.subscribe(["t"]);
    sim.m.observe("t", 3, "e");
    sim.m.unsubscribe(["t"]);
    sim.m.subscribe(["t"]);
    sim.run();
    assert!(!sim.sent_texts().last().unwrap().contains("since"));
}

#[test]
fn a_first_subscribe_starts_from_the_server_position_so_an_early_drop_is_recovered() {
    let mut sim = Sim::new(Options { topics: vec!["t".into()], ..quiet() });
    sim.connect_and_open();
    let position = Some((30, "e1".to_owned()));
    sim.input(Input::Subscribed { topic: "t".into(), recovered: true, position });
    // The socket drops before the first push of `t` arrives.
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert!(sim.sent_texts()[1].contains(r#""since":{"t":{"seq":30,"epoch":"e1"}}"#));
}

#[test]
fn the_server_position_does_not_override_the_clients_own() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.observe("t", 5, "e1");
    let position = Some((9, "e1".to_owned()));
    sim.input(Input::Subscribed { topic: "t".into(), recovered: true, position });
    assert_eq!(sim.m.observe("t", 6, "e1"), Verdict::Deliver, "the replay of 6..9 still counts");
}

#[test]
fn after_an_unrecovered_answer_the_server_position_is_the_new_start() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.observe("t", 5, "e1");
    let position = Some((50, "e1".to_owned()));
    sim.input(Input::Subscribed { topic: "t".into(), recovered: false, position });
    assert_eq!(sim.m.observe("t", 51, "e1"), Verdict::Deliver);
    assert_eq!(sim.m.stats().gaps, 1);
}
