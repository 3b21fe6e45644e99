//! The agent WebSocket: heartbeat, pushed commands, ack/progress/result, revocation.

mod common;

use common::ws::{next_frame, send, until};
use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn commands_are_pushed_to_a_connected_agent_and_reported_back() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, token) = server.paired_agent(&op, "socket").await;
    let ws_url = format!(
        "{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
        server.base.replace("http://", "ws://")
    );

    let refused = tokio_tungstenite::connect_async(format!(
        "{}/api/v1/agents/ws?token=bmx_a_wrong",
        server.base.replace("http://", "ws://")
    ))
    .await;
    assert!(refused.is_err(), "a wrong token is refused before the upgrade");

    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await.unwrap()["type"], "connected");
    send(
        &mut socket,
        json!({ "type": "heartbeat", "request_id": "h1", "metadata": { "transport_mode": "ws" }, "capabilities": ["push"] }),
    )
    .await;
    let beat = until(&mut socket, "agent.heartbeat").await;
    assert_eq!(
        (beat["request_id"].as_str(), beat["status"].as_str()),
        (Some("h1"), Some("active"))
    );
    assert!(beat["ts"].as_str().unwrap().ends_with('Z'));

    // Dispatching pushes the command to the socket.
    let queued = server
        .call_ok(
            "POST",
            "/api/v1/vm-ops/proxmox/start",
            &op,
            Some(json!({ "agent_id": agent_id, "params": { "vmid": 100 } })),
        )
        .await;
    let id = queued["data"]["id"].as_str().unwrap().to_owned();
    let assigned = until(&mut socket, "agent.command.assigned").await;
    assert_eq!(
        (
            assigned["command"]["id"].as_str(),
            assigned["command"]["status"].as_str()
        ),
        (Some(id.as_str()), Some("dispatched"))
    );

    send(
        &mut socket,
        json!({ "type": "agent.command.ack", "request_id": "a1", "command_id": id }),
    )
    .await;
    assert_eq!(until(&mut socket, "agent.command.ack").await["request_id"], "a1");
    send(
        &mut socket,
        json!({ "type": "agent.command.progress", "command_id": id, "progress": 50, "message": "cloning" }),
    )
    .await;
    assert_eq!(until(&mut socket, "agent.command.progress").await["progress"], 50);
    send(&mut socket, json!({ "type": "agent.command.result", "request_id": "r1", "command_id": id, "status": "succeeded", "result": { "upid": "UPID:x" } })).await;
    assert_eq!(until(&mut socket, "agent.command.result").await["status"], "succeeded");
    let done = server
        .call_ok("GET", &format!("/api/v1/vm-ops/commands/{id}"), &op, None)
        .await;
    assert_eq!(
        (done["data"]["status"].as_str(), done["data"]["result"]["upid"].as_str()),
        (Some("succeeded"), Some("UPID:x"))
    );

    // Bad frames get error frames, and the socket stays open.
    send(
        &mut socket,
        json!({ "type": "agent.command.result", "command_id": id, "status": "failed" }),
    )
    .await;
    assert_eq!(until(&mut socket, "error").await["code"], "COMMAND_ALREADY_TERMINAL");
    socket.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(until(&mut socket, "error").await["code"], "INVALID_JSON");
    send(&mut socket, json!({ "type": "dance" })).await;
    assert_eq!(until(&mut socket, "error").await["code"], "UNKNOWN_MESSAGE_TYPE");

    // Revoked: the next frame closes the socket.
    server
        .call_ok("POST", &format!("/api/v1/agents/{agent_id}/revoke"), &admin, None)
        .await;
    send(&mut socket, json!({ "type": "heartbeat" })).await;
    let last = until(&mut socket, "error").await;
    assert_eq!(last["code"], "AGENT_REVOKED");
    assert!(next_frame(&mut socket).await.is_none(), "the server closes the socket");
    // A new socket is refused before the upgrade, with the code the agent stops on.
    let refused = tokio_tungstenite::connect_async(&ws_url).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a revoked agent's upgrade is refused: {refused:?}");
    };
    let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
    assert_eq!(
        (response.status().as_u16(), body["error"]["code"].as_str()),
        (409, Some("AGENT_REVOKED"))
    );
}

#[tokio::test]
async fn only_an_agent_that_declares_push_gets_unasked_commands() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, token) = server.paired_agent(&op, "listener").await;
    let ws_url = format!(
        "{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
        server.base.replace("http://", "ws://")
    );
    let dispatch = || async {
        let (status, queued) = server
            .call(
                "POST",
                "/api/v1/vm-ops/proxmox/start",
                &op,
                Some(json!({ "agent_id": agent_id, "params": { "vmid": 100 } })),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
        queued["data"]["id"].as_str().unwrap().to_owned()
    };

    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await.unwrap()["type"], "connected");
    // A heartbeat without capabilities: this agent reads only while it waits for a command.
    send(&mut socket, json!({ "type": "heartbeat", "request_id": "h1" })).await;
    assert_eq!(until(&mut socket, "agent.heartbeat").await["request_id"], "h1");
    let first = dispatch().await;
    send(
        &mut socket,
        json!({ "type": "next_command", "request_id": "n1", "timeout_ms": 5000 }),
    )
    .await;
    // Nothing arrives unasked; the command is the reply to `next_command`.
    let reply = until(&mut socket, "agent.command.assigned").await;
    assert_eq!(reply["request_id"], "n1", "no unasked push: {reply}");
    assert_eq!(reply["command"]["id"], first.as_str());

    // Declaring the capability turns pushing on for this socket.
    send(
        &mut socket,
        json!({ "type": "heartbeat", "request_id": "h2", "capabilities": ["push"] }),
    )
    .await;
    assert_eq!(until(&mut socket, "agent.heartbeat").await["request_id"], "h2");
    let second = dispatch().await;
    let pushed = until(&mut socket, "agent.command.assigned").await;
    assert_eq!(
        (pushed["request_id"].as_str(), pushed["command"]["id"].as_str()),
        (None, Some(second.as_str()))
    );
}

#[tokio::test]
async fn a_plain_get_of_the_socket_url_answers_400_in_the_envelope() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (_agent_id, token) = server.paired_agent(&op, "plain").await;
    let res = client()
        .get(server.url("/api/v1/agents/ws"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = json_of(res, 400).await;
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "BAD_REQUEST");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("WebSocket"),
        "{body}"
    );
}

#[tokio::test]
async fn revoking_an_agent_closes_its_pushing_socket_without_waiting_for_a_frame() {
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, token) = server.paired_agent(&op, "revoked").await;
    let ws_url = format!(
        "{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
        server.base.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    assert_eq!(next_frame(&mut socket).await.unwrap()["type"], "connected");
    send(
        &mut socket,
        json!({ "type": "heartbeat", "request_id": "h1", "capabilities": ["push"] }),
    )
    .await;
    assert_eq!(until(&mut socket, "agent.heartbeat").await["request_id"], "h1");

    // The agent sends nothing more: the revocation itself reaches the socket.
    server
        .call_ok("POST", &format!("/api/v1/agents/{agent_id}/revoke"), &admin, None)
        .await;
    let last = until(&mut socket, "error").await;
    assert_eq!(last["code"], "AGENT_REVOKED");
    assert!(next_frame(&mut socket).await.is_none(), "the server closes the socket");
}
