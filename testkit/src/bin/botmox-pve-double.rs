//! Starts the Proxmox VE double and the SSH double (one simulated host) on loopback for
//! end-to-end and browser tests run from outside Rust, prints one JSON line saying where they
//! are and how to log in, then serves until killed.
//!
//! `botmox-pve-double [--port N] [--node NAME] [--task-ms N]`

use std::time::Duration;

use botmox_testkit::host::{Host, Vm, VmStatus};
use botmox_testkit::pve::{PveDouble, PveOptions};
use botmox_testkit::ssh::{SshDouble, SshOptions};
use serde_json::json;

fn usage() -> ! {
    eprintln!("usage: botmox-pve-double [--port N] [--node NAME] [--task-ms N]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut options = PveOptions::default();
    let mut node = "h1".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => options.port = value.parse().unwrap_or_else(|_| usage()),
            "--node" => node = value,
            "--task-ms" => options.task_duration = Duration::from_millis(value.parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    options.host = Host::new(&node);
    // A template to clone and one running VM, so a fresh UI has something to show.
    options.host.insert_vm(100, Vm::new("win11-template").template());
    options.host.insert_vm(101, Vm::new("bot-01"));
    options.host.set_vm_status(101, VmStatus::Running);

    let ssh = SshDouble::start(options.host.clone(), SshOptions::default()).await;
    let pve = PveDouble::start(options).await?;
    let line = json!({
        "pve": {
            "url": pve.url,
            "port": pve.addr.port(),
            "node": node,
            "fingerprint_sha256": pve.fingerprint_sha256,
            "username": pve.username,
            "password": pve.password,
            "token_id": pve.token_id,
            "token_secret": pve.token_secret,
        },
        "ssh": {
            "host": "127.0.0.1",
            "port": ssh.port,
            "username": ssh.username,
            "password": ssh.password,
            "host_key_fingerprint": ssh.host_key_fingerprint,
        }
    });
    println!("{line}");
    tokio::signal::ctrl_c().await
}
