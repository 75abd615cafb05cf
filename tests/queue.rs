//! The bounded send queue: order, flush on open, overflow policies.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::queue::{Overflow, Pushed, SendQueue};
use wsocket::Options;

#[test]
fn sends_while_down_are_flushed_once_in_order_on_open() {
    let mut sim = Sim::new(quiet());
    for i in 0..5 {
        sim.m.send(format!("m{i}")).unwrap();
    }
    assert_eq!(sim.m.stats().queue_len, 5);
    sim.connect_and_open();
    assert_eq!(sim.sent_texts(), vec!["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(sim.m.stats().queue_len, 0);
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert_eq!(sim.sent.len(), 5, "nothing is sent twice");
}

#[test]
fn sends_while_reconnecting_go_out_after_the_resubscribe() {
    let mut sim = Sim::new(Options { topics: vec!["t".into()], ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    sim.m.send("after-drop".into()).unwrap();
    sim.advance(1_000.0);
    sim.open();
    let texts = sim.sent_texts();
    assert!(texts[1].contains("\"subscribe\""));
    assert_eq!(texts[2], "after-drop");
}

/// The server's close frame arrived: the browser refuses writes (CLOSING) until its
/// close event. What the driver could not write, and every send after it, is queued for
/// the next open, in order and once; reliable sends are sent again at open anyway.
#[test]
fn sends_a_closing_socket_refuses_go_out_on_the_next_open_in_order() {
    use wsocket::machine::{Effect, Outbound};
    let mut sim = Sim::new(quiet());
    sim.connect_and_open();
    for i in 0..3 {
        sim.m.send(format!("m{i}")).unwrap();
    }
    sim.m.send_reliable(sim.now, 99, "kept".into(), None).unwrap();
    // The driver writes m0, then the socket refuses m1.
    let Some(Effect::Send { frame: Outbound::Payload(m0), .. }) = sim.m.poll() else {
        panic!("m0 first")
    };
    assert_eq!(m0, "m0");
    let Some(Effect::Send { gen, frame }) = sim.m.poll() else { panic!("m1 next") };
    sim.m.unsent(gen, frame);
    sim.run();
    assert!(sim.sent.is_empty(), "nothing more is written to the closing socket");
    assert!(!sim.m.writable());
    sim.m.send("m3".into()).unwrap();
    sim.run();
    assert!(sim.sent.is_empty(), "a send while closing is queued");
    assert_eq!(sim.m.stats().queue_len, 3);
    sim.server_close(1001);
    sim.advance(1_000.0);
    sim.open();
    assert_eq!(sim.sent_texts(), vec!["kept", "m1", "m2", "m3"]);
    // A stale socket's refusal changes nothing.
    sim.m.unsent(gen, Outbound::Payload("stale".into()));
    assert!(sim.m.writable());
}

#[test]
fn writable_only_when_open_and_nothing_waits() {
    let mut sim = Sim::new(quiet());
    assert!(!sim.m.writable());
    sim.connect_and_open();
    assert!(sim.m.writable());
    sim.m.send("x".into()).unwrap();
    assert!(!sim.m.writable(), "an unexecuted send effect must not be overtaken");
    // What a driver's fast path reads in place: the answer as of the last poll, false
    // while an effect is left to execute.
    let Some(effect) = sim.m.poll() else { panic!("the send") };
    assert!(*sim.m.writable_at_poll(), "nothing is left to overtake once it is polled");
    sim.m.send("y".into()).unwrap();
    sim.m.send("z".into()).unwrap();
    drop(effect);
    assert!(sim.m.poll().is_some());
    assert!(!*sim.m.writable_at_poll(), "z is still to be written");
    sim.run();
    assert!(sim.m.writable());
    assert!(*sim.m.writable_at_poll());
    sim.server_close(1001);
    assert!(!*sim.m.writable_at_poll());
}

#[test]
fn reject_policy_fails_the_send_and_keeps_the_queue() {
    let mut sim = Sim::new(Options { queue_max: 2, ..quiet() });
    sim.m.send("a".into()).unwrap();
    sim.m.send("b".into()).unwrap();
    let err = sim.m.send("c".into()).unwrap_err();
    assert_eq!(err.code(), "QUEUE_FULL");
    sim.connect_and_open();
    assert_eq!(sim.sent_texts(), vec!["a", "b"]);
}

#[test]
fn drop_oldest_keeps_the_newest_and_reports_the_drop() {
    let mut sim =
        Sim::new(Options { queue_max: 2, queue_overflow: Overflow::DropOldest, ..quiet() });
    for m in ["a", "b", "c"] {
        sim.m.send(m.into()).unwrap();
    }
    sim.run();
    assert_eq!(sim.errors(), vec!["QUEUE_OVERFLOW"]);
    assert_eq!(sim.m.stats().dropped, 1);
    sim.connect_and_open();
    assert_eq!(sim.sent_texts(), vec!["b", "c"]);
}

#[test]
fn drop_newest_keeps_the_oldest_and_reports_the_drop() {
    let mut q = SendQueue::new(2, Overflow::DropNewest);
    assert_eq!(q.push(1), Pushed::Queued);
    assert_eq!(q.push(2), Pushed::Queued);
    assert_eq!(q.push(3), Pushed::DroppedNewest(3));
    assert_eq!(q.drain().collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn zero_capacity_drop_oldest_drops_the_new_payload() {
    let mut q = SendQueue::new(0, Overflow::DropOldest);
    assert_eq!(q.push(1), Pushed::DroppedNewest(1));
    assert!(q.is_empty());
}
