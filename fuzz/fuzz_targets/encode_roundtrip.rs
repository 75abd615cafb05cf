//! Any strings through the hand-written encoder: valid JSON that decodes to the same
//! strings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsocket::codec::Encoder;

fuzz_target!(|data: (String, String, String, u64)| {
    let (key, id, topic, seq) = data;
    // Options refuse an empty key or one that is a protocol field.
    if key.is_empty() || wsocket::options::RESERVED_FIELDS.contains(&key.as_str()) {
        return;
    }
    let e = Encoder::new(&key);
    let topics = vec![topic.clone()];
    let frame = e.subscribe_since(&id, &topics, &[(topic.as_str(), seq, id.as_str())]);
    let v: serde_json::Value = serde_json::from_str(&frame).expect("the encoder writes valid JSON");
    assert_eq!(v[&key], "subscribe");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["data"]["topics"][0], topic.as_str());
    assert_eq!(v["data"]["since"][&topic]["seq"], seq);
    let auth: serde_json::Value = serde_json::from_str(&e.auth(&id, &topic)).expect("valid JSON");
    assert_eq!(auth["data"]["token"], topic.as_str());
});
