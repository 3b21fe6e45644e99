//! `botmox-agent service …` outside Windows: exit 2 with a pointer to the systemd unit.

#[cfg(not(windows))]
#[test]
fn service_commands_point_to_systemd_outside_windows() {
    for action in ["install", "uninstall", "start", "stop", "status"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_botmox-agent"))
            .args(["service", action])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "service {action}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("packaging/botmox-agent.service"), "{said}");
    }
    assert_eq!(botmox_agent::service::state(), None);
}
