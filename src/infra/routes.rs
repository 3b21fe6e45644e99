//! The `/api/v1/infra/*` handlers: parse, relay to an agent, answer (`api-ops.md` §4).

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use botmox_contract::commands::{Params, Payload};
use botmox_contract::envelope::Failure;
use botmox_contract::params::{NoParams, Vm, VmId};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::payloads::{self, bare, on_node, CloneOptions};
use super::relay::{self, Via};
use super::rules;
use crate::audit::store::Action;
use crate::auth::{Authed, InfraOnly, Principal};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{ok, Ok};
use crate::state::AppState;

type Infra = Authed<InfraOnly>;
type Answer = ApiResult<Ok<Value>>;

/// Most Proxmox calls finish in seconds; the agent's own HTTP timeout is 30 s.
const API_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(status))
        .routes(routes!(list_vms))
        .routes(routes!(clone_vm))
        .routes(routes!(get_config, put_config))
        .routes(routes!(task_status))
        .routes(routes!(power))
        .routes(routes!(delete_vm))
        .routes(routes!(sendkey))
        .routes(routes!(current_status))
        .routes(routes!(cluster_resources))
        .routes(routes!(ssh_test))
        .routes(routes!(ssh_exec))
        .routes(routes!(ssh_read_config, ssh_write_config))
}

fn bad(message: String) -> ApiError {
    ApiError::new(ErrorCode::InfraInvalidRequest).with_message(message)
}

async fn relay_api(state: &AppState, me: &Principal, via: &Via, payload: Payload) -> ApiResult<Value> {
    relay::run(state, me, via, payload, API_TIMEOUT).await
}

/// A Proxmox write: audited as `what` on `action`, then relayed.
async fn write(
    state: &AppState,
    me: &Principal,
    via: &Via,
    action: Action,
    what: String,
    payload: Payload,
) -> ApiResult<Value> {
    relay::audit(state, me, action, what).await?;
    relay_api(state, me, via, payload).await
}

/// Node and vmid from the path, checked.
fn vm_path(node: &str, vmid: &str) -> ApiResult<(String, VmId)> {
    Ok((rules::node(node).map_err(bad)?, rules::vmid(vmid).map_err(bad)?))
}

/// A read of one VM (`get-config`, `vm-status`): its data as the agent returns it.
async fn read_vm(
    state: &AppState,
    me: &Principal,
    via: &Via,
    node: &str,
    vmid: &str,
    read: fn(Vm) -> Params,
) -> Answer {
    let (node, vmid) = vm_path(node, vmid)?;
    let payload = on_node(&node, read(payloads::vm(&vmid)));
    Ok(ok(relay_api(state, me, via, payload).await?))
}

/// The `{upid}` a Proxmox write answers with.
fn upid_of(result: Value) -> Value {
    json!({ "upid": result.get("upid").cloned().unwrap_or(Value::Null) })
}

/// Forces a fresh Proxmox login on the agent.
#[utoipa::path(post, path = "/api/v1/infra/proxmox/login", tag = "infra", security(("bearer" = [])), params(Via),
    responses((status = 200, body = Success<Object>), (status = 403, body = Failure), (status = 409, body = Failure),
        (status = 502, body = Failure), (status = 504, body = Failure)))]
async fn login(State(state): State<AppState>, Authed(me, ..): Infra, Query(via): Query<Via>) -> Answer {
    relay_api(&state, &me, &via, bare(payloads::login())).await?;
    Ok(ok(json!({ "connected": true })))
}

/// Logs in and reads the Proxmox version.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/status", tag = "infra", security(("bearer" = [])), params(Via),
    responses((status = 200, body = Success<Object>), (status = 502, body = Failure)))]
async fn status(State(state): State<AppState>, Authed(me, ..): Infra, Query(via): Query<Via>) -> Answer {
    let version = relay_api(&state, &me, &via, bare(Params::Status(NoParams {}))).await?;
    Ok(ok(json!({ "connected": true, "version": version })))
}

/// The node's QEMU VMs.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/nodes/{node}/qemu", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), Via), responses((status = 200, body = Success<Vec<Object>>), (status = 400, body = Failure)))]
async fn list_vms(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path(node): Path<String>,
    Query(via): Query<Via>,
) -> Answer {
    let node = rules::node(&node).map_err(bad)?;
    Ok(ok(relay_api(
        &state,
        &me,
        &via,
        on_node(&node, Params::List(NoParams {})),
    )
    .await?))
}

