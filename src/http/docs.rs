//! The OpenAPI document (generated from the handlers' annotations) and a readable reference
//! page rendered from it, with no script or stylesheet from elsewhere.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::Extension;
use bytes::Bytes;
use serde_json::{json, Value};
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
                    .description(Some(
                        "A session token from POST /api/v1/auth/login. Browsers sign in with \
                         \"session\": \"cookie\" instead: the token stays in the HttpOnly botmox_session \
                         cookie, and changes send X-Botmox-CSRF with the csrf_token of the answer",
                    ))
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
async fn openapi_json(Extension(doc): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.text())
}

#[utoipa::path(get, path = "/api/docs", tag = "docs",
    responses((status = 200, description = "The API reference as an HTML page", content_type = "text/html")))]
async fn reference_page(Extension(doc): Extension<Document>) -> Html<String> {
    Html(render(&doc.tree()))
}

/// The served document, completed and written off the start path (it cost every start
/// milliseconds before its first answer; see [`Document::write`]), then kept as its JSON text:
/// about 260 KB, where the parsed tree held about 2.5 MB for the life of the process.
#[derive(Clone)]
pub struct Document(Arc<Written>);

struct Written {
    /// The annotations' output until the text is written.
    source: Mutex<Option<OpenApi>>,
    text: OnceLock<Bytes>,
}

impl Document {
    pub fn new(openapi: OpenApi) -> Self {
        Document(Arc::new(Written {
            source: Mutex::new(Some(openapi)),
            text: OnceLock::new(),
        }))
    }

    /// Writes the text now, if no request has made it write yet. Until then the annotations'
    /// output holds about 5 MB.
    pub fn write(&self) {
        self.text();
    }

    fn text(&self) -> Bytes {
        self.0
            .text
            .get_or_init(|| {
                let openapi = self
                    .0
                    .source
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .expect("the document is written once");
                let text = serde_json::to_vec(&complete(openapi)).expect("a JSON value serialises");
                // The trees it was made from (megabytes) are free now.
                crate::memory::release_freed_memory();
                text.into()
            })
            .clone()
    }

    fn tree(&self) -> Value {
        serde_json::from_slice(&self.text()).expect("the document is the JSON it was made from")
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Answers every operation of a kind can give, whatever its annotation says: (status, name of
/// the shared response component, its description). All carry the error envelope.
const SHARED_RESPONSES: [(&str, &str, &str); 8] = [
    (
        "400",
        "BadRequest",
        "A path segment, query parameter or body that is not valid; `details` names the fields",
    ),
    (
        "401",
        "Unauthorized",
        "No bearer token, or one that is unknown, expired or revoked",
    ),
    ("404", "AgentNotFound", "`agent_id` names no agent of the tenant"),
    ("409", "AgentOffline", "No agent is online to run the operation"),
    ("413", "PayloadTooLarge", "The body is larger than `max_body_bytes`"),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent with `Content-Type: application/json`",
    ),
    ("502", "AgentFailed", "The agent could not complete the operation"),
    ("504", "AgentTimeout", "The agent did not finish the operation in time"),
];

/// The served document: the annotations' output, completed with the answers the middleware
/// and extractors give on every route of a kind (so no annotation repeats them or can forget
/// them): 401 where a bearer token is required, 400 where there is a path, query or body to
/// reject, 413 where there is a body (the body limit applies to all), 415 where it is JSON,
/// and the agent relay's answers on every `infra` operation (all run through `infra::relay`).
pub fn complete(openapi: OpenApi) -> Value {
    let mut doc = serde_json::to_value(&openapi).expect("an OpenAPI document serialises");
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        // axum spells a catch-all `{*path}`; OpenAPI knows only `{path}`.
        *paths = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| (path.replace("{*", "{"), item))
            .collect();
        for item in paths.values_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method) {
                    add_shared_responses(op);
                }
            }
        }
        unique_operation_ids(paths);
    }
    let responses: serde_json::Map<String, Value> = SHARED_RESPONSES
        .iter()
        .map(|(_, name, description)| {
            let content = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Failure" } } });
            (
                (*name).to_owned(),
                json!({ "description": description, "content": content }),
            )
        })
        .collect();
    doc["components"]["responses"] = Value::Object(responses);
    add_links(&mut doc);
    doc
}

