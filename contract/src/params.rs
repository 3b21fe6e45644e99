//! Typed parameters of the agent commands (agent.md §9–10, api-ops.md §3.7).
//!
//! A payload is read as three parts: the [`Common`] keys any `proxmox.*` command may carry,
//! the command's own struct (the [`Params`](crate::commands::Params) variant the catalogue
//! names), and `extra`, every other key, kept as sent (the reference passes unknown keys
//! through, and a config update's top-level keys are Proxmox config keys of any name).
//!
//! The scalar types accept what the agent always accepted (a vmid as `101` or `"101"`, a flag
//! as `true`, `1` or `"true"`) and keep the value exactly as sent, so writing a parsed payload
//! back gives the same JSON: typing never changes the wire.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A parameter that is missing or of the wrong shape, named by its path (`vmid`, `files.a`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub field: String,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Invalid(String),
}

impl ParamError {
    /// What is wrong, without the field's name: `is required`, `must be …`.
    pub fn reason(&self) -> &str {
        match &self.problem {
            Problem::Missing => "is required",
            Problem::Invalid(why) => why,
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.reason())
    }
}

impl std::error::Error for ParamError {}

impl ParamError {
    pub fn missing(field: &str) -> Self {
        ParamError {
            field: field.to_owned(),
            problem: Problem::Missing,
        }
    }
}

/// Reads `T` from `payload`, naming the offending key on failure.
pub(crate) fn read<T: DeserializeOwned>(payload: &Value) -> Result<T, ParamError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        ParamError {
            field: if path == "." { "payload".into() } else { path },
            problem: Problem::Invalid(e.inner().to_string()),
        }
    })
}

/// The object form of a parsed struct, for writing a payload back.
pub(crate) fn object_of<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The keys a command needs. Kept apart from reading: the server queues a payload whose keys
/// have the right types (api-ops.md §3.7 treats it as opaque), and the agent, which runs it,
/// reports a missing one as `<param> required for proxmox.<action>` (agent.md §10).
pub trait Check {
    fn check(&self) -> Result<(), ParamError> {
        Ok(())
    }
}

/// Scalars that keep the JSON they were read from.
macro_rules! lenient {
    ($(#[$doc:meta])* $name:ident($ty:ty), $expected:literal, $read:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = "Value", into = "Value")]
        pub struct $name {
            raw: Value,
            value: $ty,
        }

        impl $name {
            pub fn get(&self) -> &$ty {
                &self.value
            }
        }

        impl TryFrom<Value> for $name {
            type Error = String;

            fn try_from(raw: Value) -> Result<Self, String> {
                let read: fn(&Value) -> Option<$ty> = $read;
                match read(&raw) {
                    Some(value) => Ok($name { raw, value }),
                    None => Err(format!(concat!("must be ", $expected, ", got {}"), raw)),
                }
            }
        }

        impl From<$name> for Value {
            fn from(v: $name) -> Value {
                v.raw
            }
        }
    };
}

lenient!(
    /// A Proxmox VM id: 1–999999999, as a number or a string of digits.
    VmId(u64),
    "a VM id (1-999999999, a number or a string of digits)",
    |raw| {
        let n = match raw {
            Value::Number(n) => n.as_u64()?,
            Value::String(s) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
                s.trim().parse().ok()?
            }
            _ => return None,
        };
        (1..=999_999_999).contains(&n).then_some(n)
    }
);

