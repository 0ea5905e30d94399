//! `zendesk-fake`: serves the fake Zendesk Support API on 127.0.0.1.

use std::time::Duration;

use clap::Parser;
use zendesk_fake::{AccountSpec, Credentials, FakeZendesk};

/// A fake Zendesk Support API (in memory) for the demo and the end-to-end tests.
///
/// Faults can also be changed while it runs: `POST /__fake/faults` (see the
/// crate docs), and `GET /__fake/requests` lists what it answered.
///
/// It accepts exactly the configured credentials, as
/// `Authorization: Basic base64("{email}/token:{api_token}")` or
/// `Authorization: Bearer {oauth_token}` (an admin's), or
/// `Authorization: Bearer {agent_oauth_token}` (an agent's: 403 on the
/// admin-only exports and ratings), and answers 401 to anything else.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "ZENDESK_FAKE_ADDR", default_value = "127.0.0.1:4010")]
    listen: String,
    /// Agent email accepted with the API token.
    #[arg(long, env = "ZENDESK_FAKE_EMAIL", default_value = "agent@example.com")]
    email: String,
    /// API token accepted for the agent email.
    #[arg(long, env = "ZENDESK_FAKE_API_TOKEN", default_value = "demo-token")]
    api_token: String,
    /// OAuth access token accepted as a Bearer token.
    #[arg(long, env = "ZENDESK_FAKE_OAUTH_TOKEN", default_value = "demo-oauth-token")]
    oauth_token: String,
    /// OAuth access token of a non-admin agent, refused by admin-only endpoints.
    #[arg(long, env = "ZENDESK_FAKE_AGENT_OAUTH_TOKEN", default_value = "demo-agent-oauth-token")]
    agent_oauth_token: String,
    /// Zendesk Connect (Outbound) key accepted as `X-Outbound-Key`.
    #[arg(long, env = "ZENDESK_FAKE_CONNECT_KEY", default_value = "demo-connect-key")]
    connect_key: String,
    /// The account's Core API requests per minute (Zendesk: 200 to 2,500 by
    /// plan); 0 for no limit.
    #[arg(long, env = "ZENDESK_FAKE_CORE_RPM", default_value_t = 0)]
    core_rpm: usize,
    /// Answer 403 to create_or_update_many, as accounts without bulk import do.
    #[arg(long, env = "ZENDESK_FAKE_NO_BULK_IMPORT")]
    no_bulk_import: bool,
    /// Share of requests (0–1) answered 503, spread evenly.
    #[arg(long, env = "ZENDESK_FAKE_ERROR_RATE", default_value_t = 0.0)]
    error_rate: f64,
    /// Milliseconds a new user stays out of search results (Zendesk indexes
    /// new users for search up to a few minutes late).
    #[arg(long, env = "ZENDESK_FAKE_SEARCH_LAG_MS", default_value_t = 0)]
    search_lag_ms: u64,
    /// Milliseconds added before every answer.
    #[arg(long, env = "ZENDESK_FAKE_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Start with a generated account of this many tickets (plus users,
    /// organizations, groups, history, ratings, activities in proportion).
    #[arg(long, env = "ZENDESK_FAKE_GENERATE_TICKETS", default_value_t = 0)]
    generate_tickets: usize,
    /// Seed of the generated account (same seed, same account).
    #[arg(long, env = "ZENDESK_FAKE_SEED", default_value_t = 1)]
    seed: u64,
    /// Incremental export requests allowed per minute (Zendesk: 10); 0 for no limit.
    #[arg(long, env = "ZENDESK_FAKE_EXPORT_RPM", default_value_t = 10)]
    export_rpm: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let fake = FakeZendesk::new(Credentials {
        email: args.email,
        api_token: args.api_token,
        oauth_token: args.oauth_token,
        agent_oauth_token: args.agent_oauth_token,
        connect_key: args.connect_key,
    });
    fake.set_bulk_import(!args.no_bulk_import);
    fake.set_error_rate(args.error_rate);
    fake.set_latency(Duration::from_millis(args.latency_ms));
    fake.set_search_lag(Duration::from_millis(args.search_lag_ms));
    if args.core_rpm > 0 {
        fake.limit_core(args.core_rpm, Duration::from_secs(60));
    }
    if args.generate_tickets > 0 {
        let made = fake.generate_account(AccountSpec { tickets: args.generate_tickets, seed: args.seed });
        tracing::info!(?made, "generated account");
    }
    if args.export_rpm > 0 {
        fake.limit_exports(args.export_rpm, Duration::from_secs(60));
    }
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    // Tests and scripts read this line to learn the address.
    println!("zendesk-fake listening on http://{}", listener.local_addr()?);
    axum::serve(listener, fake.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
