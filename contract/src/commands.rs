//! The agent command catalogue (agent.md §9–10, api-ops.md §3.7): every command an agent runs,
//! what it may do, and which executor takes it.
//!
//! One table below is the whole list. The server's queue parses a dispatch into a [`Command`]
//! (an unknown type is refused before it is queued) and asks [`Command::class`] who may send
//! it; the infra relay names its commands by variant; the agent routes on the variant. Adding a
//! command is one row here plus its executor arm, which the compiler then asks for.
//!
//! The wire stays `{command_type: "proxmox.<action>", payload: {...}}`: the payload travels
//! as it was sent (it may hold `{"secret_ref": id}` objects the agent resolves at execution
//! time), so these types read it and never rewrite it.

use std::fmt;

use serde_json::{Map, Value};

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
    ($($variant:ident = $action:literal, $executor:ident, $effect:ident;)*) => {
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
    };
}

catalogue! {
    // VM operations (agent.md §10.1).
    Start = "start", ProxmoxApi, Change;
    Stop = "stop", ProxmoxApi, Change;
    Shutdown = "shutdown", ProxmoxApi, Change;
    Reset = "reset", ProxmoxApi, Change;
    Suspend = "suspend", ProxmoxApi, Change;
    Resume = "resume", ProxmoxApi, Change;
    Clone = "clone", ProxmoxApi, Change;
    Delete = "delete", ProxmoxApi, Change;
    List = "list", ProxmoxApi, Read;
    ListVms = "list-vms", ProxmoxApi, SharedRead;
    VmStatus = "vm-status", ProxmoxApi, SharedRead;
    GetConfig = "get-config", ProxmoxApi, SharedRead;
    ConfigGet = "config.get", ProxmoxApi, Read;
    UpdateConfig = "update-config", ProxmoxApi, ConfigChange;
    ConfigUpdate = "config.update", ProxmoxApi, ConfigChange;
    ResizeDisk = "resize-disk", ProxmoxApi, Change;
    SendKey = "sendkey", ProxmoxApi, Change;
    ClusterResources = "cluster-resources", ProxmoxApi, SharedRead;
    Status = "status", ProxmoxApi, SharedRead;
    Login = "login", ProxmoxApi, Change;
    // Tasks and waits (§10.2).
    TaskStatus = "task-status", ProxmoxApi, Read;
    WaitTask = "wait-task", ProxmoxApi, Change;
    WaitVmStatus = "wait-vm-status", ProxmoxApi, Change;
    WaitVmPresence = "wait-vm-presence", ProxmoxApi, Change;
    // The agent's own targets (§9).
    ListTargets = "list-targets", Targets, SharedRead;
    // SSH-backed commands (§10.3).
    SshStatus = "ssh-status", Ssh, SharedRead;
    SshTest = "ssh-test", Ssh, SharedRead;
    SshBootstrap = "ssh-bootstrap", Ssh, Change;
    SshReadConfig = "ssh-read-config", Ssh, Read;
    SshWriteConfig = "ssh-write-config", Ssh, ConfigWrite;
    SshExec = "ssh-exec", Ssh, Change;
    // ISO provisioning (§10.4).
    CreateProvisionIso = "create-provision-iso", Ssh, Change;
    AttachCdrom = "attach-cdrom", ProxmoxApi, Change;
    DetachCdrom = "detach-cdrom", ProxmoxApi, Change;
    UploadIso = "upload-iso", ProxmoxApi, Change;
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

    /// Who may queue this command with this payload. A config update is privileged when it
    /// sets `args` or `hookscript`, at the top level or in `config{}` (the agent merges both).
    pub fn class(self, payload: &Map<String, Value>) -> Class {
        let sets_privileged_key = || {
            let nested = payload.get("config").and_then(Value::as_object);
            PRIVILEGED_CONFIG_KEYS
                .iter()
                .any(|k| payload.contains_key(*k) || nested.is_some_and(|c| c.contains_key(*k)))
        };
        match self.effect() {
            Effect::ConfigWrite => Class::Privileged,
            Effect::ConfigChange if sets_privileged_key() => Class::Privileged,
            _ if payload.contains_key(ALLOW_UNSAFE) => Class::Unsafe,
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
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
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
    fn the_class_follows_the_command_and_the_payload() {
        let plain = map(json!({ "vmid": 101 }));
        assert_eq!(Command::VmStatus.class(&plain), Class::ReadOnly);
        assert_eq!(Command::Start.class(&plain), Class::Change);
        assert_eq!(Command::SshWriteConfig.class(&plain), Class::Privileged);
        assert_eq!(Command::UpdateConfig.class(&map(json!({ "cores": 2 }))), Class::Change);
        for payload in [
            json!({ "args": "-x" }),
            json!({ "config": { "hookscript": "local:snippets/h" } }),
        ] {
            assert_eq!(Command::UpdateConfig.class(&map(payload.clone())), Class::Privileged);
            assert_eq!(Command::ConfigUpdate.class(&map(payload.clone())), Class::Privileged);
            assert_eq!(Command::Clone.class(&map(payload)), Class::Change);
        }
        let unsafe_exec = map(json!({ "command": "uptime", ALLOW_UNSAFE: true }));
        assert_eq!(Command::SshExec.class(&unsafe_exec), Class::Unsafe);
        assert_eq!(Command::SshWriteConfig.class(&unsafe_exec), Class::Privileged);
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
