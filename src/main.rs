use std::process::ExitCode;

use botmox::cli::{AdminCommand, Cli, Command, VaultCommand};
use botmox::config::Config;
use botmox::{db, ops, startup, telemetry};
use clap::Parser;

fn main() -> ExitCode {
    tune_the_allocator();
    keep_new_files_private();
    let cli = Cli::parse();
    let config = match Config::resolve(cli.data_dir, cli.settings) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config, cli.command.unwrap_or(Command::Serve), cli.demo) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config, command: Command, demo: bool) -> anyhow::Result<()> {
    let print = |message: String| println!("{message}");
    match command {
        Command::Serve => {
            telemetry::init(&config);
            runtime()?.block_on(async {
                let server = startup::build(config, demo).await?;
                server.run().await
            })
        }
        Command::Config => {
            print!("{}", config.to_toml());
            Ok(())
        }
        Command::Migrate if config.database_url.is_some() => {
            let url = config.database_url.as_ref().expect("just matched");
            let mut client = postgres::Client::connect(url.expose(), postgres::NoTls)
                .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", url.shown()))?;
            db::pg::migrate(&mut client)?;
            let version = db::schema_version(&db::sql::Pg::new(&mut client))?;
            print(format!("PostgreSQL database at schema version {version}"));
            Ok(())
        }
        Command::Migrate => {
            let dir = botmox::datadir::DataDir::new(&config.data_dir);
            dir.create()?;
            let mut conn = db::open_connection(&dir.db_path(), false)?;
            db::migrate(&mut conn)?;
            print(format!("database at schema version {}", db::schema_version(&conn)?));
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser {
            email,
            password,
            roles,
            tenant,
        }) => {
            let roles = roles.into_iter().map(Into::into).collect();
            ops::users::create_user(&config, &email, password, roles, &tenant).map(print)
        }
        Command::Admin(AdminCommand::GrantOperator { email, tenant }) => {
            ops::users::set_operator(&config, &email, tenant.as_deref(), true).map(print)
        }
        Command::Admin(AdminCommand::RevokeOperator { email, tenant }) => {
            ops::users::set_operator(&config, &email, tenant.as_deref(), false).map(print)
        }
        Command::Admin(AdminCommand::ResetPassword {
            email,
            tenant,
            password,
        }) => ops::users::reset_password(&config, &email, tenant.as_deref(), password).map(print),
        Command::Backup { file } => runtime()?.block_on(ops::backup::backup(&config, &file)).map(print),
        Command::Restore { file, force } => ops::backup::restore(&config, &file, force).map(print),
        Command::Vault(VaultCommand::Rotate(args)) => ops::vault::rotate(&config, &args).map(print),
        Command::MigrateData(args) => ops::migrate_data::run(&config, &args).map(print),
        Command::Version => {
            print(format!("botmox {}", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
    }
}

/// glibc's malloc, set up for a long-running server that should idle small
/// (`docs/benchmarks.md`, "Round two"):
/// - Each password hash allocates 19 MiB. glibc would otherwise raise its mmap threshold after
///   the first such free and keep later ones in its heaps for good, so a few sign-ins would
///   hold tens of MB; with a fixed threshold, every large block goes back to the OS when freed.
/// - One arena per core instead of eight: every thread that meets contention gets an arena of
///   its own, and memory freed in one is never reused by another (10,000 idle agent sockets
///   held 8 MB less).
fn tune_the_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: mallopt only sets allocator tunables; called once, before any thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            libc::mallopt(libc::M_ARENA_MAX, i32::try_from(cores).unwrap_or(i32::MAX));
        }
    }
}

/// Everything the process creates (database, WAL, objects, key file, backups) holds secrets
/// or their hashes: files 0600 and directories 0700, with or without systemd's `UMask=`.
fn keep_new_files_private() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