lenient!(
    /// Text: a string (trimmed) or a number written out.
    Text(String),
    "a string or a number",
    |raw| match raw {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
);

lenient!(
    /// A yes/no: `true`/`false`, a number (0 is no), or `"true"`, `"false"`, `"1"`, `"0"`, `""`.
    Flag(bool),
    "true or false (or 1/0)",
    |raw| match raw {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        Value::String(s) => match s.trim() {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
);

lenient!(
    /// A duration in milliseconds: a number ≥ 0 or a string of one (fractions are dropped).
    Millis(u64),
    "a number of milliseconds",
    |raw| {
        let ms = match raw {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => s.trim().parse::<f64>().ok()?,
            _ => return None,
        };
        (ms.is_finite() && ms >= 0.0).then_some(ms as u64)
    }
);

lenient!(
    /// A TCP port: 1–65535, as a number or a string of digits.
    Port(u16),
    "a port number (1-65535)",
    |raw| {
        let n: u64 = match raw {
            Value::Number(n) => n.as_u64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        u16::try_from(n).ok().filter(|p| *p != 0)
    }
);

/// Values the server builds itself are written as their plain JSON (a bool, a number, a
/// string); a VM id has a range, so it is built through `TryFrom<Value>`.
impl From<bool> for Flag {
    fn from(value: bool) -> Flag {
        Flag {
            raw: Value::Bool(value),
            value,
        }
    }
}

impl From<u64> for Millis {
    fn from(value: u64) -> Millis {
        Millis {
            raw: Value::from(value),
            value,
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text {
            raw: Value::String(text.to_owned()),
            value: text.trim().to_owned(),
        }
    }
}

impl Text {
    /// The text, or `None` when it is blank (blank counts as not given).
    pub fn non_blank(&self) -> Option<&str> {
        Some(self.value.as_str()).filter(|s| !s.is_empty())
    }
}

/// The key of a reference to a stored secret.
pub const SECRET_REF: &str = "secret_ref";

/// A value, or `{"secret_ref": "<id>"}` that the agent replaces with the secret's value (a
/// string) before it runs the command (agent.md §9, `secrets.rs` in the agent).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SecretOr<T> {
    Secret(SecretRef),
    Plain(T),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecretRef {
    pub secret_ref: String,
}

impl<T> SecretOr<T> {
    /// The value; `None` while it is still a reference (the agent resolves every reference
    /// before its executors read a payload).
    pub fn plain(&self) -> Option<&T> {
        match self {
            SecretOr::Plain(value) => Some(value),
            SecretOr::Secret(_) => None,
        }
    }
}

/// The id of `value` when it is exactly `{"secret_ref": "<id>"}`.
pub fn secret_ref_of(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get(SECRET_REF)?.as_str(),
        _ => None,
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for SecretOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if let Some(id) = secret_ref_of(&value) {
            return Ok(SecretOr::Secret(SecretRef {
                secret_ref: id.to_owned(),
            }));
        }
        T::deserialize(value).map(SecretOr::Plain).map_err(D::Error::custom)
    }
}

/// Keys any `proxmox.*` command may carry (api-ops.md §3.7): where it runs, SSH overrides,
/// timings and the unsafe flag.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Common {
    /// The agent-side target id; default the active target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Text>,
    /// The Proxmox node; default the target's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_host: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_port: Option<Port>,
    /// The SSH port under its short name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_username: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<Millis>,
    #[serde(rename = "timeout_ms", skip_serializing_if = "Option::is_none")]
    pub timeout_ms_snake: Option<Millis>,
    /// The SSH commands' short name for `timeoutMs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<Millis>,
    #[serde(rename = "interval_ms", skip_serializing_if = "Option::is_none")]
    pub interval_ms_snake: Option<Millis>,
    /// Skip the agent's SSH allowlist; the server drops it for callers who may not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_unsafe: Option<Flag>,
}

impl Check for Common {}

impl Common {
    /// Only the common keys of a payload (the rest is not looked at).
    pub fn read(payload: &Value) -> Result<Common, ParamError> {
        read(payload)
    }
}

impl Common {
    /// The first timeout given, under any of the names `names` lists.
    pub fn timeout_of(&self, names: &[TimeoutName]) -> Option<u64> {
        names
            .iter()
            .find_map(|name| match name {
                TimeoutName::Camel => self.timeout_ms.as_ref(),
                TimeoutName::Short => self.timeout.as_ref(),
                TimeoutName::Snake => self.timeout_ms_snake.as_ref(),
            })
            .map(|ms| *ms.get())
    }

    /// `intervalMs`, else `interval_ms`.
    pub fn interval(&self) -> Option<u64> {
        self.interval_ms
            .as_ref()
            .or(self.interval_ms_snake.as_ref())
            .map(|ms| *ms.get())
    }

    /// Whether the caller asked to skip the allowlist.
    pub fn allows_unsafe(&self) -> bool {
        self.allow_unsafe.as_ref().is_some_and(|f| *f.get())
    }
}

/// The names a timeout goes by; which ones a command reads, in which order, is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutName {
    /// `timeoutMs`
    Camel,
    /// `timeout`
    Short,
    /// `timeout_ms`
    Snake,
}

/// Commands without parameters of their own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoParams {}

impl Check for NoParams {}

/// One VM by `vmid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
}

/// `proxmox.clone`: the source is `templateVmId`, else `vmid`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneVm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_vm_id: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<Flag>,
}

impl CloneVm {
    pub fn source(&self) -> Option<u64> {
        self.template_vm_id.as_ref().or(self.vmid.as_ref()).map(|v| *v.get())
    }
}

impl Check for CloneVm {
    fn check(&self) -> Result<(), ParamError> {
        self.source().map(drop).ok_or_else(|| ParamError::missing("vmid"))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteVm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destroy_unreferenced_disks: Option<Flag>,
}

/// `update-config`/`config.update`: config keys in `config{}` and at the top level (those
/// arrive in the payload's `extra`; the top level wins).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResizeDisk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Text>,
}

