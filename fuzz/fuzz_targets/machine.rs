//! Any sequence of calls into the state machine: never a panic, and never two sockets
//! asked for by one call. The calls are decoded as in the test tier's fuzz test.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsocket::machine::Machine;
use wsocket::Options;

#[path = "../../tests/common/ops.rs"]
mod ops;

fuzz_target!(|data: &[u8]| {
    let opts = Options { heartbeat_interval_ms: 100.0, heartbeat_timeout_ms: 50.0, queue_max: 8, ..Options::default() };
    let Ok(mut m) = Machine::<u8>::new(opts, 1, "f-") else { return };
    let mut now = 0.0;
    for chunk in data.chunks(3) {
        let (op, a, b) = (chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0));
        now += f64::from(a) * 10.0;
        assert!(ops::step(&mut m, now, op, a, b) <= 1, "two sockets asked for by one call");
    }
});
