//! The Socket.IO packet codec on golden packets: every kind, namespaces, ack ids,
//! errors, binary headers, and malformed frames that must be refused, not panic.
#![cfg(not(target_arch = "wasm32"))]

use wsocket::socketio::{self, EioKind, Malformed, SioKind};

fn describe(frame: &str) -> Result<String, Malformed> {
    let f = socketio::parse(frame)?;
    Ok(match f.sio {
        None => format!("{:?}", f.eio).to_lowercase(),
        Some(p) => {
            let kind = match p.kind {
                SioKind::Connect => "connect".to_owned(),
                SioKind::Disconnect => "disconnect".to_owned(),
                SioKind::Event => "event".to_owned(),
                SioKind::Ack => "ack".to_owned(),
                SioKind::ConnectError => "connect_error".to_owned(),
                SioKind::BinaryEvent => format!("binary_event:{}", p.attachments),
                SioKind::BinaryAck => format!("binary_ack:{}", p.attachments),
            };
            let ack = p.ack.map_or("-".to_owned(), |a| a.to_string());
            format!("{kind} {} {ack}", p.nsp)
        }
    })
}

#[test]
fn golden_packets_parse_as_specified() {
    let text = include_str!("fixtures/socketio/packets.txt");
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (want, frame) = line.split_once('\t').unwrap();
        assert_eq!(describe(frame).as_deref(), Ok(want), "{frame}");
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn the_payload_starts_where_json_parse_must_begin() {
    let frame = r#"42/admin,13["project:delete",123]"#;
    let f = socketio::parse(frame).unwrap();
    assert_eq!(&frame[f.payload_start..], r#"["project:delete",123]"#);
    let open = r#"0{"sid":"x","pingInterval":25000}"#;
    assert_eq!(
        &open[socketio::parse(open).unwrap().payload_start..],
        r#"{"sid":"x","pingInterval":25000}"#
    );
    assert_eq!(socketio::parse("41/admin,").unwrap().payload_start, 9);
    assert_eq!(socketio::parse("2").unwrap().eio, EioKind::Ping);
}

#[test]
fn malformed_packets_are_refused_with_a_reason() {
    let cases = [
        ("", Malformed::Empty),
        ("7", Malformed::EngineType),
        ("x", Malformed::EngineType),
        ("0", Malformed::Payload),
        ("0[]", Malformed::Payload),
        ("4", Malformed::SocketType),
        ("49[]", Malformed::SocketType),
        (r#"42/admin["x"]"#, Malformed::Namespace),
        ("43[]", Malformed::Payload),
        // A BINARY_ACK answers an ack id, as an ACK does.
        ("461-[{\"_placeholder\":true,\"num\":0}]", Malformed::Payload),
        (r#"42{"a":1}"#, Malformed::Payload),
        ("42", Malformed::Payload),
        (r#"44["x"]"#, Malformed::Payload),
        ("41/admin,[]", Malformed::Payload),
        (r#"45["x"]"#, Malformed::Attachments),
        (r#"451["x"]"#, Malformed::Attachments),
        (r#"4299999999999999999999["x"]"#, Malformed::AckId),
        (r#"429007199254740992["x"]"#, Malformed::AckId),
    ];
    for (frame, want) in cases {
        assert_eq!(socketio::parse(frame), Err(want), "{frame:?}");
    }
    // The largest id a JS number holds exactly is fine.
    assert_eq!(
        socketio::parse(r#"429007199254740991["x"]"#).unwrap().sio.unwrap().ack,
        Some(socketio::MAX_ACK_ID)
    );
}

#[test]
fn encoded_packets_parse_back() {
    for nsp in ["/", "/events", "/a-b_c.d", "/événements", "/a\u{a0}b"] {
        assert!(socketio::valid_namespace(nsp));
        let connect = socketio::connect(nsp, Some(&socketio::auth_json("t\"ok\\en")));
        let p = socketio::parse(&connect).unwrap().sio.unwrap();
        assert_eq!((p.kind, p.nsp, p.ack), (SioKind::Connect, nsp, None));
        let f = socketio::parse(&connect).unwrap();
        let auth: serde_json::Value = serde_json::from_str(&connect[f.payload_start..]).unwrap();
        assert_eq!(auth["token"], "t\"ok\\en");

        for ack in [None, Some(0), Some(42), Some(socketio::MAX_ACK_ID)] {
            let frame = socketio::event(nsp, ack, r#"["message",{"content":"hi"}]"#);
            let f = socketio::parse(&frame).unwrap();
            let p = f.sio.unwrap();
            assert_eq!((p.kind, p.nsp, p.ack), (SioKind::Event, nsp, ack), "{frame}");
            assert_eq!(&frame[f.payload_start..], r#"["message",{"content":"hi"}]"#);
        }
        let frame = socketio::ack(nsp, 9, "[true]");
        let p = socketio::parse(&frame).unwrap().sio.unwrap();
        assert_eq!((p.kind, p.nsp, p.ack), (SioKind::Ack, nsp, Some(9)));
    }
    assert_eq!(socketio::connect("/", None), "40");
    assert_eq!(socketio::event("/events", Some(3), "[\"x\"]"), "42/events,3[\"x\"]");
    for bad in
        ["", "events", "/a,b", "/a[", "/a{", "/a\"", "/a\n", "/a\u{7f}", "/a\u{85}", "/a\u{9f}b"]
    {
        assert!(!socketio::valid_namespace(bad), "{bad:?}");
    }
}
