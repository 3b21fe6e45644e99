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
