//! The payloads the infra routes queue, built from the contract's typed parameters (so a
//! renamed or retyped key breaks the build here, not the agent at run time).

use botmox_contract::commands::{Params, Payload};
use botmox_contract::params::{self as p, Common, SecretOr, Text, VmId};
use serde_json::{Map, Value};

/// A payload with only the command's own parameters.
pub fn bare(params: Params) -> Payload {
    with(Common::default(), params)
}

/// A payload for the Proxmox node `node`.
pub fn on_node(node: &str, params: Params) -> Payload {
    let common = Common {
        node: Some(Text::from(node)),
        ..Common::default()
    };
    with(common, params)
}

fn with(common: Common, params: Params) -> Payload {
    Payload {
        common,
        params,
        extra: Map::new(),
    }
}

pub fn vm(vmid: &VmId) -> p::Vm {
    p::Vm {
        vmid: Some(vmid.clone()),
    }
}

/// The optional keys of a clone, as the caller sent them.
pub struct CloneOptions<'a> {
    pub name: Option<&'a str>,
    pub storage: Option<&'a str>,
    pub format: Option<&'a str>,
    pub full: Option<bool>,
}

pub fn clone_vm(vmid: &VmId, newid: VmId, options: CloneOptions) -> Params {
    Params::Clone(p::CloneVm {
        template_vm_id: None,
        vmid: Some(vmid.clone()),
        newid: Some(newid),
        name: options.name.map(Text::from),
        storage: options.storage.map(Text::from),
        format: options.format.map(Text::from),
        full: options.full.map(Into::into),
    })
}

pub fn delete_vm(vmid: &VmId, purge: bool, destroy_unreferenced_disks: bool) -> Params {
    Params::Delete(p::DeleteVm {
        vmid: Some(vmid.clone()),
        purge: Some(purge.into()),
        destroy_unreferenced_disks: Some(destroy_unreferenced_disks.into()),
    })
}

pub fn update_config(vmid: &VmId, config: Map<String, Value>) -> Params {
    Params::UpdateConfig(p::UpdateConfig {
        vmid: Some(vmid.clone()),
        config: Some(config),
    })
}

pub fn send_key(vmid: &VmId, key: &str) -> Params {
    Params::SendKey(p::SendKey {
        vmid: Some(vmid.clone()),
        key: Some(Text::from(key)),
    })
}

pub fn task(upid: &str) -> Params {
    Params::TaskStatus(p::Task {
        upid: Some(Text::from(upid)),
        task: None,
        task_id: None,
    })
}

pub fn login() -> Params {
    Params::Login(p::Login {
        force: Some(true.into()),
    })
}

pub fn cluster_resources() -> Params {
    Params::ClusterResources(p::ClusterResources {
        kind: None,
        resource_type: None,
    })
}

/// `ssh-exec` with its timeout under the name the agent reads first.
pub fn ssh_exec(command: &str, timeout_ms: u64) -> Payload {
    let common = Common {
        timeout_ms: Some(timeout_ms.into()),
        ..Common::default()
    };
    let params = Params::SshExec(p::SshExec {
        command: Some(SecretOr::Plain(command.to_owned())),
    });
    with(common, params)
}

pub fn ssh_read_config(vmid: &VmId) -> Params {
    Params::SshReadConfig(p::SshVm {
        vmid: Some(vmid.clone()),
        id: None,
    })
}

pub fn ssh_write_config(vmid: &VmId, content: &str) -> Params {
    Params::SshWriteConfig(p::SshWriteConfig {
        vmid: Some(vmid.clone()),
        id: None,
        content: Some(SecretOr::Plain(content.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use botmox_contract::commands::Command;
    use serde_json::json;

    fn id(n: u64) -> VmId {
        VmId::try_from(json!(n)).unwrap()
    }

    /// Each payload is the JSON the routes sent before they were typed, and reads back as the
    /// command's parameters.
    #[test]
    fn typed_payloads_write_the_same_json_as_before() {
        let config = Map::from_iter([("cores".to_owned(), json!(4))]);
        let options = CloneOptions {
            name: Some("bot"),
            storage: None,
            format: Some("qcow2"),
            full: Some(true),
        };
        let cases = [
            (
                on_node("h1", Params::GetConfig(vm(&id(150)))),
                json!({ "node": "h1", "vmid": 150 }),
            ),
            (
                on_node("h1", Params::Start(vm(&id(150)))),
                json!({ "node": "h1", "vmid": 150 }),
            ),
            (bare(login()), json!({ "force": true })),
            (bare(Params::Status(p::NoParams {})), json!({})),
            (on_node("h1", Params::List(p::NoParams {})), json!({ "node": "h1" })),
            (
                on_node("h1", clone_vm(&id(150), id(151), options)),
                json!({ "node": "h1", "vmid": 150, "newid": 151, "name": "bot", "format": "qcow2", "full": true }),
            ),
            (
                on_node("h1", update_config(&id(150), config)),
                json!({ "node": "h1", "vmid": 150, "config": { "cores": 4 } }),
            ),
            (
                on_node("h1", task("UPID:h1:1")),
                json!({ "node": "h1", "upid": "UPID:h1:1" }),
            ),
            (
                on_node("h1", delete_vm(&id(150), true, false)),
                json!({ "node": "h1", "vmid": 150, "purge": true, "destroyUnreferencedDisks": false }),
            ),
            (
                on_node("h1", send_key(&id(150), "ret")),
                json!({ "node": "h1", "vmid": 150, "key": "ret" }),
            ),
            (bare(cluster_resources()), json!({})),
            (
                ssh_exec("qm list", 30_000),
                json!({ "command": "qm list", "timeoutMs": 30000 }),
            ),
            (bare(ssh_read_config(&id(150))), json!({ "vmid": 150 })),
            (
                bare(ssh_write_config(&id(150), "cores: 2")),
                json!({ "vmid": 150, "content": "cores: 2" }),
            ),
        ];
        for (payload, wire) in cases {
            assert_eq!(payload.to_value(), wire, "{:?}", payload.command());
            let read = Payload::parse(payload.command(), &wire).unwrap();
            assert_eq!(read.check(), Ok(()), "{wire}");
            assert_eq!(read, payload, "every key is typed: {wire}");
        }
        assert_eq!(bare(login()).command(), Command::Login);
    }
}
