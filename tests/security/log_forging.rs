//! Point 8: a client-controlled string must not write a log line of its own.

use std::time::Duration;

use serde_json::json;

use crate::common::{eventually, TestServer};

#[tokio::test]
async fn a_client_log_message_with_a_newline_stays_on_its_line() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let forged = "FORGED-LINE 2026-01-01T00:00:00Z  INFO sign-in succeeded for root";
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/client-logs",
            &admin,
            Some(json!({ "events": [{
                "level": "error",
                "event": "ui.crash\r\nFORGED-EVENT",
                "message": format!("boom\n{forged}\u{1b}[2J"),
            }]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let log = eventually("the client event in the server log", Duration::from_secs(10), || {
        let log = server.log();
        async move { log.contains("boom").then_some(log) }
    })
    .await;
    for line in log.lines() {
        assert!(
            !line.trim_start().starts_with("FORGED"),
            "a client string started a log line of its own:\n{log}"
        );
    }
    assert!(!log.contains('\u{1b}'), "a raw escape sequence reached the log:\n{log}");
    let line = log.lines().find(|l| l.contains("boom")).unwrap();
    assert!(line.contains("FORGED-LINE"), "the message is kept, escaped: {line}");
}
