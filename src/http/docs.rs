//! The OpenAPI document (generated from the handlers' annotations) and a readable reference
//! page rendered from it, with no script or stylesheet from elsewhere.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::response::{Html, IntoResponse};
use axum::{Extension, Json};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::Modify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Bot-Mox API", description = "The /api/v1 contract of the Bot-Mox control plane. Every response is an envelope: `{success:true,data,meta?}` or `{success:false,error:{code,message,details?}}`."),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness, readiness, metrics"),
        (name = "auth", description = "Setup, sign-in, sessions"),
        (name = "admin", description = "User management (admin role)"),
        (name = "bots", description = "Bots and their lifecycle"),
        (name = "resources", description = "Licenses, proxies, subscriptions"),
        (name = "workspace", description = "Notes, calendar, kanban"),
        (name = "finance", description = "Ledger, daily stats, gold prices"),
        (name = "settings", description = "Per-tenant settings"),
        (name = "theme-assets", description = "Theme background images"),
        (name = "observability", description = "Browser logs, trace echo"),
        (name = "names", description = "Character name suggestions"),
        (name = "ipqs", description = "IP quality checks"),
        (name = "agents", description = "Agents: pairing, heartbeat, revocation"),
        (name = "vm-ops", description = "The command queue to agents"),
        (name = "infra", description = "Direct Proxmox and SSH operations (infra role), run by an agent"),
        (name = "vm", description = "The VM registry: SMBIOS UUIDs bound to a tenant and an owner"),
        (name = "notifications", description = "Telegram and webhook notifications, test message, delivery history"),
        (name = "secrets", description = "Secrets stored by reference, their bindings, and the agent's value fetch"),
        (name = "license", description = "Execution leases, tenant licences and entitlements"),
        (name = "artifacts", description = "Releases, assignments, lease-gated resolve and signed downloads"),
        (name = "provisioning", description = "Unattend profiles, per-VM answer files and config ISOs, provisioning tokens and setup progress"),
        (name = "playbooks", description = "YAML playbooks the runner executes inside a VM"),
        (name = "gateway", description = "One-use hand-off links to the service-UI gateway's own origin (infra role)"),
        (name = "docs", description = "This API's description"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A session token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(reference_page))
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "docs",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Arc<OpenApi>>) -> impl IntoResponse {
    Json(doc.as_ref().clone())
}

#[utoipa::path(get, path = "/api/docs", tag = "docs",
    responses((status = 200, description = "The API reference as an HTML page", content_type = "text/html")))]
async fn reference_page(Extension(doc): Extension<Arc<OpenApi>>) -> Html<String> {
    Html(render(&serde_json::to_value(doc.as_ref()).unwrap_or_default()))
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn render(doc: &Value) -> String {
    let mut html = String::from(concat!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Bot-Mox API reference</title>",
        "<style>body{font:14px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#26323b}",
        "h2{border-bottom:1px solid #d4dbe3;margin-top:2rem}.op{border:1px solid #d4dbe3;border-radius:4px;margin:.5rem 0;padding:.5rem .75rem}",
        ".m{display:inline-block;min-width:4rem;font-weight:700;text-transform:uppercase}.get{color:#3b7db8}.post{color:#2e9d5b}",
        ".delete{color:#c0392b}.put,.patch{color:#c77c0e}code,pre{font-family:ui-monospace,monospace;font-size:12px}",
        "pre{background:#f2f4f7;padding:.5rem;overflow:auto}.lock{color:#7b8793}</style></head><body>",
    ));
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or("API");
    let version = doc.pointer("/info/version").and_then(Value::as_str).unwrap_or("");
    let _ = write!(html, "<h1>{} <small>{}</small></h1>", esc(title), esc(version));
    if let Some(text) = doc.pointer("/info/description").and_then(Value::as_str) {
        let _ = write!(html, "<p>{}</p>", esc(text));
    }
    html.push_str("<p>Machine-readable: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>. Routes marked 🔒 need <code>Authorization: Bearer &lt;token&gt;</code>.</p>");
    html.push_str("<h2>Routes</h2>");
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let locked = op.get("security").is_some();
            let _ = write!(
                html,
                "<div class=op><span class=\"m {method}\">{method}</span> <code>{}</code> {}",
                esc(path),
                if locked { "<span class=lock>🔒</span>" } else { "" }
            );
            for key in ["summary", "description"] {
                if let Some(text) = op.get(key).and_then(Value::as_str) {
                    let _ = write!(html, "<div>{}</div>", esc(text));
                }
            }
            let mut detail = serde_json::Map::new();
            for key in ["parameters", "requestBody", "responses"] {
                if let Some(v) = op.get(key) {
                    detail.insert(key.to_owned(), v.clone());
                }
            }
            let pretty = serde_json::to_string_pretty(&detail).unwrap_or_default();
            let _ = write!(
                html,
                "<details><summary>request and responses</summary><pre>{}</pre></details></div>",
                esc(&pretty)
            );
        }
    }
    html.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        let _ = write!(
            html,
            "<details id=\"{0}\"><summary><code>{0}</code></summary><pre>{1}</pre></details>",
            esc(name),
            esc(&pretty)
        );
    }
    html.push_str("</body></html>");
    html
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