impl Check for ResizeDisk {
    fn check(&self) -> Result<(), ParamError> {
        required(&self.vmid, "vmid")?;
        required(&self.disk, "disk")?;
        required(&self.size, "size").map(drop)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Text>,
}

impl Check for SendKey {
    fn check(&self) -> Result<(), ParamError> {
        required(&self.vmid, "vmid")?;
        required(&self.key, "key").map(drop)
    }
}

/// Structs whose one needed key is `vmid`.
macro_rules! needs_vmid {
    ($($name:ident),*) => {
        $(impl Check for $name {
            fn check(&self) -> Result<(), ParamError> {
                required(&self.vmid, "vmid").map(drop)
            }
        })*
    };
}

needs_vmid!(Vm, DeleteVm, UpdateConfig, WaitVmStatus, WaitVmPresence, DetachCdrom);

/// A key the command needs: present (and for text, not blank).
pub fn required<'a, T: Present>(value: &'a Option<T>, field: &str) -> Result<&'a T, ParamError> {
    value
        .as_ref()
        .filter(|v| v.present())
        .ok_or_else(|| ParamError::missing(field))
}

/// Whether a given value counts as given: blank text does not.
pub trait Present {
    fn present(&self) -> bool {
        true
    }
}

impl Present for VmId {}

impl<T> Present for SecretOr<T> {}

impl Present for Text {
    fn present(&self) -> bool {
        self.non_blank().is_some()
    }
}

/// `type` or `resourceType`, optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResources {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<Text>,
}

impl Check for ClusterResources {}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Login {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<Flag>,
}

impl Check for Login {}

/// A Proxmox task by `upid`, `task` or `taskId`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upid: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<Text>,
}

impl Task {
    pub fn upid(&self) -> Option<&str> {
        [&self.upid, &self.task, &self.task_id]
            .into_iter()
            .find_map(|t| t.as_ref()?.non_blank())
    }
}

impl Check for Task {
    fn check(&self) -> Result<(), ParamError> {
        self.upid().map(drop).ok_or_else(|| ParamError::missing("upid"))
    }
}

/// `desiredStatus` or `status` (default `running`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitVmStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Text>,
}

impl WaitVmStatus {
    pub fn desired(&self) -> &str {
        [&self.desired_status, &self.status]
            .into_iter()
            .find_map(|t| t.as_ref()?.non_blank())
            .unwrap_or("running")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitVmPresence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<Flag>,
}

/// The SSH commands' VM: `vmid` or `id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshVm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<VmId>,
}

impl SshVm {
    pub fn vmid(&self) -> Option<u64> {
        self.vmid.as_ref().or(self.id.as_ref()).map(|v| *v.get())
    }
}

impl Check for SshVm {
    fn check(&self) -> Result<(), ParamError> {
        self.vmid().map(drop).ok_or_else(|| ParamError::missing("vmid"))
    }
}

/// `ssh-write-config`: the whole config file (it may be a secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshWriteConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<SecretOr<String>>,
}

impl SshWriteConfig {
    pub fn vm(&self) -> SshVm {
        SshVm {
            vmid: self.vmid.clone(),
            id: self.id.clone(),
        }
    }
}

impl Check for SshWriteConfig {
    fn check(&self) -> Result<(), ParamError> {
        self.vm().check()?;
        required(&self.content, "content").map(drop)
    }
}

/// `ssh-exec`: one shell command (it may be a secret); `allowUnsafe` is a [`Common`] key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SshExec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<SecretOr<String>>,
}

impl Check for SshExec {
    fn check(&self) -> Result<(), ParamError> {
        required(&self.command, "command").map(drop)
    }
}

/// `create-provision-iso`: file name → base64 contents (each may be a secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProvisionIso {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<VmId>,
    pub files: BTreeMap<String, SecretOr<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_storage: Option<Text>,
}

impl CreateProvisionIso {
    pub fn vmid(&self) -> Option<u64> {
        self.vmid.as_ref().or(self.id.as_ref()).map(|v| *v.get())
    }
}

impl Check for CreateProvisionIso {
    fn check(&self) -> Result<(), ParamError> {
        self.vmid().ok_or_else(|| ParamError::missing("vmid"))?;
        match self.files.is_empty() {
            true => Err(ParamError::missing("files")),
            false => Ok(()),
        }
    }
}

/// `attach-cdrom`: a volume id such as `local:iso/x.iso` into `cdromSlot` (default `ide2`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachCdrom {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_path: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdrom_slot: Option<Text>,
}

impl Check for AttachCdrom {
    fn check(&self) -> Result<(), ParamError> {
        required(&self.vmid, "vmid")?;
        required(&self.iso_path, "isoPath").map(drop)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetachCdrom {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdrom_slot: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_iso: Option<Flag>,
}

/// `upload-iso`: `filename` (default `vm-<vmid>-provision.iso`) into `storage` (default
/// `local`); the contents may be a secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadIso {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<VmId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<SecretOr<String>>,
}

impl Check for UploadIso {
    fn check(&self) -> Result<(), ParamError> {
        if self.filename.as_ref().and_then(Text::non_blank).is_none() && self.vmid.is_none() {
            return Err(ParamError::missing("filename"));
        }
        required(&self.content_base64, "content_base64").map(drop)
    }
}
