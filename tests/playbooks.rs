//! Playbooks (api-ops.md §9): CRUD in the owner scope, YAML validation with line and column,
//! the default playbook, and how a playbook reaches a VM (its config ISO only).

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const GOOD: &str = "name: Base setup\nvars:\n  locale: de\npre_checks:\n  - name: gpu\n    check: \"$true\"\nroles:\n  - role: base-system\n  - role: nvidia-driver\n    when: facts.gpu.vendor == 'NVIDIA'\n    tags: [gpu]\n";

#[tokio::test]
async fn playbooks_are_crud_in_the_owner_scope_and_validated_before_saving() {
    let server = TestServer::start().await;
    let alice = server.user("alice@example.com", "acme", "api").await;
    let bob = server.user("bob@example.com", "acme", "admin").await;
    let eve = server.user("eve@example.com", "other", "api").await;

    let (status, created) = server
        .call(
            "POST",
            "/api/v1/playbooks",
            &alice,
            Some(json!({"name": "Base", "content": GOOD})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let pb = &created["data"];
    assert_eq!(
        (pb["name"].as_str(), pb["is_default"].as_bool(), pb["content"].as_str()),
        (Some("Base"), Some(false), Some(GOOD))
    );
    let id = pb["id"].as_str().unwrap().to_owned();

    let (status, got) = server
        .call("GET", &format!("/api/v1/playbooks/{id}"), &alice, None)
        .await;
    assert_eq!((status, &got["data"]["id"]), (200, &pb["id"]));

    // A syntax error: 422 with line and column; the body limits: 400.
    let broken = "name: x\nroles:\n  - role: [base-system\n";
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/playbooks",
            &alice,
            Some(json!({"name": "Broken", "content": broken})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (422, Some("INVALID_PLAYBOOK")),
        "{err}"
    );
    assert_eq!(err["error"]["message"], "Playbook YAML validation failed");
    let issue = &err["error"]["details"]["errors"][0];
    assert!(
        issue["message"].as_str().unwrap().starts_with("YAML parse error: "),
        "{issue}"
    );
    assert!(
        issue["line"].as_u64().unwrap() >= 3 && issue["column"].as_u64().unwrap() >= 1,
        "{issue}"
    );
    assert!(err["error"]["details"]["warnings"].is_array());
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/playbooks",
            &alice,
            Some(json!({"name": "No roles", "content": "name: x\n"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["details"]["errors"][0],
        json!({"path": "roles", "message": "Missing \"roles\" field", "line": 1, "column": 1}),
        "a missing top-level field points at the document's mapping"
    );
    for (body, field) in [
        (json!({"content": GOOD}), "name"),
        (json!({"name": "", "content": GOOD}), "name"),
        (json!({"name": "x"}), "content"),
        (json!({"name": "x", "content": "a".repeat(65_537)}), "content"),
    ] {
        let (status, err) = server.call("POST", "/api/v1/playbooks", &alice, Some(body)).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("PLAYBOOK_INVALID_CREATE_BODY"))
        );
        assert!(err["error"]["details"]["fieldErrors"][field].is_array(), "{err}");
    }
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/playbooks",
            &alice,
            Some(json!({"name": "Base", "content": GOOD})),
        )
        .await;
    assert_eq!((status, err["error"]["code"].as_str()), (409, Some("DUPLICATE_NAME")));
    assert_eq!(err["error"]["message"], "Playbook name \"Base\" already exists");

    // Update: content is validated too; is_default can be set and cleared.
    let path = format!("/api/v1/playbooks/{id}");
    let (status, _) = server
        .call("PUT", &path, &alice, Some(json!({"content": "- not a mapping\n"})))
        .await;
    assert_eq!(status, 422);
    let (status, err) = server
        .call("PUT", "/api/v1/playbooks/nope", &alice, Some(json!({})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PLAYBOOK_INVALID_ID"))
    );
    let (status, err) = server
        .call("PUT", &path, &alice, Some(json!({"is_default": "yes"})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PLAYBOOK_INVALID_UPDATE_BODY"))
    );
    let (status, updated) = server
        .call("PUT", &path, &alice, Some(json!({"is_default": true, "name": "Main"})))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            updated["data"]["is_default"].as_bool(),
            updated["data"]["name"].as_str()
        ),
        (Some(true), Some("Main"))
    );
    let second = server
        .call_ok(
            "POST",
            "/api/v1/playbooks",
            &alice,
            Some(json!({"name": "Second", "content": GOOD, "is_default": true})),
        )
        .await;
    let list = server.call_ok("GET", "/api/v1/playbooks", &alice, None).await;
    let flags: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["is_default"].clone()))
        .collect();
    assert_eq!(
        flags,
        [(json!("Main"), json!(false)), (json!("Second"), json!(true))],
        "oldest first, one default"
    );
    let second_path = format!("/api/v1/playbooks/{}", second["data"]["id"].as_str().unwrap());
    let cleared = server
        .call_ok("PUT", &second_path, &alice, Some(json!({"is_default": false})))
        .await;
    assert_eq!(cleared["data"]["is_default"], false, "is_default:false clears the flag");

    // Owner scope: another user (even an admin) and another tenant see nothing.
    for other in [&bob, &eve] {
        let list = server.call_ok("GET", "/api/v1/playbooks", other, None).await;
        assert_eq!(list["data"], json!([]));
        for method in ["GET", "PUT", "DELETE"] {
            let (status, err) = server.call(method, &path, other, Some(json!({"name": "x"}))).await;
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (404, Some("PLAYBOOK_NOT_FOUND")),
                "{method}"
            );
        }
    }
    let (status, deleted) = server.call("DELETE", &path, &alice, None).await;
    assert_eq!((status, &deleted["data"]), (200, &json!({"deleted": true})));
    let (status, _) = server.call("GET", &path, &alice, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn validate_reports_errors_and_warnings_without_refusing() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (status, ok) = server
        .call(
            "POST",
            "/api/v1/playbooks/validate",
            &op,
            Some(json!({"content": GOOD})),
        )
        .await;
    assert_eq!(
        (status, &ok["data"]),
        (200, &json!({"valid": true, "errors": [], "warnings": []}))
    );

    let content = "name: x\nroles:\n  - role: mystery-role\n  - when: x\n";
    let (status, report) = server
        .call(
            "POST",
            "/api/v1/playbooks/validate",
            &op,
            Some(json!({"content": content})),
        )
        .await;
    assert_eq!(status, 200, "never 422");
    assert_eq!(report["data"]["valid"], false);
    assert_eq!(
        report["data"]["errors"],
        json!([{"path": "roles.1.role", "message": "Missing \"role\" field", "line": 4, "column": 5}]),
        "a missing field points at the mapping that lacks it"
    );
    assert_eq!(
        report["data"]["warnings"],
        json!([{"message": "Unknown role \"mystery-role\" — ensure a matching role exists in Winsible"}])
    );

    // Schema errors carry the line and column of the node their path names.
    let content = "# comment\nname: x\npre_checks:\n  - name: gpu\n    check: nvidia\n  - name: 7\n    check: \"\"\nroles:\n  - role: base-system\n    tags:\n      - a\n      - 1\n  - plain\nvars: [1]\n";
    let report = server
        .call_ok(
            "POST",
            "/api/v1/playbooks/validate",
            &op,
            Some(json!({"content": content})),
        )
        .await;
    let at: Vec<(String, u64, u64)> = report["data"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("vars", 14, 1),
        ("pre_checks.1.name", 6, 5),
        ("pre_checks.1.check", 7, 5),
        ("roles.0.tags", 10, 5),
        ("roles.1", 13, 5),
    ];
    assert_eq!(at, want.map(|(p, l, c)| (p.to_owned(), l, c)), "{report}");

    let report = server
        .call_ok(
            "POST",
            "/api/v1/playbooks/validate",
            &op,
            Some(json!({"content": "name: [x\nroles: []\n"})),
        )
        .await;
    let issue = &report["data"]["errors"][0];
    assert_eq!(
        (issue["line"].is_u64(), issue["column"].is_u64()),
        (true, true),
        "{issue}"
    );

    for body in [json!({"content": "  "}), json!({}), json!({"content": 5})] {
        let (status, err) = server.call("POST", "/api/v1/playbooks/validate", &op, Some(body)).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("PLAYBOOK_INVALID_VALIDATE_BODY"))
        );
    }
}

