//! The exact request contract (one JSON value per body, the envelope on every `/api` answer)
//! and the shapes the original web UI relies on (issue 16).

mod common;

use common::*;
use serde_json::{json, Value};

/// A raw request with a bearer token; returns status, `Content-Type` and the body text.
async fn raw(server: &TestServer, method: &str, path: &str, token: &str, body: Option<&str>) -> (u16, String, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(method, server.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, res.text().await.unwrap())
}

/// Asserts a JSON error envelope with `status` and `code`; returns its message.
fn envelope(what: &str, (status, content_type, body): (u16, String, String), want: (u16, &str)) -> String {
    assert!(
        content_type.starts_with("application/json"),
        "{what}: answered {status} {content_type}: {body}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["success"].as_bool(), body["error"]["code"].as_str()),
        (want.0, Some(false), Some(want.1)),
        "{what}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty(), "{what}: a message a person can act on");
    message
}

async fn total(server: &TestServer, path: &str, token: &str) -> i64 {
    let (status, list) = server.call("GET", path, token, None).await;
    assert_eq!(status, 200, "{list}");
    list["meta"]["total"].as_i64().unwrap()
}

#[tokio::test]
async fn only_whitespace_may_follow_the_json_value_of_a_body() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;

    for (path, body) in [
        ("/api/v1/workspace/notes", r#"{"title":"x"} garbage"#),
        ("/api/v1/bots", r#"{"name":"b"}{"name":"c"}"#),
        ("/api/v1/bots", r#"{"name":"b"} 1"#),
        ("/api/v1/bots", r#"{"name":"b"},"#),
    ] {
        let message = envelope(
            &format!("POST {path} {body}"),
            raw(&server, "POST", path, &t, Some(body)).await,
            (400, "INVALID_JSON"),
        );
        assert!(message.contains("nothing after it"), "{message}");
    }
    // A route with its own typed body, and a public one, refuse it too.
    let login = raw(
        &server,
        "POST",
        "/api/v1/auth/login",
        "",
        Some(r#"{"email":"ops@example.com","password":"a user password"} x"#),
    )
    .await;
    envelope("login with trailing data", login, (400, "INVALID_JSON"));
    assert_eq!(
        total(&server, "/api/v1/workspace/notes", &t).await,
        0,
        "nothing was created"
    );
    assert_eq!(total(&server, "/api/v1/bots", &t).await, 0, "nothing was created");

    // Whitespace after the value is fine.
    let (status, _, body) = raw(
        &server,
        "POST",
        "/api/v1/workspace/notes",
        &t,
        Some("{\"title\":\"y\"} \r\n\t "),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn every_api_answer_uses_the_envelope() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &["--max-body-bytes", "1024"], &[])
        .await
        .unwrap();
    let t = server.user("ops@example.com", "acme", "api").await;

    // Path parameters that do not decode.
    let message = envelope(
        "GET /bots/%FF",
        raw(&server, "GET", "/api/v1/bots/%FF", &t, None).await,
        (400, "INVALID_PATH_PARAMS"),
    );
    assert!(message.contains("id"), "{message}");
    envelope(
        "GET /workspace/%FF/x",
        raw(&server, "GET", "/api/v1/workspace/%FF/x", &t, None).await,
        (400, "INVALID_PATH_PARAMS"),
    );
    envelope(
        "PATCH /settings/%FF",
        raw(&server, "PATCH", "/api/v1/settings/%FF", &t, Some("{\"a\":1}")).await,
        (400, "INVALID_PATH_PARAMS"),
    );

    // Query strings: a repeated key, on a map query and on a typed one.
    let message = envelope(
        "?page=1&page=2",
        raw(&server, "GET", "/api/v1/bots?page=1&page=2", &t, None).await,
        (400, "INVALID_QUERY_PARAMS"),
    );
    assert!(message.contains("`page`"), "{message}");
    let admin = server.user("admin@example.com", "acme", "admin").await;
    envelope(
        "a typed query with a repeated key",
        raw(
            &server,
            "GET",
            "/api/v1/secrets/bindings?scope_type=bot&scope_type=vm",
            &admin,
            None,
        )
        .await,
        (400, "INVALID_QUERY_PARAMS"),
    );

    // Bodies: not JSON, wrong content type, too large.
    envelope(
        "a body that is not JSON",
        raw(&server, "POST", "/api/v1/bots", &t, Some("{")).await,
        (400, "INVALID_JSON"),
    );
    let res = client()
        .post(server.url("/api/v1/bots"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let status = res.status().as_u16();
    envelope(
        "text/plain",
        (status, content_type, res.text().await.unwrap()),
        (415, "UNSUPPORTED_MEDIA_TYPE"),
    );
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(4096));
    envelope(
        "a body over the limit",
        raw(&server, "POST", "/api/v1/bots", &t, Some(&big)).await,
        (413, "PAYLOAD_TOO_LARGE"),
    );

    // No such route, a method the route does not take.
    envelope(
        "an unknown route",
        raw(&server, "GET", "/api/v1/no-such-thing", &t, None).await,
        (404, "NOT_FOUND"),
    );
    envelope(
        "a wrong method",
        raw(&server, "PUT", "/api/v1/bots", &t, Some("{}")).await,
        (405, "METHOD_NOT_ALLOWED"),
    );

    // A refusal from inside the framework: the agent socket asked for without an upgrade.
    let (agent_id, agent_token) = server.paired_agent(&t, "pc").await;
    envelope(
        "the agent socket without an upgrade",
        raw(
            &server,
            "GET",
            &format!("/api/v1/agents/ws?agent_id={agent_id}"),
            &agent_token,
            None,
        )
        .await,
        (400, "BAD_REQUEST"),
    );
}

#[tokio::test]
async fn kanban_order_takes_a_millisecond_timestamp() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    // The original UI sends `Date.now()` for the first task of an empty column.
    let order = 1_765_000_000_000_i64;
    let (status, task) = server
        .call(
            "POST",
            "/api/v1/workspace/kanban",
            &t,
            Some(json!({ "title": "First", "status": "todo", "order": order })),
        )
        .await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["data"]["order"], order);
    let id = task["data"]["id"].as_str().unwrap();
    let (status, moved) = server
        .call(
            "PATCH",
            &format!("/api/v1/workspace/kanban/{id}"),
            &t,
            Some(json!({ "status": "done", "order": -order - 1 })),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["data"]["order"], -order - 1);
    // Still a whole number.
    let (status, res) = server
        .call(
            "PATCH",
            &format!("/api/v1/workspace/kanban/{id}"),
            &t,
            Some(json!({ "order": 1.5 })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("WORKSPACE_INVALID_BODY"))
    );
}

#[tokio::test]
async fn a_null_in_a_settings_write_deletes_and_bot_slash_keys_are_paths() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;

    let projects = json!({ "wow_tbc": { "name": "TBC" }, "wow_midnight": { "name": "Midnight" } });
    let (status, _) = server
        .call("PUT", "/api/v1/settings/projects", &t, Some(projects))
        .await;
    assert_eq!(status, 200);
    let (status, after) = server
        .call(
            "PATCH",
            "/api/v1/settings/projects",
            &t,
            Some(json!({ "wow_midnight": null, "wow_tbc": { "name": "TBC", "note": null } })),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        after["data"],
        json!({ "wow_tbc": { "name": "TBC" } }),
        "no ghost project"
    );
    let (status, _) = server
        .call("PUT", "/api/v1/settings/projects/wow_tbc", &t, Some(Value::Null))
        .await;
    assert_eq!(status, 200);
    let tree = server.call_ok("GET", "/api/v1/settings", &t, None).await;
    assert_eq!(
        tree["data"]["projects"],
        json!({}),
        "a null body deletes the path: {tree}"
    );

    let (status, bot) = server
        .call(
            "POST",
            "/api/v1/bots",
            &t,
            Some(json!({ "name": "b", "generation_locks": { "person_data": true } })),
        )
        .await;
    assert_eq!(status, 201);
    let id = bot["data"]["id"].as_str().unwrap();
    let (status, patched) = server
        .call(
            "PATCH",
            &format!("/api/v1/bots/{id}"),
            &t,
            Some(json!({ "generation_locks/schedule": true, "generation_locks/account_email": false })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["data"]["generation_locks"],
        json!({ "person_data": true, "schedule": true, "account_email": false })
    );
    assert!(patched["data"].get("generation_locks/schedule").is_none(), "{patched}");
    let stored = server.call_ok("GET", &format!("/api/v1/bots/{id}"), &t, None).await;
    assert_eq!(stored["data"]["generation_locks"], patched["data"]["generation_locks"]);
    // A path is checked where it lands.
    let (status, res) = server
        .call(
            "PATCH",
            &format!("/api/v1/bots/{id}"),
            &t,
            Some(json!({ "character/level": 500 })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (400, Some("BOTS_INVALID_MUTATION_BODY")),
        "{res}"
    );
    assert!(
        res["error"]["details"]["fieldErrors"]["character.level"].is_array(),
        "{res}"
    );
}

#[tokio::test]
async fn diag_trace_reports_the_documented_shape() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = client()
        .get(server.url("/api/v1/diag/trace"))
        .bearer_auth(&t)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    let body = json_of(res, 200).await;
    let data = &body["data"];
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    assert_eq!(data["received"]["correlation_id"], header("x-correlation-id"), "{body}");
    assert_eq!(data["active"]["trace_id"], trace_id, "{body}");
    let span = data["active"]["span_id"].as_str().unwrap();
    assert!(
        span.len() == 16 && span.chars().all(|c| c.is_ascii_hexdigit()),
        "{body}"
    );
    assert_eq!(
        data["response_headers"],
        json!({ "x_trace_id": header("x-trace-id"), "x_span_id": span, "x_correlation_id": header("x-correlation-id") })
    );
    assert_eq!(header("x-span-id"), span);

    // Without a traceparent the trace id is the request's x-trace-id.
    let res = client()
        .get(server.url("/api/v1/diag/trace"))
        .bearer_auth(&t)
        .header("x-trace-id", "trace-7")
        .header("x-correlation-id", "corr-7")
        .send()
        .await
        .unwrap();
    let body = json_of(res, 200).await;
    assert_eq!(body["data"]["active"]["trace_id"], "trace-7");
    assert_eq!(body["data"]["received"]["correlation_id"], "corr-7");
    assert_eq!(body["data"]["received"]["traceparent"], Value::Null);
}