/// OpenAPI links from each create (a POST answering 201 or 202 with a `data.id`) at `P` to every
/// operation under the created item's path `P/{x}`: a stateful client (the fuzzer in CI) follows
/// them to read, change and delete what it created.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object() else {
        return;
    };
    let mut links = Vec::new();
    for (path, status) in paths
        .iter()
        .filter_map(|(path, item)| Some((path, created_status(doc, &item["post"])?)))
    {
        for (target, target_item) in paths {
            let Some(param) = target
                .strip_prefix(path.as_str())
                .and_then(|rest| rest.strip_prefix("/{"))
                .and_then(|rest| rest.split_once('}'))
                .filter(|(_, rest)| !rest.contains('{'))
                .map(|(param, _)| param)
            else {
                continue;
            };
            for method in METHODS.into_iter().filter(|m| target_item.get(*m).is_some()) {
                let mut parameters = serde_json::Map::new();
                for name in path_params(path) {
                    parameters.insert(name.to_owned(), json!(format!("$request.path.{name}")));
                }
                parameters.insert(param.to_owned(), json!("$response.body#/data/id"));
                let pointer = target.replace('~', "~0").replace('/', "~1");
                let name = format!(
                    "{method}{}",
                    target[path.len()..].replace(['/', '{', '}', '-', '_'], " ")
                );
                let link = json!({ "operationRef": format!("#/paths/{pointer}/{method}"), "parameters": parameters });
                links.push((
                    path.clone(),
                    status,
                    name.split_whitespace().collect::<Vec<_>>().join("_"),
                    link,
                ));
            }
        }
    }
    for (path, status, name, link) in links {
        doc["paths"][&path]["post"]["responses"][status]["links"][name] = link;
    }
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// The status (201 or 202) with which `op` answers a `data` that has an `id` (a typed schema
/// naming it, or a document, which always has one).
fn created_status(doc: &Value, op: &Value) -> Option<&'static str> {
    let resolve = |schema: &Value| match schema["$ref"].as_str() {
        Some(target) => doc
            .pointer(target.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => schema.clone(),
    };
    ["201", "202"].into_iter().find(|status| {
        let envelope = resolve(&op["responses"][*status]["content"]["application/json"]["schema"]);
        let data = resolve(&envelope["properties"]["data"]);
        data["properties"]["id"].is_object() || (data["type"] == "object" && data.get("properties").is_none())
    })
}

/// utoipa takes an operation's id from its handler's name, so two modules' `status` or
/// `heartbeat` share one; OpenAPI wants each unique. A repeated id gets its tag in front.
fn unique_operation_ids(paths: &mut serde_json::Map<String, Value>) {
    let operations = || {
        METHODS
            .into_iter()
            .flat_map(|m| paths.values().filter_map(move |item| item.get(m)))
    };
    let mut uses = std::collections::HashMap::<String, usize>::new();
    for op in operations() {
        if let Some(id) = op["operationId"].as_str() {
            *uses.entry(id.to_owned()).or_default() += 1;
        }
    }
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            let tag = op["tags"][0].as_str().unwrap_or_default().to_owned();
            if !tag.is_empty() && uses.get(&id).is_some_and(|n| *n > 1) {
                op["operationId"] = json!(format!("{}_{id}", tag.replace('-', "_")));
            }
        }
    }
}

fn add_shared_responses(op: &mut Value) {
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let has_params = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| matches!(p["in"].as_str(), Some("path" | "query"))));
    let body = op["requestBody"]["content"].as_object();
    let has_body = body.is_some();
    let json_body = body.is_some_and(|c| c.contains_key("application/json"));
    let relayed = op["tags"]
        .as_array()
        .is_some_and(|tags| tags.iter().any(|t| t == "infra"));
    let applies = |status: &str| match status {
        "400" => has_params || has_body || relayed,
        "401" => secured,
        "413" => has_body,
        "415" => json_body,
        "404" | "409" | "502" | "504" => relayed,
        _ => false,
    };
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, name, _) in SHARED_RESPONSES {
        if applies(status) && !responses.contains_key(status) {
            responses.insert(
                status.to_owned(),
                json!({ "$ref": format!("#/components/responses/{name}") }),
            );
        }
    }
}

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// utoipa names a schema after its type, and merging routers keeps the last of two same-named
    /// schemas silently: two modules' `Revoked` once became one, wrong for two of them.
    #[test]
    fn no_two_modules_define_a_schema_of_the_same_name() {
        let mut seen: BTreeMap<String, (usize, Value)> = BTreeMap::new();
        let mut clashes = Vec::new();
        for (module, router) in super::super::api_routers().into_iter().enumerate() {
            let schemas = router.into_openapi().components.map(|c| c.schemas).unwrap_or_default();
            for (name, schema) in schemas {
                let schema = serde_json::to_value(schema).unwrap();
                match seen.get(&name) {
                    Some((first, earlier)) if *earlier != schema => {
                        clashes.push(format!("{name} (routers {first} and {module})"))
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name, (module, schema));
                    }
                }
            }
        }
        assert!(
            clashes.is_empty(),
            "schemas with one name and different shapes: {clashes:?}"
        );
    }
}
