//! Issue 15, point 13: writing a VM's config over SSH, or setting its raw QEMU arguments or
//! hookscript through the Proxmox API, is as privileged as an unsafe SSH command: an api user
//! cannot queue it, not even for an agent of their own.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn an_api_user_cannot_queue_an_ssh_config_write_for_their_own_agent() {
    let server = TestServer::start().await;
    server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let infra = server.user("infra@example.com", "default", "infra").await;
    let (agent_id, _) = server.paired_agent(&op, "mine").await;
    let write = json!({
        "agent_id": agent_id,
        "params": { "vmid": 100, "content": "hookscript: local:snippets/evil.sh\n" },
    });

    let (status, body) = server
        .call(
            "POST",
            "/api/v1/vm-ops/proxmox/ssh-write-config",
            &op,
            Some(write.clone()),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("VM_OPS_PRIVILEGED_COMMAND")),
        "{body}"
    );
    // The same through the Proxmox API: a config update with raw QEMU arguments or a
    // hookscript, at the top level or in `config`; harmless keys stay the user's.
    for params in [
        json!({ "vmid": 100, "args": "-set device.x.y=1" }),
        json!({ "vmid": 100, "config": { "hookscript": "local:snippets/evil.sh" } }),
    ] {
        let (status, body) = server
            .call(
                "POST",
                "/api/v1/vm-ops/proxmox/update-config",
                &op,
                Some(json!({ "agent_id": agent_id, "params": params })),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("VM_OPS_PRIVILEGED_COMMAND")),
            "{params}: {body}"
        );
    }
    let (status, listed) = server.call("GET", "/api/v1/vm-ops/commands", &op, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(0), "{listed}");

    let harmless = json!({ "agent_id": agent_id, "params": { "vmid": 100, "config": { "cores": 2 } } });
    let (status, body) = server
        .call("POST", "/api/v1/vm-ops/proxmox/update-config", &op, Some(harmless))
        .await;
    assert_eq!(status, 202, "{body}");

    // An infra user may (the agent being online, the command is queued).
    let (status, body) = server
        .call("POST", "/api/v1/vm-ops/proxmox/ssh-write-config", &infra, Some(write))
        .await;
    assert_eq!(status, 202, "{body}");
}
