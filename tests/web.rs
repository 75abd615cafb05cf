//! The browser tier: every scenario of `tests/web/scenarios.js`, in headless Chromium,
//! against the companion server at `WSOCKET_TEST_SERVER` (set by `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use wsocket::WsClient;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = match option_env!("WSOCKET_TEST_SERVER") {
    Some(s) => s,
    None => "127.0.0.1:8080",
};

/// A second server that requires the token `good-token`.
const AUTH_SERVER: &str = match option_env!("WSOCKET_TEST_AUTH_SERVER") {
    Some(s) => s,
    None => "127.0.0.1:8081",
};

/// A companion server whose `/socket.io/` relays to the reference `socket.io` server
/// from npm (tests/socketio-reference/gateway.mjs).
const SIO_REFERENCE_SERVER: &str = match option_env!("WSOCKET_TEST_SIO_REFERENCE_SERVER") {
    Some(s) => s,
    None => "127.0.0.1:8082",
};

#[wasm_bindgen(module = "/tests/web/scenarios.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = runSio)]
    async fn run_sio(name: &str, server: &str, make: &js_sys::Function)
        -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = sioNames)]
    fn sio_names() -> Vec<String>;
    #[wasm_bindgen(catch)]
    async fn run(
        name: &str,
        server: &str,
        auth_server: &str,
        make: &js_sys::Function,
    ) -> Result<JsValue, JsValue>;
    fn names() -> Vec<String>;
}

// The raw wasm-bindgen class has no `on`, `once` or `off`: listeners are the hub's, and
// the package's `WsClient` (js/index.js) adds them there. The scenarios get the same three.
#[wasm_bindgen(inline_js = "export function listening(client) {
  const hub = client.__hub;
  client.on = (event, listener) => hub.on(event, listener, false);
  client.once = (event, listener) => hub.on(event, listener, true);
  client.off = (event, listener) => hub.off(event, listener);
  return client;
}")]
extern "C" {
    fn listening(client: JsValue) -> JsValue;
}

fn make(url: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    WsClient::new(url, options).map(|c| listening(JsValue::from(c)))
}

async fn scenario(name: &str) {
    let make = Closure::<dyn FnMut(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(make);
    if let Err(e) = run(name, SERVER, AUTH_SERVER, make.as_ref().unchecked_ref()).await {
        let message = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string());
        panic!("{name}: {}", message.unwrap_or_else(|| format!("{e:?}")));
    }
}

async fn sio_scenario(name: &str, server: &str) {
    let make = Closure::<dyn FnMut(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(make);
    if let Err(e) = run_sio(name, server, make.as_ref().unchecked_ref()).await {
        let message = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string());
        panic!("{name} against {server}: {}", message.unwrap_or_else(|| format!("{e:?}")));
    }
}

/// Each Socket.IO scenario twice: against the companion server's socketioxide gateway,
/// and against the reference `socket.io` server.
macro_rules! sio_scenarios {
    ($($name:literal => $ours:ident, $reference:ident;)*) => {
        $(
            #[wasm_bindgen_test]
            async fn $ours() {
                sio_scenario($name, AUTH_SERVER).await;
            }

            #[wasm_bindgen_test]
            async fn $reference() {
                sio_scenario($name, SIO_REFERENCE_SERVER).await;
            }
        )*

        /// Connection state recovery is an extension of the reference server that
        /// socketioxide does not have: that scenario runs against the reference only.
        #[wasm_bindgen_test]
        async fn socketio_reference_connection_state_recovery() {
            sio_scenario("sioConnectionStateRecovery", SIO_REFERENCE_SERVER).await;
        }

        #[wasm_bindgen_test]
        fn every_socketio_scenario_has_a_test() {
            let mut listed = sio_names();
            listed.sort();
            let mut ours = vec!["sioConnectionStateRecovery".to_owned(), $($name.to_owned()),*];
            ours.sort();
            assert_eq!(listed, ours);
        }
    };
}

