//! The checks of provisioning's request bodies and path values (`api-ops.md` §8.4), pure: each
//! turns a body into the checked values the services act on, or a 400 naming the fields.

use std::net::Ipv4Addr;

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::payload::{self, Ip};
use super::profile::{self, UnattendConfig};
use super::records::{self, Change, Kind};
use super::store::Table;
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::vm_registry::rules::VmUuid;

pub static PROFILES: Kind = Kind {
    table: Table {
        table: "unattend_profiles",
        body: "config",
    },
    noun: "Profile",
    not_found: ErrorCode::UnattendProfileNotFound,
    invalid_id: ErrorCode::ProvisioningInvalidProfileId,
};

/// Default token lifetime: the token sits on an ISO that may boot much later (§8.5).
const DEFAULT_TOKEN_TTL_SECS: i64 = 3650 * 86_400;

#[derive(Deserialize, ToSchema)]
pub struct ProfileBody {
    /// 1-200 characters, unique among your profiles.
    pub name: Option<String>,
    /// Makes this your default profile (clears the flag on the others).
    pub is_default: Option<bool>,
    /// `api-ops.md` §8.1.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Checks a profile body; `None` fields are absent (update).
pub fn profile_change(body: &Value, code: ErrorCode, create: bool) -> ApiResult<Change> {
    let fields: ProfileBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let name = records::name(&mut errors, fields.name.as_deref(), create);
    let config = match &fields.config {
        None if create => {
            errors.add("config", "is required");
            None
        }
        None => None,
        Some(config) => profile::parse(config, &mut errors).map(|_| config.to_string()),
    };
    errors.into_result(code)?;
    Ok(Change {
        name,
        is_default: fields.is_default,
        body: config,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct IpBody {
    pub address: String,
    pub gateway: String,
    /// Default `255.255.255.0`.
    pub netmask: Option<String>,
    /// Default `["8.8.8.8"]`.
    pub dns: Option<Vec<String>>,
}

fn ipv4(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<Ipv4Addr> {
    errors.check(
        field,
        raw.trim().parse::<Ipv4Addr>().map_err(|_| "must be an IPv4 address"),
    )
}

fn ip(errors: &mut FieldErrors, ip: &IpBody) -> Option<Ip> {
    let address = ipv4(errors, "ip.address", &ip.address);
    let gateway = ipv4(errors, "ip.gateway", &ip.gateway);
    let netmask = ipv4(errors, "ip.netmask", ip.netmask.as_deref().unwrap_or("255.255.255.0"));
    if let Some(mask) = netmask {
        errors.check("ip.netmask", payload::prefix_len(mask));
    }
    let raw_dns = ip.dns.clone().unwrap_or_else(|| vec!["8.8.8.8".to_owned()]);
    if raw_dns.is_empty() || raw_dns.len() > 8 {
        errors.add("ip.dns", "must list 1-8 servers");
    }
    let dns: Vec<_> = raw_dns.iter().filter_map(|d| ipv4(errors, "ip.dns", d)).collect();
    Some(Ip {
        address: address?,
        gateway: gateway?,
        netmask: netmask?,
        dns,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct PreviewBody {
    /// `api-ops.md` §8.1, e.g. the editor's unsaved config.
    #[schema(value_type = Object)]
    pub config: Value,
    /// The static address written into the answer file; default the documentation address
    /// 192.0.2.10/24, gateway 192.0.2.1, DNS 8.8.8.8.
    pub ip: Option<IpBody>,
}

/// The config and address of a preview body.
pub fn preview(body: &Value) -> ApiResult<(UnattendConfig, Ip)> {
    let code = ErrorCode::ProvisioningInvalidPreviewBody;
    let request: PreviewBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let parsed = profile::parse(&request.config, &mut errors);
    let address = request.ip.unwrap_or_else(|| IpBody {
        address: "192.0.2.10".into(),
        gateway: "192.0.2.1".into(),
        netmask: None,
        dns: None,
    });
    let address = ip(&mut errors, &address);
    errors.into_result(code)?;
    match (parsed, address) {
        (Some(parsed), Some(address)) => Ok((parsed, address)),
        _ => Err(ApiError::new(code)),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct GenerateBody {
    /// One of `profile_id` and `profile_config` is required; the config wins.
    pub profile_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub profile_config: Option<Value>,
    /// Default: your default playbook, if any.
    pub playbook_id: Option<String>,
    pub vm_uuid: String,
    pub ip: IpBody,
    /// At most 200 characters.
    pub vm_name: Option<String>,
    /// Lifetime of the provisioning token, 1 s to 3650 days; default 3650 days.
    pub token_ttl_seconds: Option<i64>,
}

/// Where a generate's profile config comes from.
pub enum Source {
    Inline(Value),
    /// A checked id of one of the caller's profiles.
    Stored(String),
}

/// A checked generate request.
pub struct Generate {
    pub vm_uuid: String,
    pub ip: Ip,
    pub vm_name: Option<String>,
    pub ttl_secs: i64,
    pub source: Source,
    pub playbook_id: Option<String>,
    pub api_endpoint: String,
}

/// Checks a generate body; `api_endpoint` is the server URL the VM will call back.
pub fn generate(body: &Value, api_endpoint: String) -> ApiResult<Generate> {
    let code = ErrorCode::ProvisioningInvalidGenerateBody;
    let request: GenerateBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let vm_uuid = errors
        .check("vm_uuid", VmUuid::parse(&request.vm_uuid))
        .map(VmUuid::into_string);
    let address = ip(&mut errors, &request.ip);
    if request.vm_name.as_deref().is_some_and(|n| n.chars().count() > 200) {
        errors.add("vm_name", "must be at most 200 characters");
    }
    let ttl_secs = request.token_ttl_seconds.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    if !(1..=DEFAULT_TOKEN_TTL_SECS).contains(&ttl_secs) {
        errors.add("token_ttl_seconds", "must be 1 s to 3650 days");
    }
    let source = match (request.profile_config, &request.profile_id) {
        (Some(config), _) => Source::Inline(config),
        (None, Some(id)) => Source::Stored(records::check_id(&PROFILES, id)?),
        (None, None) => return Err(ErrorCode::ProvisioningProfileSourceRequired.into()),
    };
    errors.into_result(code)?;
    Ok(Generate {
        vm_uuid: vm_uuid.expect("checked"),
        ip: address.expect("checked"),
        vm_name: request.vm_name,
        ttl_secs,
        source,
        playbook_id: request.playbook_id,
        api_endpoint,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct ReportBody {
    pub token: String,
    pub vm_uuid: String,
    /// 1-200 characters, e.g. `windows_installed`, `downloader_ready`, `app_downloaded`,
    /// `playbook_running`, `completed`.
    pub step: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// A checked progress report; its token is checked when it is stored.
pub struct Report {
    pub token: String,
    pub vm_uuid: String,
    pub step: String,
    pub status: String,
    pub details: Value,
}

pub fn report(body: &Value) -> ApiResult<Report> {
    let code = ErrorCode::ProvisioningInvalidReportBody;
    let request: ReportBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let step = request.step.trim().to_owned();
    if step.is_empty() || step.chars().count() > 200 {
        errors.add("step", "step must be 1-200 characters");
    }
    if !["pending", "running", "completed", "failed"].contains(&request.status.as_str()) {
        errors.add("status", "status must be pending, running, completed or failed");
    }
    let details = request.details.unwrap_or(Value::Object(Map::new()));
    if !details.is_object() {
        errors.add("details", "details must be an object");
    }
    errors.into_result(code)?;
    Ok(Report {
        token: request.token,
        vm_uuid: request.vm_uuid,
        step,
        status: request.status,
        details,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct UploadBody {
    /// One of your agents (any agent of the tenant for admin/infra), online.
    pub agent_id: String,
    /// Proxmox storage holding ISOs; default `local`.
    pub storage: Option<String>,
    /// Default `provision-<vm uuid>.iso`; `[A-Za-z0-9._-]`, ending in `.iso`.
    pub filename: Option<String>,
}

/// A checked upload request.
pub struct Upload {
    pub agent_id: String,
    pub storage: String,
    pub filename: String,
}

impl Upload {
    /// The volume the uploaded ISO becomes, for `proxmox.attach-cdrom`'s `isoPath`.
    pub fn volume(&self) -> String {
        format!("{}:iso/{}", self.storage, self.filename)
    }
}

/// Checks an upload body for the ISO of `vm_uuid`.
pub fn upload(body: &Value, vm_uuid: &str) -> ApiResult<Upload> {
    let code = ErrorCode::ProvisioningInvalidUploadBody;
    let request: UploadBody = typed_body(body, code)?;
    let mut errors = FieldErrors::default();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 200
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    let storage = request.storage.unwrap_or_else(|| "local".into()).trim().to_owned();
    if !name_ok(&storage) {
        errors.add("storage", "must be a storage id of [A-Za-z0-9._-]");
    }
    let filename = request
        .filename
        .unwrap_or_else(|| iso_filename(vm_uuid))
        .trim()
        .to_owned();
    if !name_ok(&filename) || !filename.ends_with(".iso") || filename.starts_with('.') {
        errors.add("filename", "must be [A-Za-z0-9._-] and end with .iso");
    }
    errors.into_result(code)?;
    Ok(Upload {
        agent_id: request.agent_id.trim().to_owned(),
        storage,
        filename,
    })
}

/// The VM UUID of a path, normalised.
pub fn vm_uuid_in_path(raw: &str) -> ApiResult<String> {
    VmUuid::parse(raw)
        .map(VmUuid::into_string)
        .map_err(|m| ApiError::new(ErrorCode::ProvisioningInvalidVmUuid).with_message(m))
}

/// Where a progress stream resumes: after the given event sequence, else from the start.
pub fn resume_cursor(raw: Option<&str>) -> ApiResult<i64> {
    match raw.map(str::trim) {
        None => Ok(0),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::new(ErrorCode::BadRequest).with_message("last_event_id must be a non-negative integer")
        }),
    }
}

/// The config ISO's file name for a VM.
pub fn iso_filename(vm_uuid: &str) -> String {
    format!("provision-{}.iso", vm_uuid.replace([':', '_'], "-"))
}

/// The path the signed ISO download links name.
pub fn iso_path(tenant: &str, token_id: &str) -> String {
    format!("/api/v1/provisioning/iso-files/{tenant}/{token_id}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_stream_resumes_after_a_non_negative_sequence() {
        assert_eq!(resume_cursor(None).unwrap(), 0);
        assert_eq!(resume_cursor(Some(" 7 ")).unwrap(), 7);
        assert_eq!(resume_cursor(Some("-1")).unwrap_err().code, ErrorCode::BadRequest);
        assert_eq!(resume_cursor(Some("x")).unwrap_err().code, ErrorCode::BadRequest);
    }

    #[test]
    fn an_upload_defaults_to_local_storage_and_the_vms_iso_name() {
        let checked = upload(&json!({ "agent_id": " a1 " }), "vm:1_2").unwrap();
        assert_eq!(checked.agent_id, "a1");
        assert_eq!(checked.volume(), "local:iso/provision-vm-1-2.iso");
        for bad in [
            json!({ "agent_id": "a", "filename": "x.img" }),
            json!({ "agent_id": "a", "storage": "a/b" }),
        ] {
            assert_eq!(upload_err(&bad), ErrorCode::ProvisioningInvalidUploadBody);
        }
    }

    fn upload_err(body: &Value) -> ErrorCode {
        match upload(body, "vm") {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => e.code,
        }
    }

    #[test]
    fn a_report_needs_a_known_status_and_an_object_of_details() {
        let body = json!({ "token": "t", "vm_uuid": "v", "step": " completed ", "status": "completed" });
        let checked = report(&body).unwrap();
        assert_eq!((checked.step.as_str(), checked.details), ("completed", json!({})));
        let bad = json!({ "token": "t", "vm_uuid": "v", "step": "s", "status": "done", "details": [] });
        let error = report(&bad).err().expect("refused");
        assert_eq!(error.code, ErrorCode::ProvisioningInvalidReportBody);
    }
}
