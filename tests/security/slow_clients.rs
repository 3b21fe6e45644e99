//! Point 7: slow clients (slowloris) cannot hold the server: request headers and bodies have
//! time limits, open connections are capped, and an oversized declared body is refused before
//! it is read.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::{client, eventually, TestServer};

const DEADLINE: Duration = Duration::from_secs(20);

fn addr(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; the bytes it sent meanwhile.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(DEADLINE, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&seen).into_owned(),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept a slow connection open for {DEADLINE:?}"),
        }
    }
}

/// Reads one response head (up to the blank line).
async fn response_head(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

async fn live(server: &TestServer) -> Option<()> {
    let res = client().get(server.url("/api/v1/health/live")).send().await.ok()?;
    (res.status() == 200).then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_bodies_are_cut_off_and_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = [
        ("BOTMOX_MAX_CONNECTIONS", "20"),
        ("BOTMOX_HEADER_READ_TIMEOUT_SECS", "1"),
        ("BOTMOX_BODY_READ_TIMEOUT_SECS", "1"),
    ];
    let server = TestServer::start_in(tmp.path(), &[], &envs).await.unwrap();
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
        stream
            .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A body that stops halfway.
    let mut stalled = TcpStream::connect(addr(&server)).await.unwrap();
    stalled
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();

    // Each slow client is cut off, so the server is free again for everyone else.
    for stream in &mut slow {
        until_closed(stream).await;
    }
    let answer = until_closed(&mut stalled).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "a stalled body got: {answer}"
    );
    eventually("/health/live answering", DEADLINE, || live(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_connections_are_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = [
        ("BOTMOX_MAX_CONNECTIONS", "5"),
        ("BOTMOX_HEADER_READ_TIMEOUT_SECS", "60"),
    ];
    let server = TestServer::start_in(tmp.path(), &[], &envs).await.unwrap();
    let request = b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    // Five kept-alive connections fill every slot.
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
        stream.write_all(request).await.unwrap();
        assert!(response_head(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut waiting = TcpStream::connect(addr(&server)).await.unwrap();
    waiting.write_all(request).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "a sixth connection was served past the cap of 5");
    // One slot frees up: the waiting connection is served.
    drop(held.pop());
    let head = tokio::time::timeout(DEADLINE, response_head(&mut waiting))
        .await
        .expect("the waiting connection is served once a slot frees up");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

#[tokio::test]
async fn an_oversized_declared_body_is_refused_before_it_is_read() {
    let server = TestServer::start().await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    // Declares 1 GB and sends nothing of it: the answer cannot wait for the body.
    stream
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n",
        )
        .await
        .unwrap();
    let head = tokio::time::timeout(DEADLINE, response_head(&mut stream))
        .await
        .expect("the oversized request is answered without its body");
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let mut body = head.into_bytes();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&body).contains("PAYLOAD_TOO_LARGE") {
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "no error envelope: {}", String::from_utf8_lossy(&body));
        body.extend_from_slice(&buf[..n]);
    }
}
