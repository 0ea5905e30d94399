//! `zendesk-proxy`: the binary an operator deploys.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use zendesk_proxy::config::{env_overrides, write_key_list, Config, LogFormat};
use zendesk_proxy::deadletters;
use zendesk_proxy::queue::{self, Queue};

/// Receives analytics events (Segment's HTTP Tracking API) from the
/// zendesk-analytics browser SDK or any Segment library, stores each one on
/// disk before answering, and delivers it to Zendesk. Zendesk credentials
/// stay here: browsers never see them.
///
/// With no options it runs the demo: write key `demo-write-key`, the fake
/// Zendesk at http://127.0.0.1:4010 (start it with `zendesk-fake`), listening
/// on http://127.0.0.1:8787.
///
/// For a real account, write a TOML file and pass it with --config:
///
///   [zendesk]
///   subdomain = "acme"                 # https://acme.zendesk.com
///   oauth_token = "…"                  # or email = "…" + api_token = "…"
///
///   [delivery]
///   requests_per_minute = 200          # your plan's API limit
///   bulk_import = false                # only if Zendesk enabled it for you
///
///   [write_keys."your-write-key"]
///   allowed_origins = ["https://www.acme.com"]
///   identity_secret = "…"              # optional: require context.userHash
///
///   [write_keys."your-write-key".settings.zendesk]
///   subdomain = "acme"
///
/// Every key can also be set by environment: ZENDESK_PROXY_<TABLE>__<KEY>
/// (e.g. ZENDESK_PROXY_DELIVERY__REQUESTS_PER_MINUTE=400), and the short
/// names PROXY_ADDR, PROXY_DATABASE, PROXY_LOG_FORMAT (text|json), ZENDESK_URL, ZENDESK_SUBDOMAIN,
/// ZENDESK_OAUTH_TOKEN, ZENDESK_EMAIL, ZENDESK_API_TOKEN,
/// ZENDESK_REQUESTS_PER_MINUTE, ZENDESK_BULK_IMPORT, CONNECT_URL,
/// CONNECT_API_KEY and WRITE_KEYS (comma-separated). Flags win over the
/// environment, which wins over the file.
///
/// Endpoints: POST /v1/batch, /v1/{identify,track,group,alias,page,screen}
/// (and /v1/{b,i,t,g,a,p,s}), GET /v1/projects/{writeKey}/settings,
/// /healthz, /metrics (Prometheus).
#[derive(Parser)]
#[command(version, verbatim_doc_comment)]
struct Args {
    /// TOML configuration file (see above).
    #[arg(long, short, env = "ZENDESK_PROXY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port. The chosen address is
    /// printed as the first line of stdout. [env: PROXY_ADDR]
    #[arg(long)]
    listen: Option<String>,
    /// The durable queue: a SQLite file (created if missing) for one
    /// instance, or a postgres://user:password@host/db URL shared by several
    /// instances behind a load balancer. [env: PROXY_DATABASE]
    #[arg(long)]
    database: Option<PathBuf>,
    /// Zendesk base URL (default: the fake on http://127.0.0.1:4010 for the
    /// demo subdomain, else https://{subdomain}.zendesk.com). [env: ZENDESK_URL]
    #[arg(long)]
    zendesk_url: Option<String>,
    /// Write keys clients may send with, comma-separated (added to those in
    /// the file, with default settings). [env: WRITE_KEYS]
    #[arg(long)]
    write_keys: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy (the default).
    Serve,
    /// Events that could not be delivered, with Zendesk's reason.
    #[command(subcommand)]
    DeadLetters(DeadLetters),
}

#[derive(Subcommand)]
enum DeadLetters {
    /// Print every dead letter as one JSON object per line.
    List,
    /// Put dead letters back in the queue (all, or the given message ids);
    /// a running proxy picks them up within seconds.
    Replay {
        /// Message ids to replay; none = all.
        message_ids: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut overrides = env_overrides(std::env::vars());
    let flags = [
        ("listen", args.listen.clone()),
        ("database", args.database.as_ref().map(|p| p.display().to_string())),
        ("zendesk.url", args.zendesk_url.clone()),
    ];
    overrides.extend(flags.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))));
    if let Some(keys) = &args.write_keys {
        overrides.extend(write_key_list(keys));
    }
    let config = Config::load(args.config.as_deref(), &overrides)?;
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::DeadLetters(command) => {
            let queue = Queue::open(&config.database)
                .with_context(|| format!("cannot open the queue {}", queue::display_location(&config.database)))?;
            match command {
                DeadLetters::List => {
                    let n = deadletters::list(&queue, &mut std::io::stdout().lock())?;
                    eprintln!("{n} dead letter(s) in {}", queue::display_location(&config.database));
                }
                DeadLetters::Replay { message_ids } => {
                    let n = deadletters::replay(&queue, &message_ids)?;
                    println!("{n} event(s) moved back to the queue");
                }
            }
            Ok(())
        }
    }
}

#[tokio::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}; set PROXY_ADDR or --listen to a free address", config.listen))?;
    // Tests and scripts read this line to learn the address.
    println!("zendesk-proxy listening on http://{}", listener.local_addr()?);
    tracing::info!(zendesk = %config.zendesk_url, write_keys = config.write_keys.len(), database = %queue::display_location(&config.database), "started");
    zendesk_proxy::serve(config, listener, shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