sio_scenarios! {
    "sioEmitOnRoomsAndAcks" => socketio_emit_on_rooms_and_acks, socketio_reference_emit_on_rooms_and_acks;
    "sioGatewayValidationAndAckTimeout" => socketio_gateway_validation_and_ack_timeout, socketio_reference_gateway_validation_and_ack_timeout;
    "sioRejectedAuthIsConnectErrorWithoutALoop" => socketio_rejected_auth_is_connect_error_without_a_loop, socketio_reference_rejected_auth_is_connect_error_without_a_loop;
    "sioReconnectAndRejoinAfterAbruptDrop" => socketio_reconnect_and_rejoin_after_abrupt_drop, socketio_reference_reconnect_and_rejoin_after_abrupt_drop;
    "sioDeadServerFoundByThePingWatchdog" => socketio_dead_server_found_by_the_ping_watchdog, socketio_reference_dead_server_found_by_the_ping_watchdog;
    "sioNamespaceOutsideAsciiOpensAndGetsItsEvents" => socketio_namespace_outside_ascii_opens_and_gets_its_events, socketio_reference_namespace_outside_ascii_opens_and_gets_its_events;
    "sioServerDisconnectDoesNotReconnect" => socketio_server_disconnect_does_not_reconnect, socketio_reference_server_disconnect_does_not_reconnect;
    "sioBinaryAttachmentsBothWays" => socketio_binary_attachments_both_ways, socketio_reference_binary_attachments_both_ways;
    "sioMalformedPacketsAndStrayAttachmentsAreReportedAndSkipped" => socketio_malformed_packets_and_stray_attachments_are_reported_and_skipped, socketio_reference_malformed_packets_and_stray_attachments_are_reported_and_skipped;
}

macro_rules! scenarios {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[wasm_bindgen_test]
            async fn $test() {
                scenario($name).await;
            }
        )*

        #[wasm_bindgen_test]
        fn every_scenario_has_a_test() {
            let mut listed = names();
            listed.sort();
            let mut ours = vec![$($name.to_owned()),*];
            ours.sort();
            assert_eq!(listed, ours);
        }
    };
}