fn generate(vm: &str, playbook_id: Option<&str>) -> Value {
    let mut body = json!({
        "profile_config": {
            "user": {"nameMode": "fixed"}, "computerName": {"mode": "fixed"}, "locale": {},
            "softwareRemoval": {"mode": "fixed"}, "capabilityRemoval": {"mode": "fixed"},
            "visualEffects": {}, "desktopIcons": {}, "windowsSettings": {}
        },
        "vm_uuid": vm, "ip": {"address": "10.1.0.9", "gateway": "10.1.0.1"}
    });
    if let Some(id) = playbook_id {
        body["playbook_id"] = json!(id);
    }
    body
}

#[tokio::test]
async fn a_playbook_reaches_a_vm_as_playbook_yml_on_its_config_iso_only() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let agent_free = "/api/v1/provisioning/generate-iso-payload";
    let res = server
        .call_ok("POST", agent_free, &op, Some(generate("vm-pb-0001", None)))
        .await;
    assert!(res["data"]["files"].get("playbook.yml").is_none() && res["data"]["playbookId"].is_null());

    let default = server
        .call_ok(
            "POST",
            "/api/v1/playbooks",
            &op,
            Some(json!({"name": "Default", "content": GOOD, "is_default": true})),
        )
        .await;
    let other = "name: Other\nroles:\n  - role: syncthing\n";
    let named = server
        .call_ok(
            "POST",
            "/api/v1/playbooks",
            &op,
            Some(json!({"name": "Other", "content": other})),
        )
        .await;
    let decode = |v: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    };

    let res = server
        .call_ok("POST", agent_free, &op, Some(generate("vm-pb-0001", None)))
        .await;
    assert_eq!(res["data"]["playbookId"], default["data"]["id"], "the default playbook");
    assert_eq!(decode(&res["data"]["files"]["playbook.yml"]), GOOD.as_bytes());

    let named_id = named["data"]["id"].as_str().unwrap();
    let res = server
        .call_ok("POST", agent_free, &op, Some(generate("vm-pb-0002", Some(named_id))))
        .await;
    assert_eq!(res["data"]["playbookId"], named["data"]["id"], "the named one wins");
    assert_eq!(decode(&res["data"]["files"]["playbook.yml"]), other.as_bytes());

    // An unknown playbook is left out, never a failure (§8.4 step 4).
    let (status, res) = server
        .call(
            "POST",
            agent_free,
            &op,
            Some(generate("vm-pb-0003", Some("00000000-0000-4000-8000-000000000000"))),
        )
        .await;
    assert_eq!(status, 200);
    assert!(res["data"]["playbookId"].is_null() && res["data"]["files"].get("playbook.yml").is_none());

    // Deleting a playbook clears it from the tokens that shipped it.
    let progress = server
        .call_ok("GET", "/api/v1/provisioning/progress/vm-pb-0002", &op, None)
        .await;
    assert_eq!(progress["data"]["token"]["playbook_id"], named["data"]["id"]);
    server
        .call_ok("DELETE", &format!("/api/v1/playbooks/{named_id}"), &op, None)
        .await;
    let progress = server
        .call_ok("GET", "/api/v1/provisioning/progress/vm-pb-0002", &op, None)
        .await;
    assert!(progress["data"]["token"]["playbook_id"].is_null());

    // No route serves playbooks to a VM: a provisioning token opens nothing here.
    let token = res["data"]["token"].as_str().unwrap();
    let (status, _) = server.call("GET", "/api/v1/playbooks", token, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn playbook_routes_refuse_agents_and_anonymous_callers() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (_agent_id, agent) = server.paired_agent(&op, "playbooks").await;
    let id = "00000000-0000-4000-8000-000000000000";
    let routes = [
        ("GET", "/api/v1/playbooks".to_owned()),
        ("POST", "/api/v1/playbooks".to_owned()),
        ("GET", format!("/api/v1/playbooks/{id}")),
        ("PUT", format!("/api/v1/playbooks/{id}")),
        ("DELETE", format!("/api/v1/playbooks/{id}")),
        ("POST", "/api/v1/playbooks/validate".to_owned()),
    ];
    for (method, path) in routes {
        let body = json!({"name": "x", "content": GOOD});
        let req = client().request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            server.url(&path),
        );
        assert_eq!(req.json(&body).send().await.unwrap().status(), 401, "{method} {path}");
        let (status, _) = server.call(method, &path, &agent, Some(body)).await;
        assert_eq!(status, 403, "{method} {path} as an agent");
    }
}
