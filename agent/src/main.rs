//! botmox-agent: pairs with a Bot-Mox server and runs VM operations on Proxmox hosts.

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
    eprintln!("botmox-agent: no command given; see --help");
    std::process::exit(2);
}
