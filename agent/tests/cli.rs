use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_botmox-agent");

#[test]
fn the_agent_answers_help_and_version() {
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("botmox-agent {}", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Proxmox"));
}

#[test]
fn targets_are_saved_without_their_secrets_in_the_config_file() {
    let dir = tempdir();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--config-dir")
            .arg(&dir)
            .args(args)
            .env("BOTMOX_TARGET_PASSWORD", "pve-secret")
            .output()
            .unwrap()
    };
    let added = run(&[
        "target",
        "add",
        "--name",
        "lab",
        "--url",
        "https://pve.lab:8006/",
        "--node",
        "pve1",
        "--username",
        "root",
        "--insecure",
    ]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let listed = run(&["target", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("* pve.lab:8006|rootpam|pve1"), "{listed}");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(
        !config.contains("pve-secret") && config.contains("root@pam"),
        "{config}"
    );
    let bad = run(&[
        "target",
        "add",
        "--name",
        "x",
        "--url",
        "pve.lab",
        "--node",
        "n",
        "--username",
        "root",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("https://"));
    let unpaired = run(&["run"]);
    assert_eq!(unpaired.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unpaired.stderr).contains("not paired"));
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("botmox-agent-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
