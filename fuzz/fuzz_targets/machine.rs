//! Any sequence of inputs and user calls into the state machine: never a panic, and never
//! two sockets asked for without the first being given up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsocket::machine::{Effect, Input, Machine, Timer};
use wsocket::Options;

fuzz_target!(|data: &[u8]| {
    let opts = Options { heartbeat_interval_ms: 100.0, heartbeat_timeout_ms: 50.0, queue_max: 8, ..Options::default() };
    let Ok(mut m) = Machine::<u8>::new(opts, 1, "f-") else { return };
    let mut now = 0.0;
    for chunk in data.chunks(3) {
        let (op, a, b) = (chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0));
        now += f64::from(a) * 10.0;
        let gen = u32::from(b % 4);
        match op % 14 {
            0 => m.handle(now, Input::Connect),
            1 => m.handle(now, Input::SocketOpened { gen, auth: None }),
            2 => m.handle(now, Input::SocketClosed { gen, code: 1000 + u16::from(a) * 13, reason: String::new(), was_clean: b % 2 == 0 }),
            3 => m.handle(now, Input::Timer(Timer::ALL[usize::from(a) % 6])),
            4 => m.handle(now, Input::Pong { gen }),
            5 => m.handle(now, Input::Activity { frames_in: u64::from(a) }),
            6 => m.handle(now, Input::Online),
            7 => m.handle(now, Input::Wake),
            8 => {
                let _ = m.send(a);
            }
            9 => {
                let id = m.next_id();
                let _ = m.send_reliable(now, id, a, if b % 2 == 0 { None } else { Some(f64::from(b)) });
            }
            10 => m.subscribe([["a", "b", "c"][usize::from(a) % 3]]),
            11 => m.unsubscribe([["a", "b", "c"][usize::from(a) % 3]]),
            12 => {
                let _ = m.close(u16::from(a) * 40, "");
            }
            _ => {
                let _ = m.observe(["a", "b"][usize::from(a) % 2], u64::from(b), ["e1", "e2"][usize::from(a >> 4) % 2]);
            }
        }
        let mut opened = 0;
        while let Some(effect) = m.poll() {
            if let Effect::OpenSocket { .. } = effect {
                opened += 1;
            }
        }
        assert!(opened <= 1, "two sockets asked for by one input");
    }
});
