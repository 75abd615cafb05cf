//! Option validation: every bad value names its field.
#![cfg(not(target_arch = "wasm32"))]

use wsocket::{Error, Machine, Options};

fn field_of(opts: Options) -> String {
    match Machine::<String>::new(opts, 1, "c-").unwrap_err() {
        Error::InvalidOption { field, .. } => field,
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}

#[test]
fn defaults_are_valid() {
    assert!(Options::default().validate().is_ok());
    assert!(Options { max_message_bytes: None, ..Options::default() }.validate().is_ok());
    assert_eq!(Options::default().max_message_bytes, Some(64 * 1024 * 1024));
}

#[test]
fn each_bad_value_names_its_field() {
    let d = Options::default;
    assert_eq!(field_of(Options { event_key: String::new(), ..d() }), "eventKey");
    assert_eq!(field_of(Options { event_key: "id".into(), ..d() }), "eventKey", "a protocol field");
    assert_eq!(field_of(Options { topics: vec![String::new()], ..d() }), "topics");
    assert_eq!(field_of(Options { min_delay_ms: -1.0, ..d() }), "minDelayMs");
    assert_eq!(field_of(Options { max_delay_ms: f64::NAN, ..d() }), "maxDelayMs");
    assert_eq!(field_of(Options { min_delay_ms: 900.0, max_delay_ms: 100.0, ..d() }), "maxDelayMs");
    assert_eq!(field_of(Options { stable_after_ms: f64::INFINITY, ..d() }), "stableAfterMs");
    assert_eq!(field_of(Options { connect_timeout_ms: 1e12, ..d() }), "connectTimeoutMs");
    assert_eq!(field_of(Options { heartbeat_interval_ms: -5.0, ..d() }), "heartbeatIntervalMs");
    assert_eq!(field_of(Options { heartbeat_timeout_ms: -5.0, ..d() }), "heartbeatTimeoutMs");
    assert_eq!(field_of(Options { request_timeout_ms: -1.0, ..d() }), "requestTimeoutMs");
    assert_eq!(field_of(Options { queue_max: 2_000_000, ..d() }), "queueMax");
    assert_eq!(field_of(Options { max_message_bytes: Some(0), ..d() }), "maxMessageBytes");
    assert_eq!(
        field_of(Options { heartbeat_message: Some(String::new()), ..d() }),
        "heartbeatMessage"
    );
}

#[test]
fn subprotocols_are_distinct_tokens() {
    let with = |names: &[&str]| Options {
        subprotocols: names.iter().map(|n| (*n).to_owned()).collect(),
        ..Options::default()
    };
    for good in
        [&[][..], &["wsocket.v1"], &["graphql-transport-ws", "v2.json"], &["a!#$%&'*+-.^_`|~9"]]
    {
        assert!(with(good).validate().is_ok(), "{good:?}");
    }
    for bad in
        [&[""][..], &["two words"], &["a,b"], &["a/b"], &["é"], &["a\u{7f}"], &["x", "y", "x"]]
    {
        assert_eq!(field_of(with(bad)), "subprotocols", "{bad:?}");
    }
    let err = with(&["v1", "v1"]).validate().unwrap_err();
    assert_eq!(err.to_string(), "invalid option `subprotocols`: each may be offered once");
}

#[test]
fn the_error_message_says_what_was_expected() {
    let err = Options { min_delay_ms: -1.0, ..Options::default() }.validate().unwrap_err();
    assert_eq!(err.to_string(), "invalid option `minDelayMs`: expected 0..=86400000 ms, got -1");
    assert_eq!(err.code(), "INVALID_OPTION");
}