/// Clones a VM: `newid` (positive integer), `name`, `storage`, `format`, `full`.
#[utoipa::path(post, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/clone", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("vmid" = String, Path), Via), request_body = Object,
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn clone_vm(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(via): Query<Via>,
    Json(body): Json<Value>,
) -> Answer {
    let (node, vmid) = vm_path(&node, &vmid)?;
    let newid = body
        .get("newid")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .and_then(|v| VmId::try_from(Value::from(v)).ok());
    let newid = newid.ok_or_else(|| bad("newid must be a VM id (1-999999999)".into()))?;
    let full = body
        .get("full")
        .map(|full| full.as_bool().or_else(|| full.as_u64().map(|v| v == 1)))
        .map(|full| full.ok_or_else(|| bad("full must be a boolean or 0/1".into())))
        .transpose()?;
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let options = CloneOptions {
        name: text("name"),
        storage: text("storage"),
        format: text("format"),
        full,
    };
    let payload = on_node(&node, payloads::clone_vm(&vmid, newid, options));
    Ok(ok(upid_of(
        write(
            &state,
            &me,
            &via,
            Action::Create,
            format!("proxmox/{node}/qemu/{}/clone", vmid.get()),
            payload,
        )
        .await?,
    )))
}

/// A VM's config.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/config", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("vmid" = String, Path), Via), responses((status = 200, body = Success<Object>)))]
async fn get_config(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(via): Query<Via>,
) -> Answer {
    read_vm(&state, &me, &via, &node, &vmid, Params::GetConfig).await
}

/// Updates a VM's config with the whitelisted keys (`cores`, `memory`, `net0`, …).
#[utoipa::path(put, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/config", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("vmid" = String, Path), Via), request_body = Object,
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn put_config(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(via): Query<Via>,
    Json(body): Json<Value>,
) -> Answer {
    let (node, vmid) = vm_path(&node, &vmid)?;
    let config = rules::config(&body).map_err(bad)?;
    let payload = on_node(&node, payloads::update_config(&vmid, config));
    Ok(ok(upid_of(
        write(
            &state,
            &me,
            &via,
            Action::Update,
            format!("proxmox/{node}/qemu/{}/config", vmid.get()),
            payload,
        )
        .await?,
    )))
}

/// A Proxmox task's status by UPID.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/nodes/{node}/tasks/{upid}/status", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("upid" = String, Path), Via), responses((status = 200, body = Success<Object>)))]
async fn task_status(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, upid)): Path<(String, String)>,
    Query(via): Query<Via>,
) -> Answer {
    let node = rules::node(&node).map_err(bad)?;
    if !upid.starts_with("UPID:") {
        return Err(bad("upid must be a Proxmox task id (UPID:…)".into()));
    }
    Ok(ok(
        relay_api(&state, &me, &via, on_node(&node, payloads::task(&upid))).await?
    ))
}

/// `start`, `stop`, `shutdown`, `reset`, `suspend` or `resume`.
#[utoipa::path(post, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/status/{action}", tag = "infra",
    security(("bearer" = [])), params(("node" = String, Path), ("vmid" = String, Path), ("action" = String, Path), Via),
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn power(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid, action)): Path<(String, String, String)>,
    Query(via): Query<Via>,
) -> Answer {
    let (node, vmid) = vm_path(&node, &vmid)?;
    let power = rules::action(&action, payloads::vm(&vmid)).map_err(bad)?;
    Ok(ok(upid_of(
        write(
            &state,
            &me,
            &via,
            Action::Update,
            format!("proxmox/{node}/qemu/{}/status/{}", vmid.get(), power.command().action()),
            on_node(&node, power),
        )
        .await?,
    )))
}

/// Destroys a VM; `purge` and `destroy-unreferenced-disks` flags are forwarded.
#[utoipa::path(delete, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("vmid" = String, Path), ("purge" = Option<String>, Query),
        ("destroy-unreferenced-disks" = Option<String>, Query), ("agent_id" = Option<String>, Query)),
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn delete_vm(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let (node, vmid) = vm_path(&node, &vmid)?;
    let flag = |name: &str| query.get(name).map(|v| rules::flag(v).map_err(bad)).transpose();
    let params = payloads::delete_vm(
        &vmid,
        flag("purge")?.unwrap_or(false),
        flag("destroy-unreferenced-disks")?.unwrap_or(false),
    );
    let via = Via {
        agent_id: query.get("agent_id").cloned(),
        target: query.get("target").cloned(),
    };
    Ok(ok(upid_of(
        write(
            &state,
            &me,
            &via,
            Action::Delete,
            format!("proxmox/{node}/qemu/{}", vmid.get()),
            on_node(&node, params),
        )
        .await?,
    )))
}

