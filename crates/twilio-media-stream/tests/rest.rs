//! The REST client against a loopback HTTP server that checks each request (method, path,
//! basic auth, form fields) and answers as Twilio does.
#![cfg(feature = "rest")]

use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use twilio_media_stream::callback::CallStatus;
use twilio_media_stream::rest::{
    AccountStatus, AccountType, CallInstructions, Client, CreateCall, Error, ListCalls,
    MachineDetection, StatusCallbackEvent,
};
use twilio_media_stream::twiml::{Connect, Method, Stream, VoiceResponse};
use twilio_media_stream::{AuthToken, CallSid};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const CALL: &str = "CA0123456789abcdef0123456789abcdef";

/// A request as the server received it.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Asserts what a look-up must carry: GET, the path and query, basic auth, no body.
    fn assert_twilio_get(&self, path_and_query: &str) {
        assert_eq!(self.method, "GET");
        assert_eq!(self.path, path_and_query);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
        assert_eq!(
            self.header("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
        assert_eq!(self.header("accept"), Some("application/json"));
        assert!(self.body.is_empty(), "a GET has no body");
    }

    /// Asserts what every Twilio API request must carry.
    fn assert_twilio_post(&self, path: &str) {
        assert_eq!(self.method, "POST");
        assert_eq!(self.path, path);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
        assert_eq!(
            self.header("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
    }
}

/// A loopback server answering each connection with the next of `answers`
/// (status, body) and reporting the requests it got.
async fn server(answers: Vec<(u16, String)>) -> (String, mpsc::UnboundedReceiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (status, body) in answers {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let request = read_request(&mut socket).await;
            tx.send(request).expect("test is listening");
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.expect("write");
            socket.shutdown().await.ok();
        }
    });
    (url, rx)
}

async fn read_request(socket: &mut TcpStream) -> Request {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.expect("read");
        assert!(n > 0, "client closed before sending a request");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("utf-8 head");
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().expect("request line").split(' ');
    let method = request_line.next().expect("method").to_owned();
    let path = request_line.next().expect("path").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().expect("content-length"));
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "client closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    Request {
        method,
        path,
        headers,
        body,
    }
}

fn client(base_url: &str) -> Client {
    Client::builder(ACCOUNT, AuthToken::new(TOKEN))
        .base_url(base_url)
        .build()
        .expect("client")
}

fn call_json(status: &str) -> String {
    format!(
        r#"{{"sid":"{CALL}","account_sid":"{ACCOUNT}","parent_call_sid":null,"to":"+14155550100","to_formatted":"(415) 555-0100",
 "from":"+15005550006","from_formatted":"(500) 555-0006","phone_number_sid":"PN0123456789abcdef0123456789abcdef",
 "status":"{status}","start_time":null,"end_time":null,"duration":null,"price":null,"price_unit":"USD",
 "direction":"outbound-api","answered_by":null,"api_version":"2010-04-01","forwarded_from":null,
 "group_sid":null,"caller_name":null,"queue_time":"0","trunk_sid":null,
 "date_created":"Tue, 24 Nov 2026 17:40:00 +0000","date_updated":"Tue, 24 Nov 2026 17:40:00 +0000",
 "uri":"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json",
 "subresource_uris":{{"streams":"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}/Streams.json"}}}}"#
    )
}

