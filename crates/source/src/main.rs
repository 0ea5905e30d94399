//! `zendesk-source`: syncs a Zendesk account into a warehouse.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use zendesk_source::config::{choose_auth, validate_schema, zendesk_base_url, RateLimits, RetryPolicy};
use zendesk_source::progress::Progress;
use zendesk_source::SyncConfig;

/// Syncs Zendesk Support objects into a warehouse (SQLite or PostgreSQL).
///
/// With no Zendesk given it syncs from the local fake Zendesk
/// (http://127.0.0.1:4010, `npm start`) with its demo token.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pull every collection from where the last sync stopped and upsert it into the warehouse.
    Sync(SyncArgs),
}

#[derive(Args)]
struct SyncArgs {
    /// Your Zendesk subdomain: `acme` for https://acme.zendesk.com.
    #[arg(long, env = "ZENDESK_SUBDOMAIN")]
    subdomain: Option<String>,
    /// A full Zendesk base URL instead of a subdomain (e.g. the fake Zendesk).
    #[arg(long, env = "ZENDESK_URL", conflicts_with = "subdomain")]
    url: Option<String>,
    /// OAuth access token (recommended; needs the `read` scope).
    #[arg(long, env = "ZENDESK_OAUTH_TOKEN", hide_env_values = true)]
    oauth_token: Option<String>,
    /// Agent email, with --api-token, instead of an OAuth token.
    #[arg(long, env = "ZENDESK_EMAIL")]
    email: Option<String>,
    /// API token for --email.
    #[arg(long, env = "ZENDESK_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// A SQLite file, or a PostgreSQL URL (postgres://user:password@host/db).
    #[arg(long, env = "ZENDESK_SOURCE_WAREHOUSE", default_value = "zendesk-warehouse.sqlite", hide_env_values = true)]
    warehouse: String,
    /// Schema the tables go in (PostgreSQL schema; SQLite table prefix `{schema}_`).
    #[arg(long, default_value = "zendesk")]
    schema: String,
    /// How far back the first sync reaches (tickets, users, organizations, ticket events, ratings).
    #[arg(long, default_value = "365days", value_parser = humantime::parse_duration)]
    initial_lookback: Duration,
    /// Each sync re-reads satisfaction ratings created this long before the newest one synced,
    /// to pick up ratings changed after they were first synced.
    #[arg(long, default_value = "30days", value_parser = humantime::parse_duration)]
    satisfaction_lookback: Duration,
    /// Core API requests per minute (Zendesk plan limits: Team 200, Growth/Professional 400, Enterprise 700).
    #[arg(long, default_value_t = 200)]
    core_rpm: u32,
    /// Incremental export requests per minute (10, or 30 with the High Volume API add-on).
    #[arg(long, default_value_t = 10)]
    export_rpm: u32,
    /// Run again on this interval (e.g. 3h) instead of once.
    #[arg(long, value_parser = humantime::parse_duration)]
    every: Option<Duration>,
    /// The rate-limit window (tests shorten it).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, hide = true)]
    rate_window: Duration,
    /// First retry delay after a 5xx (doubles each time).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, hide = true)]
    retry_base: Duration,
    /// Records per incremental export page (Zendesk's maximum is 1000).
    #[arg(long, default_value_t = 1000, hide = true)]
    export_page_size: u32,
    /// Records per list page (Zendesk's maximum is 100).
    #[arg(long, default_value_t = 100, hide = true)]
    list_page_size: u32,
}

fn config(args: &SyncArgs) -> anyhow::Result<SyncConfig> {
    let base = zendesk_base_url(args.subdomain.as_deref(), args.url.as_deref())?;
    let auth = choose_auth(&base, args.oauth_token.clone(), args.email.clone(), args.api_token.clone())?;
    let mut config = SyncConfig::new(base, auth, args.warehouse.clone());
    config.schema = validate_schema(&args.schema)?;
    config.initial_lookback = args.initial_lookback;
    config.satisfaction_lookback = args.satisfaction_lookback;
    config.limits = RateLimits::new(args.core_rpm, args.export_rpm, args.rate_window)?;
    config.retry = RetryPolicy { base: args.retry_base, ..RetryPolicy::default() };
    config.export_page_size = args.export_page_size.clamp(1, 1000);
    config.list_page_size = args.list_page_size.clamp(1, 100);
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let Command::Sync(args) = Cli::parse().command;
    let config = config(&args)?;
    let Some(every) = args.every else {
        let progress = Progress::auto();
        let summary = zendesk_source::run(&config, &progress).await.context("sync failed")?;
        progress.done();
        println!("{}", summary.render());
        if summary.failed() {
            anyhow::bail!("some collections failed; the next sync resumes where they stopped");
        }
        return Ok(());
    };
    // On an interval, a failed run (Zendesk or the warehouse unreachable) is
    // reported and the schedule goes on: the next run resumes from the saved state.
    // Once awaited, Ctrl-C no longer stops the process by itself, so every run
    // races it too. Stopping mid-run loses nothing: each page commits atomically
    // with its position, and the next sync resumes there.
    loop {
        let progress = Progress::auto();
        let outcome = tokio::select! {
            outcome = zendesk_source::run(&config, &progress) => outcome,
            _ = tokio::signal::ctrl_c() => {
                progress.done();
                tracing::info!("interrupted: the pages committed so far are kept; the next sync resumes after them");
                return Ok(());
            }
        };
        progress.done();
        match outcome {
            Ok(summary) => println!("{}", summary.render()),
            Err(e) => tracing::error!(error = %e, "sync failed; retrying at the next interval"),
        }
        tracing::info!(next_in = %humantime::format_duration(every), "next sync scheduled");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}
