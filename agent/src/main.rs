//! botmox-agent: pairs with a Bot-Mox server and runs VM operations on Proxmox hosts.

fn main() -> std::process::ExitCode {
    botmox_agent::cli::main()
}