#[tokio::test]
async fn create_call_posts_the_documented_form_and_returns_the_call() {
    let (url, mut requests) = server(vec![(201, call_json("queued"))]).await;
    let twiml = VoiceResponse::new().connect(Connect::new().stream(
        Stream::new("wss://bot.example.com/media-stream").parameter("appointment_id", "apt_42"),
    ));
    let call = client(&url)
        .create_call(
            &CreateCall::new("+14155550100", "+15005550006", &twiml)
                .status_callback("https://bot.example.com/twilio/status")
                .status_callback_method(Method::Post)
                .status_callback_events([
                    StatusCallbackEvent::Initiated,
                    StatusCallbackEvent::Answered,
                    StatusCallbackEvent::Completed,
                ])
                .machine_detection(MachineDetection::DetectMessageEnd)
                .async_amd_status_callback("https://bot.example.com/twilio/amd")
                .machine_detection_timeout(Duration::from_secs(20))
                .timeout(Duration::from_secs(30))
                .record(false),
        )
        .await
        .expect("created");

    assert_eq!(call.sid, CALL);
    assert_eq!(call.status, Some(CallStatus::Queued));
    assert_eq!(call.direction.as_deref(), Some("outbound-api"));
    assert_eq!(call.queue_time.as_deref(), Some("0"));

    let request = requests.recv().await.expect("a request");
    request.assert_twilio_post(&format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json"));
    assert_eq!(request.field("To").as_deref(), Some("+14155550100"));
    assert_eq!(request.field("From").as_deref(), Some("+15005550006"));
    assert_eq!(
        request.field("Twiml"),
        Some(twiml.to_xml_without_declaration())
    );
    assert_eq!(request.field("Url"), None);
    assert_eq!(
        request.field("StatusCallback").as_deref(),
        Some("https://bot.example.com/twilio/status")
    );
    assert_eq!(
        request.field("StatusCallbackMethod").as_deref(),
        Some("POST")
    );
    let events: Vec<String> = request
        .form()
        .into_iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(events, ["initiated", "answered", "completed"]);
    assert_eq!(
        request.field("MachineDetection").as_deref(),
        Some("DetectMessageEnd")
    );
    assert_eq!(request.field("AsyncAmd").as_deref(), Some("true"));
    assert_eq!(
        request.field("AsyncAmdStatusCallback").as_deref(),
        Some("https://bot.example.com/twilio/amd")
    );
    assert_eq!(
        request.field("MachineDetectionTimeout").as_deref(),
        Some("20")
    );
    assert_eq!(request.field("Timeout").as_deref(), Some("30"));
    assert_eq!(request.field("Record").as_deref(), Some("false"));
}

#[tokio::test]
async fn create_call_with_a_url() {
    let (url, mut requests) = server(vec![(201, call_json("queued"))]).await;
    client(&url)
        .create_call(&CreateCall::new(
            "+14155550100",
            "+15005550006",
            CallInstructions::url("https://bot.example.com/twiml").method(Method::Get),
        ))
        .await
        .expect("created");
    let request = requests.recv().await.expect("a request");
    assert_eq!(
        request.field("Url").as_deref(),
        Some("https://bot.example.com/twiml")
    );
    assert_eq!(request.field("Method").as_deref(), Some("GET"));
    assert_eq!(request.field("Twiml"), None);
}

#[tokio::test]
async fn twilio_error_json_becomes_a_typed_error() {
    let body = r#"{"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#;
    let (url, mut requests) = server(vec![(400, body.to_owned())]).await;
    let err = client(&url)
        .create_call(&CreateCall::new(
            "5551234567",
            "+15005550006",
            VoiceResponse::new().hangup(),
        ))
        .await
        .expect_err("refused");
    requests.recv().await.expect("a request");

    let api = err.api_error().expect("an API error");
    assert_eq!(api.code(), Some(21211));
    assert_eq!(
        api.message(),
        "The 'To' number 5551234567 is not a valid phone number."
    );
    assert_eq!(
        api.more_info(),
        Some("https://www.twilio.com/docs/errors/21211")
    );
    assert_eq!(api.status(), 400);
    assert_eq!(err.status(), Some(400));
    let shown = err.to_string();
    assert!(shown.contains("21211"), "{shown}");
    assert!(shown.contains("is not a valid phone number"), "{shown}");
    assert!(!shown.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn authentication_failure_is_a_typed_error() {
    let body = r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#;
    let (url, _requests) = server(vec![(401, body.to_owned())]).await;
    let err = client(&url)
        .hang_up(&CallSid::new(CALL))
        .await
        .expect_err("refused");
    assert_eq!(err.api_error().and_then(|api| api.code()), Some(20003));
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn hang_up_posts_status_completed_to_the_call() {
    let (url, mut requests) = server(vec![(200, call_json("completed"))]).await;
    let call = client(&url)
        .hang_up(&CallSid::new(CALL))
        .await
        .expect("hung up");
    assert_eq!(call.status, Some(CallStatus::Completed));
    let request = requests.recv().await.expect("a request");
    request.assert_twilio_post(&format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"));
    assert_eq!(
        request.form(),
        [("Status".to_owned(), "completed".to_owned())]
    );
}

#[tokio::test]
async fn redirect_posts_twiml_or_url_to_the_call() {
    let (url, mut requests) = server(vec![
        (200, call_json("in-progress")),
        (200, call_json("in-progress")),
    ])
    .await;
    let client = client(&url);
    let goodbye = VoiceResponse::new().say("Thank you. Goodbye.").hangup();
    client
        .redirect(&CallSid::new(CALL), &goodbye)
        .await
        .expect("redirected");
    client
        .redirect(
            &CallSid::new(CALL),
            CallInstructions::url("https://bot.example.com/voicemail"),
        )
        .await
        .expect("redirected");

    let first = requests.recv().await.expect("first request");
    first.assert_twilio_post(&format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"));
    assert_eq!(
        first.form(),
        [("Twiml".to_owned(), goodbye.to_xml_without_declaration())]
    );
    let second = requests.recv().await.expect("second request");
    assert_eq!(
        second.form(),
        [(
            "Url".to_owned(),
            "https://bot.example.com/voicemail".to_owned()
        )]
    );
}

#[tokio::test]
async fn error_status_without_twilio_json_keeps_status_and_body() {
    let (url, _requests) = server(vec![(502, "<html>Bad Gateway</html>".to_owned())]).await;
    let err = client(&url)
        .hang_up(&CallSid::new(CALL))
        .await
        .expect_err("refused");
    match &err {
        Error::Status { status, body } => {
            assert_eq!(*status, 502);
            assert_eq!(body, "<html>Bad Gateway</html>");
        }
        other => panic!("expected Error::Status, got {other:?}"),
    }
    assert!(err.to_string().contains("502"), "{err}");
}

#[tokio::test]
async fn success_with_an_unexpected_body_is_a_decode_error() {
    let (url, _requests) = server(vec![(201, r#"{"status":"queued"}"#.to_owned())]).await;
    let err = client(&url)
        .create_call(&CreateCall::new(
            "+14155550100",
            "+15005550006",
            VoiceResponse::new().hangup(),
        ))
        .await
        .expect_err("no sid");
    assert!(
        matches!(&err, Error::Decode { status: 201, body, .. } if body.contains("queued")),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bind, learn the port, close: nothing listens there any more.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = client(&url)
        .hang_up(&CallSid::new(CALL))
        .await
        .expect_err("nobody listens");
    match &err {
        Error::Transport(transport) => assert!(transport.is_connect(), "{err}"),
        other => panic!("expected Error::Transport, got {other:?}"),
    }
    assert_eq!(err.status(), None);
    // The message names the root cause, once.
    let text = err.to_string();
    assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hold = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        // Keep the connection open without answering until the test ends.
        std::future::pending::<()>().await;
        drop(socket);
    });
    let client = Client::builder(ACCOUNT, AuthToken::new(TOKEN))
        .base_url(&url)
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let err = client
        .hang_up(&CallSid::new(CALL))
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    hold.abort();
}

fn account_json(status: &str, kind: &str) -> String {
    format!(
        r#"{{"auth_token":"redacted","date_created":"Thu, 13 Nov 2025 10:00:00 +0000",
 "date_updated":"Thu, 13 Nov 2025 10:00:00 +0000","friendly_name":"Bright Smile Dental",
 "owner_account_sid":"{ACCOUNT}","sid":"{ACCOUNT}","status":"{status}",
 "subresource_uris":{{"calls":"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"}},
 "type":"{kind}","uri":"/2010-04-01/Accounts/{ACCOUNT}.json"}}"#
    )
}

#[tokio::test]
async fn account_look_up_gets_the_account_and_types_its_status() {
    let (url, mut requests) = server(vec![
        (200, account_json("active", "Trial")),
        (200, account_json("suspended", "Full")),
    ])
    .await;
    let client = client(&url);
    let account = client.account().await.expect("the account");
    assert_eq!(account.sid.as_str(), ACCOUNT);
    assert_eq!(
        account.friendly_name.as_deref(),
        Some("Bright Smile Dental")
    );
    assert_eq!(account.status, Some(AccountStatus::Active));
    assert_eq!(account.kind, Some(AccountType::Trial));
    assert!(account.is_active() && account.is_trial());
    requests
        .recv()
        .await
        .expect("a request")
        .assert_twilio_get(&format!("/2010-04-01/Accounts/{ACCOUNT}.json"));

    let suspended = client.account().await.expect("the account");
    assert_eq!(suspended.status, Some(AccountStatus::Suspended));
    assert!(!suspended.is_active() && !suspended.is_trial());
}

#[tokio::test]
async fn account_look_up_with_bad_credentials_is_a_typed_error() {
    let body = r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#;
    let (url, _requests) = server(vec![(401, body.to_owned())]).await;
    let err = client(&url).account().await.expect_err("refused");
    assert_eq!(err.api_error().and_then(|api| api.code()), Some(20003));
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn number_look_ups_filter_by_phone_number() {
    let numbers = r#"{"first_page_uri":"/x","end":0,"previous_page_uri":null,"page_size":50,"start":0,
 "incoming_phone_numbers":[{"sid":"PN0123456789abcdef0123456789abcdef","phone_number":"+15005550006",
 "friendly_name":"(500) 555-0006","capabilities":{"voice":true,"sms":true,"mms":false,"fax":false},
 "voice_url":"https://example.com"}],"next_page_uri":null,"page":0,"uri":"/x"}"#;
    let caller_ids = r#"{"outgoing_caller_ids":[{"sid":"PN1","phone_number":"+14155550100",
 "friendly_name":"Front desk","account_sid":"AC1"}],"page":0,"page_size":50}"#;
    let (url, mut requests) = server(vec![
        (200, numbers.to_owned()),
        (200, r#"{"incoming_phone_numbers":[],"page":0}"#.to_owned()),
        (200, caller_ids.to_owned()),
        (200, r#"{"outgoing_caller_ids":[]}"#.to_owned()),
    ])
    .await;
    let client = client(&url);

    let owned = client
        .incoming_phone_numbers("+15005550006")
        .await
        .expect("numbers");
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].phone_number, "+15005550006");
    assert!(owned[0].capabilities.voice && owned[0].capabilities.sms);
    assert!(!owned[0].capabilities.fax);
    requests
        .recv()
        .await
        .expect("a request")
        .assert_twilio_get(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550006"
        ));
    assert!(
        client
            .incoming_phone_numbers("+14155550199")
            .await
            .expect("numbers")
            .is_empty()
    );
    requests.recv().await.expect("a request");

    let verified = client
        .outgoing_caller_ids("+14155550100")
        .await
        .expect("caller ids");
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].friendly_name.as_deref(), Some("Front desk"));
    requests
        .recv()
        .await
        .expect("a request")
        .assert_twilio_get(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/OutgoingCallerIds.json?PhoneNumber=%2B14155550100"
        ));
    assert!(
        client
            .outgoing_caller_ids("+14155550199")
            .await
            .expect("caller ids")
            .is_empty()
    );
}

