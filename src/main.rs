//! `tsudoi` — serve (default), or `tsudoi demo --events N` to bulk-add generated events.

use tsudoi::server::config::Config;

const USAGE: &str = "\
Usage:
  tsudoi [--demo]                  serve on LEPTOS_SITE_ADDR (default 127.0.0.1:3000)
  tsudoi demo --events N [--seed S] add N generated events to DATABASE_URL and exit

Environment: DATABASE_URL (default sqlite://tsudoi.db; or postgres://…), TSUDOI_DEMO=1 (same as --demo),
LEPTOS_SITE_ADDR, RUST_LOG, TSUDOI_NOW (start the clock at another instant: RFC 3339 or YYYY-MM-DD).";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,leptos_i18n=warn".into()),
        )
        .init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--demo") if args.len() <= 1 => {
            tsudoi::server::startup::run(Config::from_env(!args.is_empty())?).await
        }
        Some("demo") => {
            let mut events: Option<usize> = None;
            let mut seed: u64 = 1;
            let mut it = args.iter().skip(1);
            while let Some(flag) = it.next() {
                let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value\n\n{USAGE}"))?;
                match flag.as_str() {
                    "--events" => events = Some(value.parse().map_err(|_| anyhow::anyhow!("--events takes a number"))?),
                    "--seed" => seed = value.parse().map_err(|_| anyhow::anyhow!("--seed takes a number"))?,
                    other => anyhow::bail!("unknown option {other}\n\n{USAGE}"),
                }
            }
            let events = events.ok_or_else(|| anyhow::anyhow!("demo needs --events N\n\n{USAGE}"))?;
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
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => anyhow::bail!("unknown arguments: {}\n\n{USAGE}", args.join(" ")),
    }
}
