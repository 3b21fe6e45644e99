//! The access matrix of api-ops §11 and `docs/security.md`, route group by route group: each
//! route is called as a plain `api` user, an admin, an infra user, an agent, a user of another
//! tenant and anonymously; the installation operator's one route is checked after the table. A refused principal must get 401, 403 or 404 (404: the object is in another
//! tenant or scope, so it does not exist for the caller); an allowed one must get neither 401
//! nor 403, and a 404 only with the domain code the row names. Bodies are minimal: an allowed
//! call may well answer 400 or 409, which is fine here.

mod common;

use common::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    /// A plain `api` user of the tenant, owner of the objects below.
    User,
    Admin,
    Infra,
    /// The agent paired by `User`.
    Agent,
    /// An `api` user of another tenant.
    Stranger,
    Anonymous,
}
use Who::*;

const EVERYONE: &[Who] = &[User, Admin, Infra, Agent, Stranger, Anonymous];
const USERS: &[Who] = &[User, Admin, Infra, Stranger];
const PRIVILEGED: &[Who] = &[Admin, Infra];

struct Row {
    method: &'static str,
    path: String,
    body: Option<Value>,
    allowed: &'static [Who],
    /// A 404 code an allowed caller may get because the minimal input names nothing.
    missing: Option<&'static str>,
}

fn row(method: &'static str, path: impl Into<String>, body: Option<Value>, allowed: &'static [Who]) -> Row {
    Row {
        method,
        path: path.into(),
        body,
        allowed,
        missing: None,
    }
}

