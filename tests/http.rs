//! The HTTP contract every route shares: envelopes, limits, correlation, docs, metrics, UI.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn errors_use_the_envelope() {
    let server = TestServer::start().await;
    let unknown = json_of(
        client().get(server.url("/api/v1/does-not-exist")).send().await.unwrap(),
        404,
    )
    .await;
    assert_eq!(unknown["success"], false);
    assert_eq!(unknown["error"]["code"], "NOT_FOUND");
    assert_eq!(unknown["error"]["message"], "Cannot GET /api/v1/does-not-exist");

    let wrong_method = client().delete(server.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(json_of(wrong_method, 405).await["error"]["code"], "METHOD_NOT_ALLOWED");

    let login = || client().post(server.url("/api/v1/auth/login"));
    let not_json = login()
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(not_json, 400).await["error"]["code"], "INVALID_JSON");
    let wrong_shape = login()
        .json(&serde_json::json!({ "email": "a@b.c" }))
        .send()
        .await
        .unwrap();
    let body = json_of(wrong_shape, 400).await;
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
    assert_eq!(
        body["error"]["details"]["fieldErrors"]["password"][0], "is required",
        "{body}"
    );
    let wrong_type = login()
        .json(&serde_json::json!({ "email": 5, "password": "x" }))
        .send()
        .await
        .unwrap();
    assert!(json_of(wrong_type, 400).await["error"]["details"]["fieldErrors"]["email"].is_array());
    let form = login()
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(form, 415).await["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(tmp.path(), &["--max-body-bytes", "1024"], &[])
        .await
        .unwrap();
    let big = format!("{{\"email\":\"a@b.c\",\"password\":\"{}\"}}", "x".repeat(4096));
    let res = client()
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, 413).await["error"]["code"], "PAYLOAD_TOO_LARGE");
    // The server is unharmed.
    assert_eq!(
        client()
            .get(server.url("/api/v1/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn correlation_headers_are_kept_or_generated() {
    let server = TestServer::start().await;
    let res = client()
        .get(server.url("/api/v1/health"))
        .header("x-request-id", "  req-42 ")
        .header("x-trace-id", " ")
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["x-request-id"], "req-42");
    let trace = h["x-trace-id"].to_str().unwrap();
    assert_eq!(trace.len(), 36, "a blank header gets a fresh UUID: {trace}");
    assert_eq!(h["x-correlation-id"].to_str().unwrap().len(), 36);
    let err = client().get(server.url("/api/v1/nope")).send().await.unwrap();
    assert!(err.headers().contains_key("x-request-id"), "errors carry them too");
}

#[tokio::test]
async fn health_and_readiness_report_their_checks() {
    let server = TestServer::start().await;
    let health = json_of(client().get(server.url("/api/v1/health")).send().await.unwrap(), 200).await;
    assert_eq!(health["data"]["data_backend"], "sqlite");
    assert_eq!(health["data"]["version"], env!("CARGO_PKG_VERSION"));
    // The presence window is policy the UI reads rather than a constant of its own.
    assert_eq!(health["data"]["bot_offline_after_ms"], 300_000);
    let live = json_of(
        client().get(server.url("/api/v1/health/live")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(live["data"]["status"], "live");
    let ready = json_of(
        client().get(server.url("/api/v1/health/ready")).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(ready["data"]["status"], "ready");
    assert_eq!(ready["data"]["checks"]["database"]["ready"], true);
    assert_eq!(ready["data"]["checks"]["object_store"]["ready"], true);
}

#[tokio::test]
async fn readiness_probes_at_once_all_answer_ready() {
    let server = TestServer::start().await;
    let probes: Vec<_> = (0..64)
        .map(|_| tokio::spawn(client().get(server.url("/api/v1/health/ready")).send()))
        .collect();
    for probe in probes {
        let res = probe.await.unwrap().unwrap();
        json_of(res, 200).await;
    }
}

#[tokio::test]
async fn readiness_fails_when_the_object_store_cannot_be_written() {
    let server = TestServer::start().await;
    // Ready first: a good probe is reused for a moment, and must not hide what follows.
    let res = client().get(server.url("/api/v1/health/ready")).send().await.unwrap();
    json_of(res, 200).await;
    // A file where the store's directory should be: unwritable even for root.
    let objects = server.data_dir.join("objects");
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::write(&objects, b"not a directory").unwrap();
    let res = client().get(server.url("/api/v1/health/ready")).send().await.unwrap();
    let body = json_of(res, 503).await;
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["status"], "not-ready");
    assert_eq!(body["data"]["checks"]["object_store"]["ready"], false);
    assert!(body["data"]["checks"]["object_store"]["reason"].is_string());
    assert_eq!(body["data"]["checks"]["database"]["ready"], true);

    // Mended, the store is ready again.
    std::fs::remove_file(&objects).unwrap();
    std::fs::create_dir(&objects).unwrap();
    let res = client().get(server.url("/api/v1/health/ready")).send().await.unwrap();
    json_of(res, 200).await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_renders_as_a_page() {
    let server = TestServer::start().await;
    let doc: Value = client()
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/health/live", "get"),
        ("/api/v1/health/ready", "get"),
        ("/api/v1/auth/setup", "get"),
        ("/api/v1/auth/setup", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/whoami", "get"),
        ("/api/v1/auth/verify", "get"),
        ("/api/v1/auth/sessions", "get"),
        ("/api/v1/auth/sessions/{id}", "delete"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/admin/users", "get"),
        ("/api/v1/admin/users", "post"),
        ("/api/v1/admin/users/{id}/sessions", "delete"),
        ("/api/v1/openapi.json", "get"),
        ("/api/docs", "get"),
        ("/metrics", "get"),
        ("/api/v1/bots", "post"),
        ("/api/v1/bots/{id}/lifecycle/ban", "post"),
        ("/api/v1/bots/archive", "get"),
        ("/api/v1/resources/{kind}/{id}", "put"),
        ("/api/v1/resources/{kind}/expiring", "get"),
        ("/api/v1/workspace/{kind}", "get"),
        ("/api/v1/finance/daily-stats", "get"),
        ("/api/v1/settings/{path}", "patch"),
        ("/api/v1/settings/notifications/events", "put"),
        ("/api/v1/theme-assets/presign-upload", "post"),
        ("/api/v1/theme-assets/files/{tenant}/{id}", "put"),
        ("/api/v1/wow-names", "get"),
        ("/api/v1/client-logs", "post"),
        ("/api/v1/diag/trace", "get"),
        ("/api/v1/audit", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["SessionGrant"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let page = client().get(server.url("/api/docs")).send().await.unwrap();
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/auth/login") && html.contains("SessionGrant"));
}

/// Every `$ref` in `value`, with where it was found.
fn refs<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(target)) => out.push((at.clone(), target)),
                    _ => refs(v, format!("{at}/{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `schema`, or what its `$ref` names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(target) => doc.pointer(target.trim_start_matches('#')).unwrap(),
        None => schema,
    }
}

#[tokio::test]
async fn the_openapi_document_resolves_and_states_the_shared_answers() {
    let server = TestServer::start().await;
    let doc = json_of(
        client().get(server.url("/api/v1/openapi.json")).send().await.unwrap(),
        200,
    )
    .await;

    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 100, "the document uses references");
    for (at, target) in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {target} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{at}: {target} does not resolve");
    }

    let paths = doc["paths"].as_object().unwrap();
    let mut ids = std::collections::HashSet::new();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            let name = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{name}: operationId {id} is not unique");
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.contains_key("401"), "{name} does not document 401");
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415"] {
                    assert!(responses.contains_key(status), "{name} does not document {status}");
                }
            }
        }
    }
    assert!(operations > 150);

    // Three different revocation answers keep three schemas.
    let revoke_tokens = &doc["paths"]["/api/v1/provisioning/tokens/{vmUuid}/revoke"]["post"];
    let wrapper = resolve(
        &doc,
        &revoke_tokens["responses"]["200"]["content"]["application/json"]["schema"],
    );
    let data = resolve(&doc, &wrapper["properties"]["data"]);
    assert!(data["properties"]["vm_uuid"].is_object(), "{data}");
    for name in ["AgentRevoked", "LeaseRevoked", "ProvisioningTokensRevoked"] {
        assert!(doc["components"]["schemas"][name].is_object(), "{name} missing");
    }

    // A settings path holds any JSON value, not only an object.
    let settings = &doc["paths"]["/api/v1/settings/{path}"]["get"]["responses"]["200"]["content"]["application/json"];
    let wrapper = resolve(&doc, &settings["schema"]);
    let any = resolve(&doc, &wrapper["properties"]["data"]);
    assert!(any.get("type").is_none() && any.get("oneOf").is_none(), "{any}");

    // `/client-logs` takes limit 1-200, as the server checks.
    let params = doc["paths"]["/api/v1/client-logs"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        let res = client().get(server.url("/api/v1/health/live")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    let text = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("botmox_http_requests_total{")
                && l.contains("route=\"/api/v1/health/live\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for the live route in:\n{text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(text.contains("botmox_http_request_duration_seconds_bucket"));
    assert!(text.contains("botmox_db_operation_duration_seconds_count{kind=\"write\"}"));
}

#[tokio::test]
async fn the_web_ui_is_served_with_spa_fallback_and_cache_headers() {
    let server = TestServer::start().await;
    let index = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    let html = index.text().await.unwrap();
    assert!(html.contains("<div id=\"root\">"), "{html}");

    // A client-side route gets the same page.
    let deep = client()
        .get(server.url("/licenses"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(deep, html);

    let asset = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("index.html references a script");
    let res = client()
        .get(server.url(asset))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(res.headers()["content-type"].to_str().unwrap().contains("javascript"));

    assert_eq!(
        client()
            .get(server.url("/assets/missing.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
