//! The agent command catalogue (agent.md §9–10, api-ops.md §3.7): every command an agent runs,
//! what it may do, and which executor takes it.
//!
//! One table below is the whole list: each row names the command, its executor, what it does
//! and its parameter struct (in [`crate::params`]). The server's queue parses a dispatch into a
//! [`Payload`] (an unknown type or a bad parameter is refused before it is queued) and asks
//! [`Payload::class`] who may send it; the infra relay builds its payloads from the same
//! structs; the agent's executors match on [`Params`]. Adding a command is one row here plus
//! its executor arm, which the compiler then asks for.
//!
//! The wire stays `{command_type: "proxmox.<action>", payload: {...}}`: the payload travels
//! as it was sent (it may hold `{"secret_ref": id}` objects the agent resolves at execution
//! time); the typed form writes back to the same JSON ([`Payload::to_value`]).

use std::fmt;

use serde_json::{Map, Value};

use crate::params::{self as p, object_of, read, Check, Common, ParamError, Problem};

/// The namespace of every command an agent executes.
pub const NAMESPACE: &str = "proxmox";

/// The payload flag that lets `ssh-exec` skip the agent's allowlist.
pub const ALLOW_UNSAFE: &str = "allowUnsafe";

/// Config keys that make a VM start code of the caller's choosing on the Proxmox host.
pub const PRIVILEGED_CONFIG_KEYS: [&str; 2] = ["args", "hookscript"];

/// Where a command runs on the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// Answered from the agent's own saved targets.
    Targets,
    /// The Proxmox VE HTTP API of the selected target.
    ProxmoxApi,
    /// SSH to the selected target's host.
    Ssh,
}

/// What a command does, as the kind of the command alone tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// Reads; a recent identical one may answer for a new one (api-ops.md §3.6).
    SharedRead,
    /// Reads, but each one runs (aliases, and polls of a task or a file).
    Read,
    /// Changes something on the Proxmox host or a VM.
    Change,
    /// Changes a VM config in ways that can run anything on the host (`args`, `hookscript`).
    ConfigChange,
    /// Writes a VM config file over SSH: as strong as any SSH command.
    ConfigWrite,
}

/// Who may queue a command with a given payload, from least to most dangerous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Only reads: any user may send it to an agent of theirs.
    ReadOnly,
    /// Changes a VM or the host the usual way: any user, to an agent of theirs.
    Change,
    /// Asks to skip a safety check of the agent (`allowUnsafe`): honoured for admin/infra
    /// callers, the flag is dropped for anyone else.
    Unsafe,
    /// Can run code of the caller's choosing on the Proxmox host (an SSH config write, or
    /// `args`/`hookscript` in a config update): admin/infra callers only.
    Privileged,
}

macro_rules! catalogue {
    ($($variant:ident = $action:literal, $executor:ident, $effect:ident, $params:ident;)*) => {
        /// One agent command type.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Command {
            $($variant,)*
        }

        impl Command {
            /// Every command, in catalogue order.
            pub const ALL: &'static [Command] = &[$(Command::$variant,)*];

            /// The action: `start` for `proxmox.start`.
            pub fn action(self) -> &'static str {
                match self {
                    $(Command::$variant => $action,)*
                }
            }

            /// The wire `command_type`: `proxmox.<action>`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Command::$variant => concat!("proxmox.", $action),)*
                }
            }

            pub fn executor(self) -> Executor {
                match self {
                    $(Command::$variant => Executor::$executor,)*
                }
            }

            fn effect(self) -> Effect {
                match self {
                    $(Command::$variant => Effect::$effect,)*
                }
            }
        }

        /// One command's own parameters (the [`Common`] keys and the rest are in [`Payload`]).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Params {
            $($variant(p::$params),)*
        }

        impl Params {
            pub fn command(&self) -> Command {
                match self {
                    $(Params::$variant(_) => Command::$variant,)*
                }
            }

            fn read(command: Command, payload: &Value) -> Result<Params, ParamError> {
                match command {
                    $(Command::$variant => Ok(Params::$variant(read(payload)?)),)*
                }
            }

            fn check(&self) -> Result<(), ParamError> {
                match self {
                    $(Params::$variant(params) => params.check(),)*
                }
            }

            fn object(&self) -> Map<String, Value> {
                match self {
                    $(Params::$variant(params) => object_of(params),)*
                }
            }
        }
    };
}