/// Sends a key (`ctrl-alt-delete`, `ret`, …) to the VM.
#[utoipa::path(post, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/sendkey", tag = "infra", security(("bearer" = [])),
    params(("node" = String, Path), ("vmid" = String, Path), Via), request_body = Object,
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn sendkey(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(via): Query<Via>,
    Json(body): Json<Value>,
) -> Answer {
    let (node, vmid) = vm_path(&node, &vmid)?;
    let key = rules::key(body.get("key").and_then(Value::as_str)).map_err(bad)?;
    write(
        &state,
        &me,
        &via,
        Action::Update,
        format!("proxmox/{node}/qemu/{}/sendkey", vmid.get()),
        on_node(&node, payloads::send_key(&vmid, &key)),
    )
    .await?;
    Ok(ok(json!({ "transport": "proxmox-api-put", "upid": null })))
}

/// A VM's runtime status.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/nodes/{node}/qemu/{vmid}/status/current", tag = "infra",
    security(("bearer" = [])), params(("node" = String, Path), ("vmid" = String, Path), Via),
    responses((status = 200, body = Success<Object>)))]
async fn current_status(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path((node, vmid)): Path<(String, String)>,
    Query(via): Query<Via>,
) -> Answer {
    read_vm(&state, &me, &via, &node, &vmid, Params::VmStatus).await
}

/// The cluster's resources.
#[utoipa::path(get, path = "/api/v1/infra/proxmox/cluster/resources", tag = "infra", security(("bearer" = [])),
    params(Via), responses((status = 200, body = Success<Vec<Object>>)))]
async fn cluster_resources(State(state): State<AppState>, Authed(me, ..): Infra, Query(via): Query<Via>) -> Answer {
    Ok(ok(
        relay_api(&state, &me, &via, bare(payloads::cluster_resources())).await?
    ))
}

/// Probes SSH to the Proxmox host.
#[utoipa::path(post, path = "/api/v1/infra/ssh/test", tag = "infra", security(("bearer" = [])), params(Via),
    responses((status = 200, body = Success<Object>)))]
async fn ssh_test(State(state): State<AppState>, Authed(me, ..): Infra, Query(via): Query<Via>) -> Answer {
    let payload = bare(Params::SshTest(NoParams {}));
    let probe = relay::run(&state, &me, &via, payload, Duration::from_secs(10)).await?;
    Ok(ok(probe))
}

/// Runs an allowlisted command on the Proxmox host; `timeout` 1000-120000 ms.
#[utoipa::path(post, path = "/api/v1/infra/ssh/exec", tag = "infra", security(("bearer" = [])), params(Via),
    request_body = Object,
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn ssh_exec(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Query(via): Query<Via>,
    Json(body): Json<Value>,
) -> Answer {
    let command = body
        .get("command")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let command = command.ok_or_else(|| bad("command is required".into()))?;
    let timeout = match body.get("timeout") {
        None | Some(Value::Null) => 30_000,
        Some(v) => v
            .as_u64()
            .filter(|t| (1000..=120_000).contains(t))
            .ok_or_else(|| bad("timeout must be 1000-120000 ms".into()))?,
    };
    relay::audit(&state, &me, Action::Create, "ssh/exec".into()).await?;
    let payload = payloads::ssh_exec(command, timeout);
    Ok(ok(relay::run(
        &state,
        &me,
        &via,
        payload,
        Duration::from_millis(timeout),
    )
    .await?))
}

/// Reads `/etc/pve/qemu-server/<vmid>.conf` over SSH.
#[utoipa::path(get, path = "/api/v1/infra/ssh/vm-config/{vmid}", tag = "infra", security(("bearer" = [])),
    params(("vmid" = String, Path), Via), responses((status = 200, body = Success<Object>)))]
async fn ssh_read_config(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path(vmid): Path<String>,
    Query(via): Query<Via>,
) -> Answer {
    let vmid = rules::vmid(&vmid).map_err(bad)?;
    let payload = bare(payloads::ssh_read_config(&vmid));
    Ok(ok(
        relay::run(&state, &me, &via, payload, Duration::from_secs(15)).await?
    ))
}

/// Overwrites `/etc/pve/qemu-server/<vmid>.conf` over SSH with `content`.
#[utoipa::path(put, path = "/api/v1/infra/ssh/vm-config/{vmid}", tag = "infra", security(("bearer" = [])),
    params(("vmid" = String, Path), Via), request_body = Object,
    responses((status = 200, body = Success<Object>), (status = 400, body = Failure)))]
async fn ssh_write_config(
    State(state): State<AppState>,
    Authed(me, ..): Infra,
    Path(vmid): Path<String>,
    Query(via): Query<Via>,
    Json(body): Json<Value>,
) -> Answer {
    let vmid = rules::vmid(&vmid).map_err(bad)?;
    let content = body
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty());
    let content = content.ok_or_else(|| bad("content is required".into()))?;
    relay::audit(&state, &me, Action::Update, format!("ssh/vm-config/{}", vmid.get())).await?;
    let payload = bare(payloads::ssh_write_config(&vmid, content));
    Ok(ok(
        relay::run(&state, &me, &via, payload, Duration::from_secs(20)).await?
    ))
}
