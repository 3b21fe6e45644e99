//! The SSH executors against the in-process russh double, over real TCP on loopback.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use botmox_agent::config::{SshSettings, Target, TargetAuth, TlsPolicy};
use botmox_agent::exec::ssh::{execute, remove_iso};
use botmox_agent::exec::{ExecContext, ExecError};
use botmox_contract::commands::Command;
use botmox_testkit::host::{Host, Vm, VmStatus, ISO_DIR};
use botmox_testkit::ssh::{SshDouble, SshOptions};
use serde_json::{json, Value};
use tempfile::TempDir;

struct Fixture {
    host: Host,
    double: SshDouble,
    target: Target,
    ctx: ExecContext,
    _dir: TempDir,
}

impl Fixture {
    /// A host with VM 100 and a target whose Proxmox login is also the SSH login.
    async fn new() -> Fixture {
        let host = Host::new("pve1");
        host.insert_vm(100, Vm::new("bot-100"));
        let double = SshDouble::start(host.clone(), SshOptions::default()).await;
        let target = Target {
            id: "t1".into(),
            name: "lab".into(),
            url: "https://127.0.0.1:8006".into(),
            node: "pve1".into(),
            auth: TargetAuth::Password {
                username: "root@pam".into(),
                password: double.password.clone(),
            },
            tls: TlsPolicy::Insecure,
            ssh: SshSettings {
                port: Some(double.port),
                ..Default::default()
            },
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let ctx = ExecContext {
            targets: vec![target.clone()],
            active_target: Some(target.id.clone()),
            known_hosts: dir.path().join("known_hosts"),
        };
        Fixture {
            host,
            double,
            target,
            ctx,
            _dir: dir,
        }
    }

    async fn run(&self, action: &str, payload: Value) -> Result<Value, ExecError> {
        let command = Command::from_action(action).expect("a catalogue action");
        execute(&self.ctx, &self.target, command, &payload).await
    }

    fn known_hosts(&self) -> String {
        std::fs::read_to_string(&self.ctx.known_hosts).unwrap_or_default()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn probe_connects_and_pins_the_host_key_on_first_use() {
    let fx = Fixture::new().await;
    assert_eq!(fx.known_hosts(), "");

    let probe = fx.run("ssh-status", json!({})).await.expect("ssh-status never fails");
    assert_eq!(probe["code"], "OK", "{probe}");
    assert_eq!(probe["connected"], true);
    assert_eq!(probe["configured"], true);
    assert_eq!(probe["mode"], "password");
    assert_eq!(probe["host"], "127.0.0.1");
    assert_eq!(probe["port"], fx.double.port);
    assert_eq!(probe["username"], "root");
    assert_eq!(probe["stdout"], "BOTMOX_SSH_OK");

    let pinned = fx.known_hosts();
    assert!(
        pinned
            .trim_start()
            .starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", fx.double.port)),
        "{pinned}"
    );
    assert_eq!(pinned.lines().filter(|l| !l.is_empty()).count(), 1);

    // The second connection checks against the pin and adds nothing.
    let bootstrap = fx.run("ssh-bootstrap", json!({})).await.expect("never fails");
    assert_eq!(
        (bootstrap["code"].as_str(), bootstrap["bootstrap"].as_str()),
        (Some("OK"), Some("validated"))
    );
    assert_eq!(fx.known_hosts(), pinned);
}

#[tokio::test]
async fn a_changed_host_key_is_refused_before_any_credential_is_sent() {
    let mut fx = Fixture::new().await;
    assert_eq!(fx.run("ssh-test", json!({})).await.expect("probe")["code"], "OK");
    let attempts_before = fx.double.auth_attempts().len();
    assert!(attempts_before >= 1);

    fx.double.rotate_host_key();
    let probe = fx.run("ssh-status", json!({})).await.expect("never fails");
    assert_eq!(probe["code"], "SSH_HOST_KEY_CHANGED", "{probe}");
    assert_eq!(probe["connected"], false);
    assert!(
        probe["message"]
            .as_str()
            .is_some_and(|m| m.contains("remove that line")),
        "{probe}"
    );

    let err = fx
        .run("ssh-exec", json!({"command": "qm status 100"}))
        .await
        .expect_err("refused");
    assert_eq!(err.code, Some("SSH_HOST_KEY_CHANGED"), "{err}");
    assert_eq!(
        fx.double.auth_attempts().len(),
        attempts_before,
        "no credential after the key changed"
    );
    assert!(fx.double.execs().iter().all(|e| e.command != "qm status 100"));
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_failure() {
    let mut fx = Fixture::new().await;
    fx.target.ssh.password = Some("not-the-password".into());

    let probe = fx.run("ssh-status", json!({})).await.expect("never fails");
    assert_eq!(probe["code"], "SSH_AUTH_FAILED", "{probe}");
    assert_eq!(probe["connected"], false);
    assert_eq!(probe["configured"], true);

    let err = fx
        .run("ssh-exec", json!({"command": "qm status 100"}))
        .await
        .expect_err("auth fails");
    assert_eq!(err.code, Some("SSH_AUTH_FAILED"), "{err}");
    assert!(err.to_string().starts_with("SSH_AUTH_FAILED: "));
    assert!(fx.double.auth_attempts().iter().all(|a| !a.accepted));
}

#[tokio::test]
async fn payload_credentials_are_ignored() {
    let fx = Fixture::new().await;
    let probe = fx
        .run(
            "ssh-status",
            json!({"sshPassword": "from-the-payload", "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"}),
        )
        .await
        .expect("never fails");
    assert_eq!(probe["code"], "OK", "{probe}");
    assert_eq!(probe["mode"], "password");
    let attempts = fx.double.auth_attempts();
    assert!(!attempts.is_empty());
    assert!(
        attempts
            .iter()
            .all(|a| a.password.as_deref() != Some("from-the-payload")),
        "{attempts:?}"
    );
    assert!(attempts.iter().all(|a| a.method == "password"), "{attempts:?}");
}

#[tokio::test]
async fn a_stored_key_authenticates_and_the_password_stays_home() {
    let mut fx = Fixture::new().await;
    fx.target.auth = TargetAuth::Token {
        token_id: "root@pam!botmox".into(),
        secret: "s".into(),
    };
    fx.target.ssh.private_key = Some(fx.double.client_private_key.clone());
    let probe = fx.run("ssh-status", json!({})).await.expect("never fails");
    assert_eq!(
        (probe["code"].as_str(), probe["mode"].as_str()),
        (Some("OK"), Some("key")),
        "{probe}"
    );
    assert!(fx
        .double
        .auth_attempts()
        .iter()
        .any(|a| a.method == "publickey" && a.accepted));

    // Pointing the payload at another name of the same machine: the key still works there,
    // but a stored password is never sent to an endpoint the payload chose.
    fx.target.ssh.private_key = None;
    fx.target.ssh.password = Some(fx.double.password.clone());
    let before = fx.double.auth_attempts().len();
    let probe = fx
        .run("ssh-status", json!({"sshHost": "localhost"}))
        .await
        .expect("never fails");
    assert_eq!(probe["code"], "SSH_REQUIRED", "{probe}");
    assert_eq!(fx.double.auth_attempts().len(), before);
}

#[tokio::test]
async fn unconfigured_and_unreachable_hosts_are_tagged() {
    let mut fx = Fixture::new().await;
    fx.target.auth = TargetAuth::Token {
        token_id: "root@pam!botmox".into(),
        secret: "s".into(),
    };
    let probe = fx.run("ssh-status", json!({})).await.expect("never fails");
    assert_eq!(
        (probe["configured"].as_bool(), probe["code"].as_str()),
        (Some(false), Some("SSH_REQUIRED"))
    );
    assert_eq!(probe["mode"], "none");
    let err = fx
        .run("ssh-read-config", json!({"vmid": 100}))
        .await
        .expect_err("not configured");
    assert_eq!(err.code, Some("SSH_REQUIRED"));

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut fx = Fixture::new().await;
    fx.target.ssh.port = Some(closed);
    let probe = fx.run("ssh-status", json!({})).await.expect("never fails");
    assert_eq!(probe["code"], "SSH_UNREACHABLE", "{probe}");
}

#[tokio::test]
async fn config_round_trips_through_the_host() {
    let fx = Fixture::new().await;
    let read = fx.run("ssh-read-config", json!({"vmid": 100})).await.expect("read");
    let config = read["config"].as_str().expect("config text");
    assert!(config.contains("name: bot-100"), "{config}");

    let content = "name: renamed\nmemory: 4096\ndescription: a $HOME `x` line\nEOF";
    let written = fx
        .run("ssh-write-config", json!({"id": "100", "content": content}))
        .await
        .expect("write");
    assert_eq!(written, json!({"written": true}));
    let vm = fx.host.vm(100).expect("vm 100");
    assert_eq!(vm.name(), "renamed");
    assert_eq!(vm.config.get("memory").map(String::as_str), Some("4096"));
    assert_eq!(
        vm.config.get("description").map(String::as_str),
        Some("a $HOME `x` line")
    );
    let sent = fx.double.execs().last().expect("a command").command.clone();
    assert!(
        sent.starts_with("cat > /etc/pve/qemu-server/100.conf <<'BOTMOX_VM_CONFIG_"),
        "{sent}"
    );
    assert!(sent.contains("\nEOF\nBOTMOX_VM_CONFIG_"), "a newline is added: {sent}");

    let again = fx.run("ssh-read-config", json!({"id": 100})).await.expect("read");
    assert!(
        again["config"].as_str().is_some_and(|c| c.contains("name: renamed")),
        "{again}"
    );

    let err = fx
        .run("ssh-read-config", json!({"vmid": 999}))
        .await
        .expect_err("no such VM");
    assert_eq!(err.code, Some("SSH_READ_FAILED"));
    assert!(err.message.contains("No such file"), "{err}");
    let err = fx
        .run("ssh-write-config", json!({"vmid": 100, "content": "  "}))
        .await
        .expect_err("blank");
    assert_eq!(err.to_string(), "content required for proxmox.ssh-write-config");
    let err = fx
        .run("ssh-read-config", json!({"vmid": "1;reboot"}))
        .await
        .expect_err("not a vmid");
    assert_eq!(err.code, Some("BAD_REQUEST"));
}

#[tokio::test]
async fn the_allowlist_holds_unless_unsafe_is_allowed() {
    let fx = Fixture::new().await;
    fx.host.put_file("/etc/hostname", "pve1\n");

    let err = fx
        .run("ssh-exec", json!({"command": "rm -rf /"}))
        .await
        .expect_err("forbidden");
    assert_eq!(err.code, Some("SSH_COMMAND_FORBIDDEN"), "{err}");
    assert!(fx.double.execs().is_empty(), "nothing reached the host");
    assert!(fx.host.file("/etc/hostname").is_some());
    let err = fx.run("ssh-exec", json!({"command": "  "})).await.expect_err("empty");
    assert_eq!(err.code, Some("BAD_REQUEST"));

    let started = fx
        .run("ssh-exec", json!({"command": "QM  start\t100"}))
        .await
        .expect("allowlisted");
    assert_eq!(started["allowlisted"], true);
    assert_eq!(started["exitCode"], 0);
    let status = fx
        .run("ssh-exec", json!({"command": "qm status 100"}))
        .await
        .expect("allowlisted");
    assert_eq!(status["stdout"], "status: running");
    assert_eq!(fx.host.vm(100).map(|vm| vm.status), Some(VmStatus::Running));

    // A non-zero exit is a result, not an error.
    let missing = fx
        .run("ssh-exec", json!({"command": "qm status 999"}))
        .await
        .expect("a result");
    assert_eq!(missing["exitCode"], 2);
    assert!(
        missing["stderr"].as_str().is_some_and(|s| s.contains("does not exist")),
        "{missing}"
    );

    let unsafe_run = fx
        .run("ssh-exec", json!({"command": "rm -rf /", "allowUnsafe": true}))
        .await
        .expect("allowed when unsafe");
    assert_eq!(
        (unsafe_run["allowlisted"].as_bool(), unsafe_run["exitCode"].as_u64()),
        (Some(false), Some(0))
    );
    assert_eq!(fx.host.file("/etc/hostname"), None, "the command really ran");
}

#[tokio::test]
async fn a_hanging_command_times_out() {
    let fx = Fixture::new().await;
    fx.double.set_hanging(true);
    let started = Instant::now();
    let err = fx
        .run("ssh-exec", json!({"command": "qm status 100", "timeoutMs": 1000}))
        .await
        .expect_err("times out");
    let elapsed = started.elapsed();
    assert_eq!(err.code, Some("SSH_UNREACHABLE"), "{err}");
    assert!(err.message.contains("timeout"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(fx.double.execs().len(), 1, "the command was sent, then abandoned");

    let probe = fx
        .run("ssh-status", json!({"timeoutMs": 1000}))
        .await
        .expect("never fails");
    assert_eq!(probe["code"], "SSH_UNREACHABLE", "{probe}");
}

#[tokio::test]
async fn provision_iso_is_built_on_the_host_and_removable() {
    let fx = Fixture::new().await;
    let user_data = b"#cloud-config\nhostname: bot-100\n".to_vec();
    let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let files = json!({"user-data": b64(&user_data), "meta data/../x": b64(b"id: 100\n"), "blob.bin": b64(&binary)});
    let created = fx
        .run("create-provision-iso", json!({"vmid": 100, "files": files}))
        .await
        .expect("created");
    assert_eq!(
        created,
        json!({"isoPath": "local:iso/vm-100-provision.iso", "isoName": "vm-100-provision.iso", "created": true})
    );

    let (volume, on_disk) = fx
        .host
        .provision_iso("vm-100-provision.iso")
        .expect("the ISO is on the host");
    assert_eq!(volume, "PROVISION");
    let expected: BTreeMap<String, Vec<u8>> = [
        ("user-data".to_string(), user_data),
        ("meta_data_.._x".to_string(), b"id: 100\n".to_vec()),
        ("blob.bin".to_string(), binary),
    ]
    .into_iter()
    .collect();
    assert_eq!(on_disk, expected);
    assert!(fx.host.files_under("/tmp/").is_empty(), "the work dir is gone");
    let sent = fx.double.execs().last().cloned().expect("one command");
    assert_eq!(sent.command, "sh -s", "contents travel on stdin, not the command line");

    // The mkisofs fallback, a custom name and another storage.
    fx.double.set_iso_tool(Some("mkisofs"));
    let other = fx
        .run(
            "create-provision-iso",
            json!({"vmid": "100", "files": {"a": b64(b"a")}, "isoName": "seed.iso", "isoStorage": "nfs-iso"}),
        )
        .await
        .expect("created with mkisofs");
    assert_eq!(other["isoPath"], "nfs-iso:iso/seed.iso");
    assert!(fx.host.file("/mnt/pve/nfs-iso/template/iso/seed.iso").is_some());

    let volume = "local:iso/vm-100-provision.iso";
    remove_iso(&fx.ctx, &fx.target, &json!({}), volume).await;
    assert_eq!(fx.host.file(&format!("{ISO_DIR}vm-100-provision.iso")), None);
    assert!(
        fx.host.file("/mnt/pve/nfs-iso/template/iso/seed.iso").is_some(),
        "only the named ISO goes"
    );

    // A volume that would need quoting is not touched at all.
    let sent_before = fx.double.execs().len();
    remove_iso(&fx.ctx, &fx.target, &json!({}), "local:iso/x;rm -rf /.iso").await;
    assert_eq!(fx.double.execs().len(), sent_before);
}

#[tokio::test]
async fn provision_iso_failures_are_clear_and_leave_nothing_behind() {
    let fx = Fixture::new().await;
    fx.double.set_iso_tool(None);
    let err = fx
        .run(
            "create-provision-iso",
            json!({"vmid": 100, "files": {"user-data": b64(b"x")}}),
        )
        .await
        .expect_err("no tool");
    assert_eq!(err.code, Some("ISO_CREATE_FAILED"), "{err}");
    assert!(err.message.contains("no ISO tool"), "{err}");
    assert!(
        fx.host.files_under("/tmp/").is_empty(),
        "the work dir is removed on failure too"
    );
    assert!(fx.host.files_under(ISO_DIR).is_empty());

    let sent_before = fx.double.execs().len();
    for bad in [
        json!({"isoName": "x;reboot.iso"}),
        json!({"isoName": "../../etc/x.iso"}),
        json!({"isoStorage": "local'"}),
    ] {
        let mut payload = json!({"vmid": 100, "files": {"a": b64(b"a")}});
        payload
            .as_object_mut()
            .expect("object")
            .extend(bad.as_object().cloned().unwrap_or_default());
        let err = fx.run("create-provision-iso", payload).await.expect_err("rejected");
        assert_eq!(err.code, Some("BAD_REQUEST"), "{err}");
    }
    assert_eq!(fx.double.execs().len(), sent_before, "rejected before connecting");
}