catalogue! {
    // VM operations (agent.md §10.1).
    Start = "start", ProxmoxApi, Change, Vm;
    Stop = "stop", ProxmoxApi, Change, Vm;
    Shutdown = "shutdown", ProxmoxApi, Change, Vm;
    Reset = "reset", ProxmoxApi, Change, Vm;
    Suspend = "suspend", ProxmoxApi, Change, Vm;
    Resume = "resume", ProxmoxApi, Change, Vm;
    Clone = "clone", ProxmoxApi, Change, CloneVm;
    Delete = "delete", ProxmoxApi, Change, DeleteVm;
    List = "list", ProxmoxApi, Read, NoParams;
    ListVms = "list-vms", ProxmoxApi, SharedRead, NoParams;
    VmStatus = "vm-status", ProxmoxApi, SharedRead, Vm;
    GetConfig = "get-config", ProxmoxApi, SharedRead, Vm;
    ConfigGet = "config.get", ProxmoxApi, Read, Vm;
    UpdateConfig = "update-config", ProxmoxApi, ConfigChange, UpdateConfig;
    ConfigUpdate = "config.update", ProxmoxApi, ConfigChange, UpdateConfig;
    ResizeDisk = "resize-disk", ProxmoxApi, Change, ResizeDisk;
    SendKey = "sendkey", ProxmoxApi, Change, SendKey;
    ClusterResources = "cluster-resources", ProxmoxApi, SharedRead, ClusterResources;
    Status = "status", ProxmoxApi, SharedRead, NoParams;
    Login = "login", ProxmoxApi, Change, Login;
    // Tasks and waits (§10.2).
    TaskStatus = "task-status", ProxmoxApi, Read, Task;
    WaitTask = "wait-task", ProxmoxApi, Change, Task;
    WaitVmStatus = "wait-vm-status", ProxmoxApi, Change, WaitVmStatus;
    WaitVmPresence = "wait-vm-presence", ProxmoxApi, Change, WaitVmPresence;
    // The agent's own targets (§9).
    ListTargets = "list-targets", Targets, SharedRead, NoParams;
    // SSH-backed commands (§10.3).
    SshStatus = "ssh-status", Ssh, SharedRead, NoParams;
    SshTest = "ssh-test", Ssh, SharedRead, NoParams;
    SshBootstrap = "ssh-bootstrap", Ssh, Change, NoParams;
    SshReadConfig = "ssh-read-config", Ssh, Read, SshVm;
    SshWriteConfig = "ssh-write-config", Ssh, ConfigWrite, SshWriteConfig;
    SshExec = "ssh-exec", Ssh, Change, SshExec;
    // ISO provisioning (§10.4).
    CreateProvisionIso = "create-provision-iso", Ssh, Change, CreateProvisionIso;
    AttachCdrom = "attach-cdrom", ProxmoxApi, Change, AttachCdrom;
    DetachCdrom = "detach-cdrom", ProxmoxApi, Change, DetachCdrom;
    UploadIso = "upload-iso", ProxmoxApi, Change, UploadIso;
}

/// A `command_type` the catalogue does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCommand {
    pub command_type: String,
}

impl fmt::Display for UnknownCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.command_type.strip_prefix("proxmox.") {
            Some(action) => write!(f, "Unknown proxmox action: {action}"),
            None => write!(f, "Unknown command type: {}", self.command_type),
        }
    }
}

impl std::error::Error for UnknownCommand {}

impl Command {
    /// The command of a wire `command_type` (`proxmox.<action>`).
    pub fn parse(command_type: &str) -> Result<Command, UnknownCommand> {
        command_type
            .strip_prefix("proxmox.")
            .and_then(Command::from_action)
            .ok_or_else(|| UnknownCommand {
                command_type: command_type.to_owned(),
            })
    }

