//! Backoff: exponential with full jitter, bounded, and reset only after a stable period.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{quiet, Sim};
use wsocket::backoff::{Backoff, Rng};
use wsocket::Options;

#[test]
fn delay_stays_within_min_and_the_exponential_ceiling() {
    let b = Backoff { min_delay_ms: 100.0, max_delay_ms: 10_000.0 };
    let mut rng = Rng::new(42);
    for attempt in 1..40 {
        let ceiling = (100.0 * 2f64.powi(attempt as i32 - 1)).min(10_000.0);
        for _ in 0..200 {
            let d = b.delay(attempt, rng.next_f64());
            assert!(d >= 100.0 && d <= ceiling, "attempt {attempt}: {d} outside [100, {ceiling}]");
        }
    }
}

#[test]
fn jitter_spreads_delays_instead_of_a_fixed_interval() {
    let b = Backoff { min_delay_ms: 100.0, max_delay_ms: 60_000.0 };
    let mut rng = Rng::new(9);
    let delays: Vec<f64> = (0..50).map(|_| b.delay(8, rng.next_f64())).collect();
    let distinct = delays.iter().map(|d| *d as u64).collect::<std::collections::BTreeSet<_>>();
    assert!(distinct.len() > 40, "only {} distinct delays", distinct.len());
}

#[test]
fn extreme_jitter_and_huge_attempts_stay_bounded() {
    let b = Backoff { min_delay_ms: 100.0, max_delay_ms: 500.0 };
    assert_eq!(b.delay(u32::MAX, 1.0), 500.0);
    assert_eq!(b.delay(1, -3.0), 100.0);
    assert_eq!(b.delay(3, f64::NAN), 100.0, "a NaN jitter falls back to the minimum");
}

#[test]
fn zero_min_delay_reconnects_at_once() {
    let b = Backoff { min_delay_ms: 0.0, max_delay_ms: 500.0 };
    assert!((1..50).all(|a| b.delay(a, 0.99) == 0.0));
}

#[test]
fn rng_is_reproducible_from_its_seed_and_in_unit_range() {
    let mut a = Rng::new(123);
    let mut b = Rng::new(123);
    for _ in 0..1000 {
        let x = a.next_f64();
        assert_eq!(x, b.next_f64());
        assert!((0.0..1.0).contains(&x));
    }
}

#[test]
fn attempt_counter_grows_while_the_server_flaps() {
    let mut sim = Sim::new(Options { stable_after_ms: 5_000.0, ..quiet() });
    sim.connect_and_open();
    for expected in 1..=4 {
        sim.server_close(1006);
        assert_eq!(sim.m.attempt(), expected);
        sim.advance(1_000.0);
        sim.open();
        sim.advance(1_000.0); // up for 1 s: not stable yet
    }
}

#[test]
fn backoff_resets_only_after_the_connection_stayed_up() {
    let mut sim = Sim::new(Options { stable_after_ms: 5_000.0, ..quiet() });
    sim.connect_and_open();
    sim.server_close(1006);
    sim.advance(1_000.0);
    sim.open();
    assert_eq!(sim.m.attempt(), 1);
    sim.advance(4_999.0);
    assert_eq!(sim.m.attempt(), 1);
    sim.advance(1.0);
    assert_eq!(sim.m.attempt(), 0);
    sim.server_close(1006);
    assert_eq!(sim.m.attempt(), 1);
}

#[test]
fn reconnect_delays_follow_the_backoff_bounds() {
    let mut sim = Sim::new(Options { min_delay_ms: 100.0, max_delay_ms: 800.0, ..quiet() });
    sim.connect_and_open();
    for _ in 0..8 {
        sim.server_close(1006);
        sim.advance(1_000.0);
    }
    let delays = sim.reconnect_delays();
    assert_eq!(delays.len(), 8);
    for (i, d) in delays.iter().enumerate() {
        let ceiling = (100.0 * 2f64.powi(i as i32)).min(800.0);
        assert!(*d >= 100.0 && *d <= ceiling, "attempt {}: {d}", i + 1);
    }
}