#[tokio::test]
async fn every_route_group_admits_exactly_the_principals_of_the_access_matrix() {
    let server = TestServer::start().await;
    // The setup admin holds admin and infra and is the installation operator; the matrix's
    // admin holds admin alone.
    let operator = server.setup_admin().await;
    let admin = server.user("admin2@example.com", "default", "admin").await;
    let user = server.user("op@example.com", "default", "api").await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let stranger = server.user("stranger@example.com", "other", "api").await;
    let (agent_id, agent) = server.paired_agent(&user, "matrix").await;
    let (doomed_agent, _) = server.paired_agent(&user, "to-revoke").await;

    // The user's own objects, for the by-id routes.
    let created = |path: &'static str, body: Value| {
        let (server, user) = (&server, &user);
        async move {
            let (status, res) = server.call("POST", path, user, Some(body)).await;
            assert_eq!(status, 201, "{path}: {res}");
            res["data"]["id"].as_str().map(str::to_owned).unwrap_or_default()
        }
    };
    let secret = created("/api/v1/secrets", json!({ "label": "pw", "value": "matrix-value" })).await;
    let binding = json!({ "scope_type": "agent", "scope_id": agent_id, "secret_ref": secret, "field_name": "pw" });
    created("/api/v1/secrets/bindings", binding).await;
    let vm = "4c4c4544-0042-3510-8051-c7c04f4b4e31";
    created("/api/v1/vm/register", json!({ "vm_uuid": vm, "vm_name": "bot-1" })).await;
    let playbook = created(
        "/api/v1/playbooks",
        json!({ "name": "Base", "content": "name: Base\nroles:\n  - role: base-system\n" }),
    )
    .await;
    let profiles = server.call_ok("GET", "/api/v1/unattend-profiles", &user, None).await;
    let profile = match profiles["data"].as_array().and_then(|p| p.first()) {
        Some(p) => p["id"].as_str().unwrap().to_owned(),
        None => {
            created(
                "/api/v1/unattend-profiles",
                json!({ "name": "Main", "config": {
                "user": { "nameMode": "fixed" }, "computerName": { "mode": "fixed" }, "locale": {},
                "softwareRemoval": { "mode": "fixed" }, "capabilityRemoval": { "mode": "fixed" },
                "visualEffects": {}, "desktopIcons": {}, "windowsSettings": {}
            } }),
            )
            .await
        }
    };
    // A secret of the user's bound to the whole tenant: not for the agent of an api user.
    let tenant_secret = created("/api/v1/secrets", json!({ "label": "wide", "value": "tenant-value" })).await;
    let tenant_binding =
        json!({ "scope_type": "tenant", "scope_id": "default", "secret_ref": tenant_secret, "field_name": "wide" });
    created("/api/v1/secrets/bindings", tenant_binding).await;
    let (status, queued) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/vm-status",
            &user,
            Some(json!({ "agent_id": agent_id, "params": { "vmid": 100 } })),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let command = queued["data"]["id"].as_str().unwrap().to_owned();

    let mut table = vec![
        // Secrets: tenant-scoped for users; agents only fetch values of bound secrets.
        row(
            "POST",
            "/api/v1/secrets",
            Some(json!({ "label": "x", "value": "y" })),
            USERS,
        ),
        row("GET", "/api/v1/secrets/bindings", None, USERS),
        row(
            "GET",
            format!("/api/v1/secrets/{secret}/meta"),
            None,
            &[User, Admin, Infra],
        ),
        row("GET", format!("/api/v1/secrets/{secret}/value"), None, &[Agent]),
        row("GET", format!("/api/v1/secrets/{tenant_secret}/value"), None, &[]),
        // Installation-wide: the operator only (checked below), no tenant admin.
        row("POST", "/api/v1/admin/vault/rotate", None, &[]),
        // Users of the tenant: its admins.
        row("POST", "/api/v1/admin/users", Some(json!({})), &[Admin]),
        // API keys and notification channels: admins; what is not a channel: every user.
        row(
            "PUT",
            "/api/v1/settings/api_keys",
            Some(json!({ "ipqs": { "enabled": false } })),
            &[Admin],
        ),
        row(
            "PUT",
            "/api/v1/settings/notifications/webhook",
            Some(json!({ "url": "https://example.com/hook" })),
            &[Admin],
        ),
        row(
            "PUT",
            "/api/v1/notifications/settings",
            Some(json!({ "telegram": { "chat_id": "-100123" } })),
            &[Admin],
        ),
        row(
            "PUT",
            "/api/v1/notifications/settings",
            Some(json!({ "events": { "bot_banned": true } })),
            USERS,
        ),
        // Artifacts: releases and assignments are privileged; resolve is lease-gated.
        row("POST", "/api/v1/artifacts/releases", Some(json!({})), PRIVILEGED),
        row("POST", "/api/v1/artifacts/assign", Some(json!({})), PRIVILEGED),
        row("GET", "/api/v1/artifacts/assign/someone/runner", None, PRIVILEGED),
        row("GET", "/api/v1/artifacts/assignments", None, PRIVILEGED),
        row("GET", "/api/v1/artifacts/download-audit", None, PRIVILEGED),
        row(
            "POST",
            "/api/v1/artifacts/resolve-download",
            Some(json!({})),
            &[User, Admin, Infra, Agent, Stranger],
        ),
        // License: the lease list is for admins only.
        row("GET", "/api/v1/license/leases", None, &[Admin]),
        row(
            "POST",
            "/api/v1/license/lease",
            Some(json!({})),
            &[User, Admin, Infra, Agent, Stranger],
        ),
        row(
            "POST",
            "/api/v1/license/heartbeat",
            Some(json!({})),
            &[User, Admin, Infra, Agent, Stranger],
        ),
        Row {
            missing: Some("LEASE_NOT_FOUND"),
            ..row(
                "POST",
                "/api/v1/license/revoke",
                Some(json!({ "lease_id": "no-such-lease" })),
                PRIVILEGED,
            )
        },
        // Provisioning: own scope for every user, nothing for agents; the bootstrap is public.
        row("GET", "/api/v1/unattend-profiles", None, USERS),
        row(
            "PUT",
            format!("/api/v1/unattend-profiles/{profile}"),
            Some(json!({ "name": "Renamed" })),
            &[User],
        ),
        row("POST", "/api/v1/unattend-profiles/preview", Some(json!({})), USERS),
        row("GET", "/api/v1/playbooks", None, USERS),
        row("GET", format!("/api/v1/playbooks/{playbook}"), None, &[User]),
        row(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            Some(json!({})),
            USERS,
        ),
        row("GET", format!("/api/v1/provisioning/progress/{vm}"), None, USERS),
        row("POST", "/api/v1/provisioning/validate-token", Some(json!({})), EVERYONE),
        row(
            "POST",
            "/api/v1/provisioning/report-progress",
            Some(json!({})),
            EVERYONE,
        ),
        // VM registry: users register for themselves, agents for their tenant.
        row(
            "POST",
            "/api/v1/vm/register",
            Some(json!({})),
            &[User, Admin, Infra, Agent, Stranger],
        ),
        row(
            "GET",
            format!("/api/v1/vm/{vm}/resolve"),
            None,
            &[User, Admin, Infra, Agent],
        ),
        // vm-ops.
        row(
            "POST",
            "/api/v1/vm-ops/proxmox/vm-status",
            Some(json!({ "agent_id": agent_id, "params": { "vmid": 100 } })),
            &[User, Admin, Infra],
        ),
        row(
            "POST",
            "/api/v1/vm-ops/proxmox/ssh-write-config",
            Some(json!({ "agent_id": agent_id, "params": { "vmid": 100, "content": "memory: 512\n" } })),
            PRIVILEGED,
        ),
        row(
            "POST",
            "/api/v1/vm-ops/commands",
            Some(json!({ "agent_id": agent_id, "command_type": "proxmox.vm-status", "payload": {} })),
            PRIVILEGED,
        ),
        row(
            "GET",
            format!("/api/v1/vm-ops/commands/{command}"),
            None,
            &[User, Admin, Infra, Agent],
        ),
        row(
            "PATCH",
            format!("/api/v1/vm-ops/commands/{command}"),
            Some(json!({ "status": "running" })),
            &[Admin, Infra, Agent],
        ),
        row(
            "GET",
            format!("/api/v1/vm-ops/commands/next?agent_id={agent_id}&timeout_ms=1000"),
            None,
            &[Agent],
        ),
        // Infra and the gateway: the infra role only.
        row("GET", "/api/v1/infra/proxmox/status", None, &[Infra]),
        row(
            "POST",
            "/api/v1/gateway/tickets",
            Some(json!({ "service": "proxmox" })),
            &[Infra],
        ),
        // Agents.
        row("POST", "/api/v1/agents/pairings", Some(json!({})), USERS),
        row("POST", "/api/v1/agents/register", Some(json!({})), EVERYONE),
        row(
            "POST",
            "/api/v1/agents/heartbeat",
            Some(json!({ "agent_id": agent_id })),
            &[User, Admin, Infra, Agent],
        ),
        row("GET", "/api/v1/agents", None, USERS),
        row("GET", format!("/api/v1/agents/{agent_id}"), None, &[User, Admin, Infra]),
        row(
            "POST",
            format!("/api/v1/agents/{doomed_agent}/revoke"),
            Some(json!({})),
            PRIVILEGED,
        ),
    ];

    let mut wrong = Vec::new();
    for row in table.drain(..) {
        for who in EVERYONE {
            let token = match who {
                User => user.as_str(),
                Admin => &admin,
                Infra => &infra,
                Agent => &agent,
                Stranger => &stranger,
                Anonymous => "",
            };
            let (status, body) = if *who == Anonymous {
                let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
                let mut req = client().request(method, server.url(&row.path));
                if let Some(b) = &row.body {
                    req = req.json(b);
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json().await.unwrap_or(Value::Null))
            } else {
                server.call(row.method, &row.path, token, row.body.clone()).await
            };
            let code = body["error"]["code"].as_str();
            let fits = if row.allowed.contains(who) {
                !matches!(status, 401 | 403) && (status != 404 || code.is_some() && code == row.missing)
            } else {
                matches!(status, 401 | 403 | 404)
            };
            if !fits {
                let allowed = if row.allowed.contains(who) {
                    "allowed"
                } else {
                    "refused"
                };
                wrong.push(format!(
                    "{} {} as {who:?} ({allowed}): {status} {body}",
                    row.method, row.path
                ));
            }
        }
    }
    let (status, body) = server.call("POST", "/api/v1/admin/vault/rotate", &operator, None).await;
    if status != 200 {
        wrong.push(format!(
            "POST /api/v1/admin/vault/rotate as the operator (allowed): {status} {body}"
        ));
    }
    assert!(wrong.is_empty(), "disagreements with the matrix:\n{}", wrong.join("\n"));
}