    /// The command of a bare action (`start`).
    pub fn from_action(action: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.action() == action)
    }

    /// Whether it only reads (the web console hides reads unless asked).
    pub fn is_read(self) -> bool {
        matches!(self.effect(), Effect::SharedRead | Effect::Read)
    }

    /// Whether a recent identical command may answer for a new one instead of queueing it.
    pub fn is_shared_read(self) -> bool {
        self.effect() == Effect::SharedRead
    }
}

/// A command's payload, typed: the keys every command may carry, the command's own
/// parameters, and every other key as it was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    pub common: Common,
    pub params: Params,
    /// Keys neither part reads: passed through (a config update's top-level config keys).
    pub extra: Map<String, Value>,
}

impl Payload {
    /// Reads `payload` as `command`'s parameters: every key it holds must have the right type
    /// (the error names the first that does not); whether the needed ones are there is
    /// [`Payload::check`]'s question.
    pub fn parse(command: Command, payload: &Value) -> Result<Payload, ParamError> {
        let empty = Value::Object(Map::new());
        let payload = match payload {
            Value::Null => &empty,
            Value::Object(_) => payload,
            _ => {
                return Err(ParamError {
                    field: "payload".into(),
                    problem: Problem::Invalid("must be an object".into()),
                })
            }
        };
        let common: Common = read(payload)?;
        let params = Params::read(command, payload)?;
        let mut typed = object_of(&common);
        typed.extend(params.object());
        let extra = payload
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| !typed.contains_key(*key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Ok(Payload { common, params, extra })
    }

    pub fn command(&self) -> Command {
        self.params.command()
    }

    /// Whether the keys the command needs are there (agent.md §10 marks them `*`).
    pub fn check(&self) -> Result<(), ParamError> {
        self.params.check()
    }

    /// The JSON it was read from.
    pub fn to_value(&self) -> Value {
        Value::Object(self.to_object())
    }

    /// [`Payload::to_value`]'s object.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut out = object_of(&self.common);
        out.extend(self.params.object());
        out.extend(self.extra.clone());
        out
    }

    /// A config update's changes: `config{}` overlaid by the top-level keys (the top level
    /// wins); empty for other commands.
    pub fn config_changes(&self) -> Map<String, Value> {
        let (Params::UpdateConfig(update) | Params::ConfigUpdate(update)) = &self.params else {
            return Map::new();
        };
        let mut merged = update.config.clone().unwrap_or_default();
        merged.extend(self.extra.clone());
        merged
    }

