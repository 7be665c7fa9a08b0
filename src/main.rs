//! `tsudoi` — serve (the default), add generated events, back up and restore.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tsudoi::server::config::Config;

const ENVIRONMENT: &str = "\
Environment: DATABASE_URL (default sqlite://tsudoi.db; or postgres://…), TSUDOI_DEMO=1 (same as --demo),
LEPTOS_SITE_ADDR, RUST_LOG, TSUDOI_LOG_FORMAT=json, TSUDOI_NOW (start the clock at another instant: RFC 3339 or YYYY-MM-DD);
the README lists every setting.";

#[derive(Parser)]
#[command(name = "tsudoi", version, about = "Tsudoi (集い): a self-hosted tech-community event platform")]
#[command(after_help = ENVIRONMENT)]
struct Cli {
    /// Serve with the demo data (loaded into an empty database first)
    #[arg(long)]
    demo: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve on LEPTOS_SITE_ADDR (default 127.0.0.1:3000); the default command
    #[command(after_help = ENVIRONMENT)]
    Serve {
        /// Serve with the demo data (loaded into an empty database first)
        #[arg(long)]
        demo: bool,
    },
    /// Add generated events to the database (the demo data first when it is empty), then exit
    Demo {
        /// How many events to add
        #[arg(long)]
        events: usize,
        /// Seed of the generator (the same seed gives the same events)
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Write a consistent copy of the live SQLite database to PATH while Tsudoi serves
    Backup {
        /// A new file (never overwritten); with --every, a directory for the snapshots
        path: PathBuf,
        /// Keep taking snapshots into the directory PATH at this interval (15m, 1h, 1d), until stopped
        #[arg(long)]
        every: Option<String>,
        /// With --every: how many snapshots to keep (the oldest are deleted)
        #[arg(long, default_value_t = 24, requires = "every")]
        keep: usize,
    },
    /// Replace the SQLite database with the backup at PATH (refused while Tsudoi runs)
    Restore {
        /// A file written by `tsudoi backup`
        path: PathBuf,
    },
    /// Accounts, for the operator
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Site administrators: who may work the moderation queue (/admin/moderation)
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make the account NICKNAME a site administrator
    Grant { nickname: String },
    /// Take the role away from NICKNAME
    Revoke { nickname: String },
    /// List the site administrators
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Print a one-time link (valid for an hour) that sets a new password for NICKNAME: for
    /// sites without SMTP, to hand to the person over a channel you trust
    ResetPassword {
        /// The account's nickname
        nickname: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,sqlx=warn,leptos_i18n=warn".into())
    };
    // TSUDOI_LOG_FORMAT=json: one JSON object per line, with the request's span (method,
    // path, request_id) on every line logged while serving it.
    match tsudoi::server::config::log_format_from(std::env::var("TSUDOI_LOG_FORMAT").ok().as_deref())? {
        tsudoi::server::config::LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .init(),
        tsudoi::server::config::LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter()).init(),
    }
    let cli = Cli::parse();
    match cli.command {
        None => tsudoi::server::startup::run(Config::from_env(cli.demo)?).await,
        Some(Command::Serve { demo }) => tsudoi::server::startup::run(Config::from_env(demo || cli.demo)?).await,
        Some(Command::Demo { events, seed }) => {
            let config = Config::from_env(true)?;
            let started = std::time::Instant::now();
            let store = tsudoi::server::store::connect(&config.database_url).await?;
            if store.is_empty().await? {
                let hash = tsudoi::server::password::hash(tsudoi::server::startup::DEMO_PASSWORD.into()).await?;
                tsudoi::demo::load_demo(&store, tsudoi::time::now(), &hash).await?;
            }
            let added = tsudoi::demo::add_generated_events(&store, events, tsudoi::time::now(), seed).await?;
            println!("added {added} events to {} in {:.1?}", config.database_url, started.elapsed());
            Ok(())
        }
        Some(Command::Backup { path, every: Some(every), keep }) => {
            let config = Config::from_env(false)?;
            let every = tsudoi::server::backup::parse_every(&every).map_err(anyhow::Error::msg)?;
            eprintln!("a snapshot into {} every {every:?}, keeping {keep}; Ctrl-C stops", path.display());
            tsudoi::server::backup::backup_every(&config.database_url, &path, every, keep).await
        }
        Some(Command::Backup { path, every: None, .. }) => {
            let config = Config::from_env(false)?;
            let report = tsudoi::server::backup::backup(&config.database_url, &path).await?;
            println!(
                "backed up {} to {} ({} bytes, {:.1?}; integrity checked)",
                config.database_url,
                report.path.display(),
                report.bytes,
                report.elapsed
            );
            Ok(())
        }
        Some(Command::User { command: UserCommand::ResetPassword { nickname } }) => {
            let config = Config::from_env(false)?;
            let store = tsudoi::server::store::connect(&config.database_url).await?;
            let Some((user_id, nickname)) = store.reset_recipient_by_nickname(&nickname).await? else {
                anyhow::bail!("no account with the nickname {nickname:?}");
            };
            let link = tsudoi::accounts::reset::issue(&store, &config.public_url, user_id, tsudoi::time::now()).await?;
            store.close().await;
            println!("{link}");
            eprintln!(
                "a one-time link for @{nickname}, valid for an hour; setting the password ends every session of the account"
            );
            Ok(())
        }
        Some(Command::Admin { command }) => {
            let config = Config::from_env(false)?;
            let store = tsudoi::server::store::connect(&config.database_url).await?;
            let result = match command {
                AdminCommand::Grant { nickname } => {
                    store.set_site_admin(&nickname, true).await.map(|id| (id, nickname, true))
                }
                AdminCommand::Revoke { nickname } => {
                    store.set_site_admin(&nickname, false).await.map(|id| (id, nickname, false))
                }
                AdminCommand::List => {
                    let admins = store.site_admins().await?;
                    store.close().await;
                    if admins.is_empty() {
                        eprintln!("no site administrators yet: tsudoi admin grant NICKNAME");
                    }
                    for a in admins {
                        println!("{a}");
                    }
                    return Ok(());
                }
            };
            store.close().await;
            match result? {
                (None, nickname, _) => anyhow::bail!("no account with the nickname {nickname:?}"),
                (Some(_), nickname, true) => println!("@{nickname} is a site administrator: /admin/moderation"),
                (Some(_), nickname, false) => println!("@{nickname} is no longer a site administrator"),
            }
            Ok(())
        }
        Some(Command::Restore { path }) => {
            let config = Config::from_env(false)?;
            let target = tsudoi::server::backup::restore(&config.database_url, &path).await?;
            println!("restored {} from {}; start Tsudoi to serve it", target.display(), path.display());
            Ok(())
        }
    }
}
