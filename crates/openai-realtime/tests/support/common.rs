//! Helpers the integration tests share, included by each as
//! `#[path = "support/common.rs"] mod support;` (each test file is its own crate, so not
//! every one uses every helper).
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// A client of `server` with a test key and no keepalive pings (they would show up among
/// the events a test reads).
#[cfg(feature = "client")]
pub fn config(server: &openai_realtime::mock::MockServer) -> openai_realtime::client::Config {
    openai_realtime::client::Config::url(server.url())
        .with_api_key(openai_realtime::client::ApiKey::new("sk-test"))
        .with_keepalive(None)
}

/// `ms` of loud (a full-scale square wave) or silent G.711 mu-law at 8 kHz, base64.
pub fn ulaw(loud: bool, ms: usize) -> String {
    let bytes: Vec<u8> = (0..ms * 8)
        .map(|i| {
            if !loud {
                0xff
            } else if i % 2 == 0 {
                0x80
            } else {
                0x00
            }
        })
        .collect();
    BASE64.encode(bytes)
}

/// A hand-written peer for what the mock does not do (never answer pings, send made-up
/// frames): listens on 127.0.0.1 port 0, accepts one connection, answers its WebSocket
/// upgrade and runs `peer` on the socket. Returns the address and the peer's task.
pub async fn one_websocket_peer<F, Fut>(
    peer: F,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>)
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(socket).await.unwrap();
        peer(ws).await;
    });
    (addr, task)
}