scenarios! {
    dispatch_by_type_event_and_topic => "dispatchByTypeEventAndTopic",
    dispatch_by_event_key_on_legacy_backend => "dispatchByEventKeyOnLegacyBackend",
    batch_is_unpacked_in_order => "batchIsUnpackedInOrder",
    send_and_request_reply => "sendAndRequestReply",
    request_times_out => "requestTimesOut",
    freeing_the_client_rejects_its_pending_requests => "freeingTheClientRejectsItsPendingRequests",
    freeing_the_client_in_a_listener_stops_that_frame => "freeingTheClientInAListenerStopsThatFrame",
    reconnect_after_abrupt_drop => "reconnectAfterAbruptDrop",
    reconnect_after_going_away_1001 => "reconnectAfterGoingAway1001",
    reconnect_after_service_restart_1012 => "reconnectAfterServiceRestart1012",
    no_reconnect_after_user_close => "noReconnectAfterUserClose",
    no_reconnect_after_server_close_1000 => "noReconnectAfterServerClose1000",
    sends_while_disconnected_arrive_once_in_order => "sendsWhileDisconnectedArriveOnceInOrder",
    sends_while_the_server_closes_are_queued_not_lost => "sendsWhileTheServerClosesAreQueuedNotLost",
    a_repeated_live_push_is_dropped_and_gaps_count_from_the_last_delivered => "aRepeatedLivePushIsDroppedAndGapsCountFromTheLastDelivered",
    topics_are_resubscribed_after_reconnect => "topicsAreResubscribedAfterReconnect",
    malformed_frame_and_throwing_listener_do_not_stop_delivery => "malformedFrameAndThrowingListenerDoNotStopDelivery",
    binary_where_text_was_expected_is_reported => "binaryWhereTextWasExpectedIsReported",
    raw_protocol_delivers_frames_as_they_are => "rawProtocolDeliversFramesAsTheyAre",
    options_are_validated_with_the_field_named => "optionsAreValidatedWithTheFieldNamed",
    subprotocols_are_offered_at_every_connect => "subprotocolsAreOfferedAtEveryConnect",
    close_arguments_are_validated => "closeArgumentsAreValidated",
    urls_as_the_websocket_constructor_takes_them => "urlsAsTheWebSocketConstructorTakesThem",
    arguments_of_the_wrong_type_are_refused => "argumentsOfTheWrongTypeAreRefused",
    method_options_name_the_field => "methodOptionsNameTheField",
    once_off_and_unsubscribe_functions => "onceOffAndUnsubscribeFunctions",
    the_same_function_added_twice_is_two_listeners => "theSameFunctionAddedTwiceIsTwoListeners",
    listeners_changed_between_frames_are_heard_from_the_next_frame => "listenersChangedBetweenFramesAreHeardFromTheNextFrame",
    frames_over_max_message_bytes_are_skipped_and_reported => "framesOverMaxMessageBytesAreSkippedAndReported",
    token_provider_is_called_before_every_connect => "tokenProviderIsCalledBeforeEveryConnect",
    url_provider_is_called_before_every_connect => "urlProviderIsCalledBeforeEveryConnect",
    missed_pushes_are_replayed_once_in_order_after_a_drop => "missedPushesAreReplayedOnceInOrderAfterADrop",
    gap_is_reported_when_the_server_lost_its_history => "gapIsReportedWhenTheServerLostItsHistory",
    reliable_sends_take_effect_once_across_drops => "reliableSendsTakeEffectOnceAcrossDrops",
    retried_request_resolves_after_a_reconnect => "retriedRequestResolvesAfterAReconnect",
    token_is_refreshed_once_on_4001_then_connects => "tokenIsRefreshedOnceOn4001ThenConnects",
    a_token_that_stays_bad_stops_without_a_loop => "aTokenThatStaysBadStopsWithoutALoop",
    wake_up_finds_a_dead_connection_at_once => "wakeUpFindsADeadConnectionAtOnce",
    online_event_and_pageshow_reconnect_at_once => "onlineEventAndPageshowReconnectAtOnce",
    bad_input_is_reported_and_nothing_is_lost => "badInputIsReportedAndNothingIsLost",
    chaos_loses_nothing_and_duplicates_nothing => "chaosLosesNothingAndDuplicatesNothing",
    random_frames_never_escape_the_client => "randomFramesNeverEscapeTheClient",
    random_socket_io_frames_never_escape_the_client => "randomSocketIoFramesNeverEscapeTheClient",
    packaged_client_sends_fast_and_keeps_order => "packagedClientSendsFastAndKeepsOrder",
    packaged_client_requests_stop_at_their_signal => "packagedClientRequestsStopAtTheirSignal",
    legacy_bug_1_second_on_does_not_replace_first => "legacyBug1SecondOnDoesNotReplaceFirst",
    legacy_bug_2_no_duplicate_heartbeat_after_reconnects => "legacyBug2NoDuplicateHeartbeatAfterReconnects",
    legacy_bug_3_reconnect_works_repeatedly_with_jitter_for_every_code => "legacyBug3ReconnectWorksRepeatedlyWithJitterForEveryCode",
    legacy_bug_4_non_json_frame_does_not_throw => "legacyBug4NonJsonFrameDoesNotThrow",
    legacy_bug_5_send_while_closed_is_queued_not_thrown_or_dropped => "legacyBug5SendWhileClosedIsQueuedNotThrownOrDropped",
    legacy_bug_6_close_before_connect_does_not_throw => "legacyBug6CloseBeforeConnectDoesNotThrow",
    legacy_bug_7_half_open_connection_is_detected => "legacyBug7HalfOpenConnectionIsDetected",
}

// ---- The Rust API (`wsocket::Client`), driven from Rust ------------------------------

mod rust_api {
    use std::cell::RefCell;
    use std::future::Future;
    use std::rc::Rc;

    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::*;
    use wsocket::{Client, ClientEvent, ErrorCode, Options, State};

    use super::SERVER;

    #[wasm_bindgen(module = "/tests/web/scenarios.js")]
    extern "C" {
        #[wasm_bindgen(catch)]
        async fn control(server: &str, path: &str, body: JsValue) -> Result<JsValue, JsValue>;
    }

    async fn post(path: &str, body: &str) {
        let body = if body.is_empty() { JsValue::UNDEFINED } else { JsValue::from_str(body) };
        control(SERVER, path, body).await.expect(path);
    }

