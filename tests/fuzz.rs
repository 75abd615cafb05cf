//! Bounded fuzzing in the test tier (the same properties as the `cargo fuzz` targets in
//! `fuzz/`): mutated golden frames and random text through every decoder, random
//! strings through the encoder, random call sequences through the machine. No panic,
//! ever. `WSOCKET_FUZZ_RUNS` sets the count (default 20000 per property).
#![cfg(not(target_arch = "wasm32"))]

use wsocket::backoff::Rng;
use wsocket::codec::{decode_event, decode_typed, Encoder};
use wsocket::machine::Machine;
use wsocket::Options;

#[path = "common/ops.rs"]
mod ops;

fn runs() -> usize {
    std::env::var("WSOCKET_FUZZ_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000)
}

fn pick(rng: &mut Rng, n: usize) -> usize {
    (rng.next_f64() * n as f64) as usize % n.max(1)
}

fn fixtures() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect()
}

const ALPHABET: &[char] = &[
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    '\\',
    'u',
    '0',
    '9',
    'e',
    '-',
    '.',
    ' ',
    'a',
    'é',
    '\u{0}',
    '\u{1F600}',
    't',
    'n',
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + pick(rng, 6) {
        let at = pick(rng, chars.len() + 1);
        match pick(rng, 4) {
            0 if !chars.is_empty() => {
                chars.remove(at.min(chars.len() - 1));
            }
            1 => chars.insert(at, ALPHABET[pick(rng, ALPHABET.len())]),
            2 => chars.truncate(at),
            _ => {
                let copy: Vec<char> = chars.iter().skip(at).take(pick(rng, 20)).copied().collect();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

fn random_string(rng: &mut Rng) -> String {
    (0..pick(rng, 24)).map(|_| ALPHABET[pick(rng, ALPHABET.len())]).collect()
}

#[test]
fn decoders_never_panic_on_mutated_frames() {
    let mut rng = Rng::new(0xF022);
    let seeds = fixtures();
    let (mut ok, mut err) = (0, 0);
    for i in 0..runs() {
        let seed = &seeds[pick(&mut rng, seeds.len())];
        let text = if i % 4 == 0 { random_string(&mut rng) } else { mutate(&mut rng, seed) };
        match decode_typed(&text) {
            Ok(messages) => {
                assert!(messages.iter().all(|m| m.kind != "batch"), "batch left packed: {text}");
                ok += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                err += 1;
            }
        }
        let _ = decode_event(&text);
    }
    println!("fuzz decoders: {} inputs, {ok} decoded, {err} refused", runs());
}

#[test]
fn the_encoder_always_writes_json_that_decodes_to_its_inputs() {
    let mut rng = Rng::new(0xE7C0);
    for _ in 0..runs() {
        let (key, id, topic, token) = (
            random_string(&mut rng),
            random_string(&mut rng),
            random_string(&mut rng),
            random_string(&mut rng),
        );
        let reserved = key.is_empty() || wsocket::options::RESERVED_FIELDS.contains(&key.as_str());
        let key = if reserved { "type".to_owned() } else { key };
        let e = Encoder::new(&key);
        let seq = (rng.next_f64() * 1e15) as u64;
        let frame = e.subscribe_since(
            &id,
            std::slice::from_ref(&topic),
            &[(topic.as_str(), seq, id.as_str())],
        );
        let v: serde_json::Value =
            serde_json::from_str(&frame).unwrap_or_else(|err| panic!("{frame}: {err}"));
        assert_eq!(v[&key], "subscribe");
        assert_eq!(v["id"], id.as_str());
        assert_eq!(v["data"]["since"][&topic]["seq"], seq);
        let auth: serde_json::Value = serde_json::from_str(&e.auth(&id, &token)).unwrap();
        assert_eq!(auth["data"]["token"], token.as_str());
        let ping: serde_json::Value =
            serde_json::from_str(&e.ping(&id, rng.next_f64() * 1e13)).unwrap();
        assert!(ping["timestamp"].is_u64());
    }
    println!("fuzz encoder: {} inputs round-tripped", runs());
}

#[test]
fn the_machine_never_panics_and_never_asks_for_two_sockets_at_once() {
    let mut rng = Rng::new(0x3AC1);
    let mut steps = 0u64;
    for _ in 0..runs() / 20 {
        let opts = Options {
            heartbeat_interval_ms: 100.0,
            heartbeat_timeout_ms: 50.0,
            queue_max: 8,
            ..Options::default()
        };
        let mut m = Machine::<u8>::new(opts, (rng.next_f64() * 1e9) as u64, "f-").unwrap();
        let mut now = 0.0;
        for _ in 0..200 {
            steps += 1;
            let [op, a, b] = [0; 3].map(|_| pick(&mut rng, 256) as u8);
            now += f64::from(a) * 2.0;
            let opens = ops::step(&mut m, now, op, a, b);
            assert!(opens <= 1, "one call asked for {opens} sockets");
        }
    }
    println!("fuzz machine: {steps} random steps");
}