#[tokio::test]
async fn a_look_up_page_without_its_list_is_a_decode_error() {
    let (url, _requests) = server(vec![(200, r#"{"page":0}"#.to_owned())]).await;
    let err = client(&url)
        .incoming_phone_numbers("+15005550006")
        .await
        .expect_err("no list");
    assert!(matches!(&err, Error::Decode { status: 200, .. }), "{err:?}");
}

#[tokio::test]
async fn fetch_call_gets_the_call_and_types_its_status() {
    let (url, mut requests) = server(vec![(200, call_json("no-answer"))]).await;
    let call = client(&url)
        .fetch_call(&CallSid::new(CALL))
        .await
        .expect("fetched");
    assert_eq!(call.sid.as_str(), CALL);
    assert_eq!(call.status, Some(CallStatus::NoAnswer));
    assert!(call.status.as_ref().is_some_and(CallStatus::is_final));
    let request = requests.recv().await.expect("a request");
    request.assert_twilio_get(&format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"));
}

#[tokio::test]
async fn fetching_an_unknown_call_is_twilios_20404() {
    let body = r#"{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
    let (url, _requests) = server(vec![(404, body.to_owned())]).await;
    let err = client(&url)
        .fetch_call(&CallSid::new(CALL))
        .await
        .unwrap_err();
    match err {
        Error::Api(api) => {
            assert_eq!(api.status(), 404);
            assert_eq!(api.code(), Some(20404));
        }
        other => panic!("expected Twilio's error, got {other:?}"),
    }
}

#[tokio::test]
async fn list_calls_sends_the_filters_and_reads_the_page() {
    let page = format!(
        r#"{{"calls":[{}],"end":0,"first_page_uri":"/x","next_page_uri":null,"page":0,"page_size":20,"previous_page_uri":null,"start":0,"uri":"/x"}}"#,
        call_json("ringing")
    );
    let (url, mut requests) = server(vec![
        (200, page),
        (200, r#"{"calls":[],"page":0,"page_size":50}"#.to_owned()),
        (200, r#"{"page":0}"#.to_owned()),
    ])
    .await;
    let client = client(&url);
    let calls = client
        .list_calls(
            &ListCalls::new()
                .to("+14155550100")
                .from("+15005550006")
                .status(CallStatus::Ringing)
                .page_size(20),
        )
        .await
        .expect("listed");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].sid.as_str(), CALL);
    assert_eq!(calls[0].status, Some(CallStatus::Ringing));
    assert_eq!(
        calls[0].date_created.as_deref(),
        Some("Tue, 24 Nov 2026 17:40:00 +0000")
    );
    requests
        .recv()
        .await
        .expect("a request")
        .assert_twilio_get(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Calls.json?To=%2B14155550100&From=%2B15005550006&Status=ringing&PageSize=20"
        ));

    assert!(
        client
            .list_calls(&ListCalls::new())
            .await
            .expect("listed")
            .is_empty()
    );
    requests
        .recv()
        .await
        .expect("a request")
        .assert_twilio_get(&format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json"));

    let err = client
        .list_calls(&ListCalls::new())
        .await
        .expect_err("no list");
    assert!(matches!(&err, Error::Decode { status: 200, .. }), "{err:?}");
}

#[test]
fn a_page_size_beyond_twilios_maximum_is_sent_as_the_maximum() {
    let query = ListCalls::new().page_size(5000).to_query();
    assert_eq!(query, [("PageSize", "1000".to_owned())]);
    assert_eq!(
        ListCalls::new().page_size(0).to_query(),
        [("PageSize", "1".to_owned())]
    );
}
