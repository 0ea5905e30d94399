//! `zendesk-proxy`: the binary an operator deploys.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use zendesk_proxy::config::{Config, ZendeskAuth};

/// Receives analytics events (Segment's HTTP API) from the zendesk-analytics
/// browser SDK or any Segment library, stores them durably, and delivers them
/// to Zendesk. Zendesk credentials stay here: browsers never see them.
///
/// With no options it runs the demo setup against a fake Zendesk on
/// http://127.0.0.1:4010 (start it with `zendesk-fake`).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "PROXY_ADDR", default_value = "127.0.0.1:8787")]
    listen: String,
    /// SQLite file for the durable queue (created if missing).
    #[arg(long, env = "PROXY_DATABASE", default_value = "zendesk-proxy.db")]
    database: PathBuf,
    /// Your Zendesk subdomain: {subdomain}.zendesk.com.
    #[arg(long, env = "ZENDESK_SUBDOMAIN", default_value = "demo")]
    subdomain: String,
    /// Zendesk base URL; defaults to the fake Zendesk for the demo. For a real
    /// account, use https://{subdomain}.zendesk.com.
    #[arg(long, env = "ZENDESK_URL", default_value = "http://127.0.0.1:4010")]
    zendesk_url: String,
    /// OAuth access token (recommended: Zendesk retires API tokens on 2027-04-30).
    #[arg(long, env = "ZENDESK_OAUTH_TOKEN", hide_env_values = true)]
    oauth_token: Option<String>,
    /// Agent email, with --api-token.
    #[arg(long, env = "ZENDESK_EMAIL")]
    email: Option<String>,
    /// API token, with --email.
    #[arg(long, env = "ZENDESK_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Refused: Zendesk removed password access. Present only to explain that.
    #[arg(long, env = "ZENDESK_PASSWORD", hide = true, hide_env_values = true)]
    password: Option<String>,
    /// Write keys clients may send with (comma-separated).
    #[arg(long, env = "WRITE_KEYS", value_delimiter = ',', default_value = "demo-write-key")]
    write_keys: Vec<String>,
    /// Demo mode: use the fake Zendesk's demo OAuth token when no credentials are given.
    #[arg(long, env = "PROXY_DEMO", default_value_t = true, action = clap::ArgAction::Set)]
    demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let no_credentials = args.oauth_token.is_none() && args.email.is_none() && args.password.is_none();
    let oauth_token = if args.demo && no_credentials {
        Some("demo-oauth-token".to_owned())
    } else {
        args.oauth_token
    };
    let zendesk_auth = ZendeskAuth::from_parts(oauth_token, args.email, args.api_token, args.password)?;
    let config = Config {
        database: args.database,
        zendesk_url: args.zendesk_url,
        zendesk_auth,
        write_keys: args.write_keys.into_iter().filter(|k| !k.is_empty()).collect(),
        settings: Config::zendesk_settings(&args.subdomain),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}; set PROXY_ADDR to a free address", args.listen))?;
    // Tests and scripts read this line to learn the address.
    println!("zendesk-proxy listening on http://{}", listener.local_addr()?);
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
