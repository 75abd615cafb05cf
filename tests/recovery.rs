//! Recovery, the core's part: the positions the driver hands over at an open become the
//! resubscribe's `since`. (The duplicate and gap rule is the driver's, where every push
//! arrives: `src/web/hub.js`, tested in the JS unit tier, `js/test/`.)
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::machine::Input;
use wsocket::recovery::Position;
use wsocket::Options;

fn at(topic: &str, seq: u64, epoch: &str) -> Position {
    Position { topic: topic.into(), seq, epoch: epoch.into() }
}

#[test]
fn resubscribe_after_a_drop_carries_the_positions_given_at_open() {
    let mut sim = Sim::new(Options { topics: vec!["t".into(), "u".into()], ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    sim.advance(1_000.0);
    let gen = sim.m.gen();
    // A position of a topic the client no longer holds is not asked for.
    let since = vec![at("t", 41, "e1"), at("gone", 3, "e1")];
    sim.input(Input::SocketOpened { gen, auth: None, since });
    assert_eq!(
        sim.sent_texts()[1],
        r#"{"type":"subscribe","id":"c-2","data":{"topics":["t","u"],"since":{"t":{"seq":41,"epoch":"e1"}}}}"#
    );
}

#[test]
fn a_subscribe_while_open_asks_for_no_replay() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.subscribe(["t"]);
    sim.run();
    assert_eq!(
        *sim.sent_texts().last().unwrap(),
        r#"{"type":"subscribe","id":"c-1","data":{"topics":["t"]}}"#
    );
}

#[test]
fn unsubscribing_returns_the_topics_that_reached_zero_for_the_driver_to_forget() {
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    sim.m.subscribe(["t", "u"]);
    sim.m.subscribe(["t"]);
    assert_eq!(sim.m.unsubscribe(["t", "u"]), vec!["u".to_owned()], "t still held once");
    assert_eq!(sim.m.unsubscribe(["t"]), vec!["t".to_owned()]);
    assert!(sim.m.unsubscribe(["t"]).is_empty(), "not held: nothing to forget");
}
