//! Command-line interface: what `botmox` accepts.

use std::path::PathBuf;

use botmox_contract::auth::Role;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "botmox",
    version,
    about = "Bot-Mox: a self-hosted control plane for fleets of bots on VMs"
)]
pub struct Cli {
    /// Data directory: database, objects and the vault key file.
    #[arg(long, global = true, env = "BOTMOX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,

    /// Fill a `demo` tenant with sample data (once) and create its user demo@botmox.local.
    #[arg(long, global = true)]
    pub demo: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users and the installation operator.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent snapshot of the database and objects to FILE (works while serving).
    Backup {
        /// Archive to write (.tar.gz).
        file: PathBuf,
    },
    /// Restore a backup archive into the data directory.
    Restore {
        /// Archive written by `botmox backup`.
        file: PathBuf,
        /// Replace an existing database in the data directory.
        #[arg(long)]
        force: bool,
    },
    /// Vault key management.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Move a stopped install between SQLite + local objects and PostgreSQL + a bucket.
    ///
    /// `--to` moves this data directory's install (server stopped) into an empty PostgreSQL
    /// database, and with `--objects` its objects into an empty bucket prefix. `--from` moves an
    /// install back from PostgreSQL (and with `--objects-from` its bucket) into this data
    /// directory, which must be empty. Both sides get this version's migrations first and must
    /// then stand at the same schema version; everything is verified (row counts, object
    /// checksums) before the target's one transaction commits. Vault entries move sealed: the
    /// install on the other side needs the same vault key. The bucket's endpoint, region and path
    /// style are the --object-store-* options; its credentials come from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
    MigrateData(MigrateDataArgs),
    /// Print the version and the database schema version.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user (and its tenant if new).
    CreateUser {
        #[arg(long)]
        email: String,
        /// Password; read from standard input when omitted.
        #[arg(long)]
        password: Option<String>,
        /// Roles to grant besides `api`; repeat for several.
        #[arg(long = "role", value_enum, default_values_t = [RoleArg::Api])]
        roles: Vec<RoleArg>,
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Make a user the installation operator: may rotate the vault key and whatever else
    /// spans every tenant. Only this command grants it; no API does.
    GrantOperator {
        #[arg(long)]
        email: String,
        /// The user's tenant; needed when users of several tenants have the email.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Take the installation operator flag from a user.
    RevokeOperator {
        #[arg(long)]
        email: String,
        /// The user's tenant; needed when users of several tenants have the email.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Set a user's password and end all of their sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// The user's tenant; needed when users of several tenants have the email.
        #[arg(long)]
        tenant: Option<String>,
        /// Password; read from standard input when omitted.
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Generate a new master key and re-encrypt every secret with it (server stopped).
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Where to write the new key when the current one comes from BOTMOX_VAULT_KEY.
    #[arg(long, value_name = "FILE")]
    pub new_key_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("direction").required(true).args(["to", "from"])))]
pub struct MigrateDataArgs {
    /// Copy this data directory's install into this empty PostgreSQL database.
    #[arg(long, value_name = "POSTGRES_URL", help_heading = "Moving data")]
    pub to: Option<String>,
    /// With --to: copy the install's objects into this empty bucket prefix.
    #[arg(long, value_name = "S3_URL", requires = "to", help_heading = "Moving data")]
    pub objects: Option<String>,
    /// Copy the install in this PostgreSQL database into this (empty) data directory.
    #[arg(long, value_name = "POSTGRES_URL", help_heading = "Moving data")]
    pub from: Option<String>,
    /// With --from: copy the objects of this bucket prefix into the data directory.
    #[arg(long, value_name = "S3_URL", requires = "from", help_heading = "Moving data")]
    pub objects_from: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Api,
    Admin,
    Infra,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Api => Role::Api,
            RoleArg::Admin => Role::Admin,
            RoleArg::Infra => Role::Infra,
        }
    }
}
