//! Socket.IO, the core's part: which namespaces the `namespace` option accepts. (The
//! framing is the driver's, `src/web/hub.js`, tested on the golden packets of
//! `tests/fixtures/socketio/` in the JS unit tier, `js/test/`.)
#![cfg(not(target_arch = "wasm32"))]

use wsocket::socketio;

#[test]
fn namespaces_in_any_script_are_valid_and_header_characters_are_not() {
    for nsp in ["/", "/events", "/a-b_c.d", "/événements", "/a\u{a0}b", "/日本"] {
        assert!(socketio::valid_namespace(nsp), "{nsp:?}");
    }
    for bad in
        ["", "events", "/a,b", "/a[", "/a{", "/a\"", "/a\n", "/a\u{7f}", "/a\u{85}", "/a\u{9f}b"]
    {
        assert!(!socketio::valid_namespace(bad), "{bad:?}");
    }
}