    /// Who may queue it. A config update is privileged when it sets `args` or `hookscript`,
    /// at the top level or in `config{}`; `allowUnsafe` on any command makes it unsafe.
    pub fn class(&self) -> Class {
        let sets_privileged_key = || {
            let changes = self.config_changes();
            PRIVILEGED_CONFIG_KEYS.iter().any(|k| changes.contains_key(*k))
        };
        match self.command().effect() {
            Effect::ConfigWrite => Class::Privileged,
            Effect::ConfigChange if sets_privileged_key() => Class::Privileged,
            _ if self.common.allow_unsafe.is_some() => Class::Unsafe,
            Effect::SharedRead | Effect::Read => Class::ReadOnly,
            Effect::Change | Effect::ConfigChange => Class::Change,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{SecretOr, SecretRef, TimeoutName};
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn class(command: Command, payload: Value) -> Class {
        Payload::parse(command, &payload).expect("valid").class()
    }

    #[test]
    fn every_command_round_trips_through_its_name_and_names_are_unique() {
        for command in Command::ALL {
            assert_eq!(Command::parse(command.name()), Ok(*command));
            assert_eq!(command.name(), format!("{NAMESPACE}.{}", command.action()));
        }
        let mut names: Vec<_> = Command::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len());
    }

    #[test]
    fn unknown_types_are_named_the_way_the_agent_always_reported_them() {
        let err = Command::parse("proxmox.frobnicate").unwrap_err();
        assert_eq!(err.to_string(), "Unknown proxmox action: frobnicate");
        assert_eq!(
            Command::parse("syncthing.scan").unwrap_err().to_string(),
            "Unknown command type: syncthing.scan"
        );
        assert!(Command::parse("proxmox.").is_err() && Command::parse("start").is_err());
    }

    #[test]
    fn the_class_follows_the_command_and_the_typed_payload() {
        let plain = json!({ "vmid": 101 });
        assert_eq!(class(Command::VmStatus, plain.clone()), Class::ReadOnly);
        assert_eq!(class(Command::Start, plain), Class::Change);
        let write = json!({ "vmid": 101, "content": "cores: 2" });
        assert_eq!(class(Command::SshWriteConfig, write), Class::Privileged);
        assert_eq!(
            class(Command::UpdateConfig, json!({ "vmid": 1, "cores": 2 })),
            Class::Change
        );
        for payload in [
            json!({ "vmid": 1, "args": "-x" }),
            json!({ "vmid": 1, "config": { "hookscript": "local:snippets/h" } }),
        ] {
            assert_eq!(class(Command::UpdateConfig, payload.clone()), Class::Privileged);
            assert_eq!(class(Command::ConfigUpdate, payload.clone()), Class::Privileged);
            assert_eq!(class(Command::Clone, payload), Class::Change);
        }
        let unsafe_exec = json!({ "command": "uptime", ALLOW_UNSAFE: true });
        assert_eq!(class(Command::SshExec, unsafe_exec), Class::Unsafe);
        let unsafe_write = json!({ "vmid": 1, "content": "x", ALLOW_UNSAFE: true });
        assert_eq!(class(Command::SshWriteConfig, unsafe_write), Class::Privileged);
        assert_eq!(
            class(Command::Start, json!({ "vmid": 1, ALLOW_UNSAFE: false })),
            Class::Unsafe
        );
    }

    /// Read and checked, as the agent does before it runs a command.
    fn parsed(command: Command, payload: Value) -> Result<Payload, String> {
        let payload = Payload::parse(command, &payload).map_err(|e| e.to_string())?;
        payload.check().map_err(|e| e.to_string())?;
        Ok(payload)
    }

    #[test]
    fn parameters_of_the_right_shape_are_read_leniently_as_the_agent_always_did() {
        let start = parsed(
            Command::Start,
            json!({ "vmid": " 105 ", "node": "h1", "targetId": "x" }),
        )
        .unwrap();
        let Params::Start(vm) = &start.params else {
            panic!("{start:?}")
        };
        assert_eq!(vm.vmid.as_ref().map(|v| *v.get()), Some(105));
        assert_eq!(start.common.node.as_ref().map(|n| n.get().as_str()), Some("h1"));
        assert_eq!(start.extra, map(json!({ "targetId": "x" })));

        let clone = parsed(
            Command::Clone,
            json!({ "templateVmId": "9000", "newid": 101, "full": "1" }),
        )
        .unwrap();
        let Params::Clone(c) = &clone.params else { panic!() };
        assert_eq!(
            (c.source(), c.full.as_ref().map(|f| *f.get())),
            (Some(9000), Some(true))
        );

        let task = parsed(Command::WaitTask, json!({ "taskId": "UPID:x", "timeout_ms": "1500.5" })).unwrap();
        let Params::WaitTask(t) = &task.params else { panic!() };
        assert_eq!(t.upid(), Some("UPID:x"));
        assert_eq!(
            task.common.timeout_of(&[TimeoutName::Camel, TimeoutName::Snake]),
            Some(1500)
        );

        let update = parsed(
            Command::UpdateConfig,
            json!({ "vmid": 1, "config": { "cores": 2, "memory": 1 }, "cores": 4 }),
        )
        .unwrap();
        assert_eq!(update.config_changes(), map(json!({ "cores": 4, "memory": 1 })));

        let files = json!({ "vmid": 1, "files": { "a": "YQ==", "pw": { "secret_ref": "sec-1" } } });
        let iso = parsed(Command::CreateProvisionIso, files).unwrap();
        let Params::CreateProvisionIso(iso) = &iso.params else {
            panic!()
        };
        assert_eq!(iso.files["a"].plain().map(String::as_str), Some("YQ=="));
        assert_eq!(
            iso.files["pw"],
            SecretOr::Secret(SecretRef {
                secret_ref: "sec-1".into()
            })
        );

        let exec = parsed(Command::SshExec, json!({ "command": { "secret_ref": "sec-2" } })).unwrap();
        let Params::SshExec(e) = &exec.params else { panic!() };
        assert!(e.command.as_ref().is_some_and(|c| c.plain().is_none()));
        assert!(parsed(Command::ListTargets, Value::Null).is_ok());
    }

    #[test]
    fn reading_asks_for_types_and_checking_for_the_needed_keys() {
        let empty = Payload::parse(Command::SendKey, &json!({ "node": "h1" })).expect("types are right");
        assert_eq!(empty.check(), Err(ParamError::missing("vmid")));
        let wrong = Payload::parse(Command::SendKey, &json!({ "key": ["a"] })).unwrap_err();
        assert_eq!(wrong.field, "key");
        assert!(wrong.reason().starts_with("must be a string or a number"), "{wrong}");
    }

    #[test]
    fn bad_parameters_are_named() {
        for (command, payload, expected) in [
            (Command::Start, json!({}), "vmid is required"),
            (Command::Start, json!({ "vmid": "abc" }), "vmid must be a VM id"),
            (Command::Start, json!({ "vmid": 0 }), "vmid must be a VM id"),
            (
                Command::Start,
                json!({ "vmid": 1, "node": ["h1"] }),
                "node must be a string or a number",
            ),
            (Command::Clone, json!({ "newid": 5 }), "vmid is required"),
            (
                Command::Delete,
                json!({ "vmid": 1, "purge": "maybe" }),
                "purge must be true or false",
            ),
            (
                Command::UpdateConfig,
                json!({ "vmid": 1, "config": "cores=2" }),
                "config invalid type",
            ),
            (
                Command::ResizeDisk,
                json!({ "vmid": 1, "disk": "scsi0", "size": " " }),
                "size is required",
            ),
            (Command::SendKey, json!({ "vmid": 1 }), "key is required"),
            (Command::TaskStatus, json!({ "node": "h1" }), "upid is required"),
            (
                Command::WaitTask,
                json!({ "upid": "u", "timeoutMs": -1 }),
                "timeoutMs must be a number of milliseconds",
            ),
            (
                Command::WaitVmPresence,
                json!({ "vmid": 1, "exists": {} }),
                "exists must be true or false",
            ),
            (
                Command::SshStatus,
                json!({ "sshPort": 70000 }),
                "sshPort must be a port number",
            ),
            (
                Command::SshReadConfig,
                json!({ "id": "1;reboot" }),
                "id must be a VM id",
            ),
            (Command::SshWriteConfig, json!({ "vmid": 1 }), "content is required"),
            (
                Command::SshExec,
                json!({ "command": 7.5, "allowUnsafe": "yes" }),
                "allowUnsafe must be true or false",
            ),
            (
                Command::CreateProvisionIso,
                json!({ "vmid": 1, "files": {} }),
                "files is required",
            ),
            (
                Command::CreateProvisionIso,
                json!({ "vmid": 1, "files": { "a": 1 } }),
                "files.a invalid type",
            ),
            (Command::AttachCdrom, json!({ "vmid": 1 }), "isoPath is required"),
            (
                Command::DetachCdrom,
                json!({ "vmid": 1, "deleteIso": [] }),
                "deleteIso must be true or false",
            ),
            (
                Command::UploadIso,
                json!({ "content_base64": "aGk=" }),
                "filename is required",
            ),
            (Command::Status, json!([1]), "payload must be an object"),
        ] {
            let err = parsed(command, payload.clone()).expect_err(&payload.to_string());
            assert!(err.starts_with(expected), "{command} {payload}: {err}");
        }
    }

    #[test]
    fn reads_and_shared_reads_are_the_ones_the_queue_always_had() {
        let shared: Vec<_> = Command::ALL
            .iter()
            .filter(|c| c.is_shared_read())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            shared,
            [
                "proxmox.list-vms",
                "proxmox.vm-status",
                "proxmox.get-config",
                "proxmox.cluster-resources",
                "proxmox.status",
                "proxmox.list-targets",
                "proxmox.ssh-status",
                "proxmox.ssh-test",
            ]
        );
        let other: Vec<_> = Command::ALL
            .iter()
            .filter(|c| c.is_read() && !c.is_shared_read())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            other,
            [
                "proxmox.list",
                "proxmox.config.get",
                "proxmox.task-status",
                "proxmox.ssh-read-config"
            ]
        );
    }
}
