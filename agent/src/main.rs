//! botmox-agent: pairs with a Bot-Mox server and runs VM operations on Proxmox hosts.
//!
//! This release answers `--help` and `--version`; pairing and the command loop arrive with
//! the agent-link work (see the project's issues).

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "botmox-agent",
    version,
    about = "Bot-Mox agent: pairs with a Bot-Mox server and runs VM operations on Proxmox hosts"
)]
struct Cli {}

fn main() {
    let Cli {} = Cli::parse();
    eprintln!(
        "botmox-agent {}: pairing and the command loop are not available in this release yet",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