    fn sleep(ms: i32) -> JsFuture {
        JsFuture::from(js_sys::Promise::new(&mut |resolve, _| {
            let global = js_sys::global();
            let set = js_sys::Reflect::get(&global, &"setTimeout".into()).unwrap();
            let set: js_sys::Function = set.into();
            set.call2(&global, &resolve, &JsValue::from(ms)).unwrap();
        }))
    }

    /// Awaits `fut`, failing the test after `ms`.
    async fn within<T>(ms: i32, what: &str, fut: impl Future<Output = T>) -> T {
        let fut = std::pin::pin!(fut);
        let timer = std::pin::pin!(sleep(ms));
        let mut both = (fut, timer);
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(v) = both.0.as_mut().poll(cx) {
                return std::task::Poll::Ready(v);
            }
            if both.1.as_mut().poll(cx).is_ready() {
                panic!("timed out after {ms} ms waiting for {what}");
            }
            std::task::Poll::Pending
        })
        .await
    }

    /// The next event matching `want`, skipping others.
    async fn until(
        events: &mut wsocket::Events,
        what: &str,
        want: impl Fn(&ClientEvent) -> bool,
    ) -> ClientEvent {
        within(5000, what, async {
            loop {
                let event =
                    events.recv().await.unwrap_or_else(|| panic!("stream ended before {what}"));
                if want(&event) {
                    return event;
                }
            }
        })
        .await
    }

    fn options() -> Options {
        Options { min_delay_ms: 20.0, max_delay_ms: 200.0, ..Options::default() }
    }

    fn url(cid: &str) -> String {
        format!("ws://{SERVER}/ws?cid={cid}")
    }

    #[wasm_bindgen_test]
    async fn rust_api_stream_sees_messages_a_drop_and_the_reconnect() {
        let cid = format!("rust-stream-{}", js_sys::Date::now());
        let subprotocols = vec!["wsocket.v1".to_owned()];
        let client = Client::new(&url(&cid), Options { subprotocols, ..options() }).unwrap();
        let mut events = client.events(&["rust_tick", "subscribed"]).unwrap();
        client.connect();
        let open = until(&mut events, "open", |e| matches!(e, ClientEvent::Open { .. })).await;
        assert!(matches!(&open, ClientEvent::Open { subprotocol } if subprotocol == "wsocket.v1"));
        client.subscribe(&["rust:topic"]).unwrap();
        until(&mut events, "subscribed", |e| matches!(e, ClientEvent::Message(_))).await;
        post("/publish", r#"{"topic":"rust:topic","event":"rust_tick","data":{"n":7}}"#).await;
        let tick = until(&mut events, "the published message", |e| {
            matches!(e, ClientEvent::Message(m) if m.field("type").as_deref() == Some("rust_tick"))
        })
        .await;
        let ClientEvent::Message(m) = tick else { unreachable!() };
        assert_eq!(m.data_json(), r#"{"n":7}"#);
        assert_eq!(m.topic().as_deref(), Some("rust:topic"));

        post(&format!("/control/drop?cid={cid}"), "").await;
        let close = until(&mut events, "close", |e| matches!(e, ClientEvent::Close { .. })).await;
        assert!(
            matches!(close, ClientEvent::Close { code: 1006, was_clean: false, .. }),
            "{close:?}"
        );
        until(&mut events, "reconnecting", |e| {
            matches!(e, ClientEvent::Reconnecting { attempt: 1, .. })
        })
        .await;
        until(&mut events, "open again", |e| matches!(e, ClientEvent::Open { .. })).await;
        assert_eq!(client.state(), State::Open);
        let stats = client.stats();
        assert_eq!((stats.state, stats.reconnects), (State::Open, 1), "{stats:?}");
        // In: the `subscribed` answer and the push; out: the subscribe.
        assert!(stats.messages_in >= 2 && stats.messages_out >= 1, "{stats:?}");
        assert!(stats.bytes_in > 0 && stats.bytes_out > 0, "{stats:?}");
        assert_eq!((stats.malformed, stats.oversized, stats.listener_errors), (0, 0, 0));

        client.close(1000, "done").unwrap();
        until(&mut events, "closed", |e| matches!(e, ClientEvent::State { to: State::Closed, .. }))
            .await;
        assert!(within(1000, "the end of the stream", events.recv()).await.is_none());
    }

    #[wasm_bindgen_test]
    async fn rust_api_closures_request_and_listener_removal() {
        let cid = format!("rust-closures-{}", js_sys::Date::now());
        let client = Client::new(&url(&cid), options()).unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let listener = client.on("ack", move |m| log.borrow_mut().push(m.field("id"))).unwrap();
        let states = Rc::new(RefCell::new(Vec::new()));
        let log = states.clone();
        let errors = Rc::new(RefCell::new(Vec::new()));
        let log_error = errors.clone();
        let _lifecycle = client
            .on_event(move |e| match e {
                ClientEvent::State { to, .. } => log.borrow_mut().push(to),
                ClientEvent::Error(e) => log_error.borrow_mut().push(e.code()),
                _ => {}
            })
            .unwrap();

        // Queued before connect, sent on open, acknowledged by the server.
        let id = client.send_json(r#"{"type":"custom_action","data":{}}"#).unwrap();
        assert!(id.is_some());
        client.connect();
        let reply = within(5000, "echo", client.request("echo", &JsValue::from_str("hi"), None))
            .await
            .unwrap();
        assert_eq!(reply.data().as_string().as_deref(), Some("hi"));
        within(5000, "the ack", async {
            while seen.borrow().is_empty() {
                sleep(10).await.unwrap();
            }
        })
        .await;
        assert_eq!(seen.borrow()[0], id);
        assert_eq!(*states.borrow(), [State::Connecting, State::Open]);

        // A dropped Listener is removed from the client: no more calls.
        drop(listener);
        client.send_json(r#"{"type":"custom_action"}"#).unwrap();
        within(5000, "a second echo", client.request("echo", &JsValue::NULL, None)).await.unwrap();
        assert_eq!(seen.borrow().len(), 1);
        // Removed, not merely freed: a freed closure still listed would throw (LISTENER_ERROR).
        assert_eq!(*errors.borrow(), Vec::<ErrorCode>::new());

        // A server error reply fails the request with the server's code.
        let refused =
            within(5000, "the error reply", client.request("no_such_type", &JsValue::NULL, None));
        let refused = refused.await.unwrap_err();
        // An enum to match, with the same list as JS.
        assert!(matches!(refused.code(), ErrorCode::UnknownMessageType), "{refused:?}");
        assert!(refused.from_server());
        // A stalled server: the request times out.
        post(&format!("/control/stall?cid={cid}"), "").await;
        let late =
            within(5000, "the timeout", client.request("echo", &JsValue::NULL, Some(ms(50)))).await;
        assert_eq!(late.unwrap_err().code(), ErrorCode::RequestTimeout);
    }

    #[wasm_bindgen_test]
    fn rust_api_invalid_options_name_the_field() {
        let bad = Options { max_delay_ms: -1.0, ..Options::default() };
        let e = Client::new("ws://127.0.0.1:1/ws", bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption);
        assert_eq!(e.field().as_deref(), Some("maxDelayMs"));
        let e = Client::new("ftp://x/ws", Options::default()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidUrl);
        let client = Client::new("ws://127.0.0.1:1/ws", Options::default()).unwrap();
        assert_eq!(client.on("state", |_| {}).unwrap_err().field().as_deref(), Some("event"));
        assert_eq!(client.close(999, "").unwrap_err().code(), ErrorCode::InvalidCloseCode);
        assert_eq!(ErrorCode::from_code("MY_APP_CODE"), ErrorCode::Other("MY_APP_CODE".into()));
        assert_eq!(ErrorCode::from_code("QUEUE_FULL").as_str(), "QUEUE_FULL");
    }

    fn ms(n: u64) -> std::time::Duration {
        std::time::Duration::from_millis(n)
    }

    /// Issue 24: a dropped `Client` ends its `Events` streams, so a `while let` loop over
    /// them in an unmounted component finishes (before, it stayed pending for ever).
    #[wasm_bindgen_test]
    async fn rust_api_events_end_when_the_client_is_dropped() {
        let cid = format!("rust-drop-{}", js_sys::Date::now());
        let client = Client::new(&url(&cid), options()).unwrap();
        let mut events = client.events(&["anything"]).unwrap();
        client.connect();
        until(&mut events, "open", |e| matches!(e, ClientEvent::Open { .. })).await;
        let looped = Rc::new(RefCell::new(false));
        let done = looped.clone();
        wasm_bindgen_futures::spawn_local(async move {
            while events.recv().await.is_some() {}
            *done.borrow_mut() = true;
        });
        sleep(20).await.unwrap();
        assert!(!*looped.borrow(), "the stream is live while the client is");
        drop(client);
        within(1000, "the loop to end", async {
            while !*looped.borrow() {
                sleep(10).await.unwrap();
            }
        })
        .await;
    }

    /// Issue 24: dropping a request's future cancels it at once (before, it stayed
    /// pending in the core until its timeout).
    #[wasm_bindgen_test]
    async fn rust_api_dropping_a_request_future_cancels_it() {
        let cid = format!("rust-cancel-{}", js_sys::Date::now());
        let client = Client::new(&url(&cid), options()).unwrap();
        let mut events = client.events(&[]).unwrap();
        client.connect();
        until(&mut events, "open", |e| matches!(e, ClientEvent::Open { .. })).await;
        post(&format!("/control/stall?cid={cid}"), "").await;
        let pending = client.request("echo", &JsValue::NULL, Some(ms(60_000)));
        assert_eq!(client.stats().pending_requests, 1);
        drop(pending);
        assert_eq!(client.stats().pending_requests, 0, "forgotten when dropped");
        // One that completes is not cancelled twice, nor does it disturb the next.
        post(&format!("/control/stall?cid={cid}&on=0"), "").await;
        let reply = within(5000, "echo", client.request("echo", &JsValue::from_str("x"), None));
        assert_eq!(reply.await.unwrap().data().as_string().as_deref(), Some("x"));
        assert_eq!(client.stats().pending_requests, 0);
    }

    /// Issue 24: an async token provider (a call to an auth endpoint) is awaited before
    /// each connect; its error is a `TOKEN_ERROR`.
    #[wasm_bindgen_test]
    async fn rust_api_async_token_provider() {
        let cid = format!("rust-async-token-{}", js_sys::Date::now());
        let calls = Rc::new(RefCell::new(0));
        let counted = calls.clone();
        let client = Client::with_async_token_provider(&url(&cid), options(), move || {
            *counted.borrow_mut() += 1;
            async {
                sleep(30).await.unwrap();
                Ok::<_, String>("any-token".to_owned())
            }
        })
        .unwrap();
        let mut events = client.events(&[]).unwrap();
        client.connect();
        until(&mut events, "open", |e| matches!(e, ClientEvent::Open { .. })).await;
        assert_eq!(*calls.borrow(), 1);
        let failing = Client::with_async_token_provider(&url(&cid), options(), || async {
            Err::<String, _>("the auth endpoint is down".to_owned())
        })
        .unwrap();
        let mut failures = failing.events(&[]).unwrap();
        failing.connect();
        let error =
            until(&mut failures, "TOKEN_ERROR", |e| matches!(e, ClientEvent::Error(_))).await;
        let ClientEvent::Error(e) = error else { unreachable!() };
        assert_eq!(e.code(), ErrorCode::TokenError, "{e:?}");
        assert!(e.message().contains("the auth endpoint is down"), "{e:?}");
    }

    /// Issue 24: typed requests and sends with serde.
    #[wasm_bindgen_test]
    async fn rust_api_typed_request_and_send() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Echo {
            text: String,
            n: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Unread {
            count: u32,
        }
        let cid = format!("rust-typed-{}", js_sys::Date::now());
        let client = Client::new(&url(&cid), options()).unwrap();
        client.connect();
        let sent = Echo { text: "hé".into(), n: 3 };
        let back: Echo =
            within(5000, "echo", client.request_as("echo", &sent, None)).await.unwrap();
        assert_eq!(back, sent);
        let unread: Unread =
            within(5000, "unread", client.request_as("get_unread_message", &(), None))
                .await
                .unwrap();
        assert_eq!(unread.count, 3);
        // A reply that does not decode as the type asked for.
        let wrong = client.request_as::<_, Unread>("echo", &sent, None);
        let e = within(5000, "a reply of another shape", wrong).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::MalformedFrame, "{e:?}");
        let id = client.send_as(&serde_json::json!({ "type": "custom_action" })).unwrap();
        assert!(id.is_some());
    }
}
