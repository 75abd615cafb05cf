//! Bounded fuzzing in the test tier (the same properties as the `cargo fuzz` targets in
//! `fuzz/`): random strings through the encoder, random call sequences through the
//! machine. No panic, ever. `WSOCKET_FUZZ_RUNS` sets the count (default 20000 per
//! property). Inbound frames are decoded by the hub, in JS: the JS unit tier
//! (`js/test/`) sends mutated golden frames through its `onmessage`.
#![cfg(not(target_arch = "wasm32"))]

use wsocket::backoff::Rng;
use wsocket::codec::Encoder;
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

fn random_string(rng: &mut Rng) -> String {
    (0..pick(rng, 24)).map(|_| ALPHABET[pick(rng, ALPHABET.len())]).collect()
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
