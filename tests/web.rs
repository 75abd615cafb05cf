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

#[wasm_bindgen(module = "/tests/web/scenarios.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn run(
        name: &str,
        server: &str,
        auth_server: &str,
        make: &js_sys::Function,
    ) -> Result<JsValue, JsValue>;
    fn names() -> Vec<String>;
}

async fn scenario(name: &str) {
    let make = Closure::<dyn FnMut(String, JsValue) -> Result<JsValue, JsValue>>::new(
        |url: String, options| WsClient::new(&url, options).map(JsValue::from),
    );
    if let Err(e) = run(name, SERVER, AUTH_SERVER, make.as_ref().unchecked_ref()).await {
        let message = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string());
        panic!("{name}: {}", message.unwrap_or_else(|| format!("{e:?}")));
    }
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
    reconnect_after_abrupt_drop => "reconnectAfterAbruptDrop",
    reconnect_after_going_away_1001 => "reconnectAfterGoingAway1001",
    reconnect_after_service_restart_1012 => "reconnectAfterServiceRestart1012",
    no_reconnect_after_user_close => "noReconnectAfterUserClose",
    no_reconnect_after_server_close_1000 => "noReconnectAfterServerClose1000",
    sends_while_disconnected_arrive_once_in_order => "sendsWhileDisconnectedArriveOnceInOrder",
    topics_are_resubscribed_after_reconnect => "topicsAreResubscribedAfterReconnect",
    malformed_frame_and_throwing_listener_do_not_stop_delivery => "malformedFrameAndThrowingListenerDoNotStopDelivery",
    binary_where_text_was_expected_is_reported => "binaryWhereTextWasExpectedIsReported",
    raw_protocol_delivers_frames_as_they_are => "rawProtocolDeliversFramesAsTheyAre",
    options_are_validated_with_the_field_named => "optionsAreValidatedWithTheFieldNamed",
    close_arguments_are_validated => "closeArgumentsAreValidated",
    once_off_and_unsubscribe_functions => "onceOffAndUnsubscribeFunctions",
    token_provider_is_called_before_every_connect => "tokenProviderIsCalledBeforeEveryConnect",
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
    packaged_client_sends_fast_and_keeps_order => "packagedClientSendsFastAndKeepsOrder",
    legacy_bug_1_second_on_does_not_replace_first => "legacyBug1SecondOnDoesNotReplaceFirst",
    legacy_bug_2_no_duplicate_heartbeat_after_reconnects => "legacyBug2NoDuplicateHeartbeatAfterReconnects",
    legacy_bug_3_reconnect_works_repeatedly_with_jitter_for_every_code => "legacyBug3ReconnectWorksRepeatedlyWithJitterForEveryCode",
    legacy_bug_4_non_json_frame_does_not_throw => "legacyBug4NonJsonFrameDoesNotThrow",
    legacy_bug_5_send_while_closed_is_queued_not_thrown_or_dropped => "legacyBug5SendWhileClosedIsQueuedNotThrownOrDropped",
    legacy_bug_6_close_before_connect_does_not_throw => "legacyBug6CloseBeforeConnectDoesNotThrow",
    legacy_bug_7_half_open_connection_is_detected => "legacyBug7HalfOpenConnectionIsDetected",
}
