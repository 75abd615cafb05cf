//! One random step of the state machine, decoded from three bytes. Shared by the fuzz
//! test of the test tier (`tests/fuzz.rs`) and the `cargo fuzz` target (`fuzz/`), so
//! both drive the machine through the same calls.

use wsocket::machine::{Effect, Input, Machine, Timer};

const CODES: [u16; 11] = [1000, 1001, 1006, 1008, 1009, 1011, 1012, 4000, 4001, 4008, 4321];

/// Applies the call that `op` selects, then drains the effects; returns how many sockets
/// the call asked for.
pub fn step(m: &mut Machine<u8>, now: f64, op: u8, a: u8, b: u8) -> usize {
    let gen = u32::from(b % 4);
    let topic = ["a", "b", "c"][usize::from(a) % 3];
    match op % 14 {
        0 => m.handle(now, Input::Connect),
        1 => m.handle(now, Input::SocketOpened { gen, auth: None, since: vec![] }),
        2 => {
            let code = CODES[usize::from(a) % CODES.len()];
            m.handle(
                now,
                Input::SocketClosed { gen, code, reason: String::new(), was_clean: b % 2 == 0 },
            )
        }
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
        10 => m.subscribe([topic]),
        11 => {
            let _ = m.unsubscribe([topic]);
        }
        12 => {
            let _ = m.close([1000, 1005, 3000, 4999, 5000][usize::from(a) % 5], "");
        }
        _ => {
            let since = vec![wsocket::recovery::Position {
                topic: topic.to_owned(),
                seq: u64::from(a),
                epoch: ["e1", "e2"][usize::from(b % 2)].to_owned(),
            }];
            m.handle(now, Input::SocketOpened { gen, auth: None, since })
        }
    }
    std::iter::from_fn(|| m.poll()).filter(|e| matches!(e, Effect::OpenSocket { .. })).count()
}
