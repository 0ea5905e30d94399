//! The proxy's configuration: one TOML file, every key also settable by
//! environment, then resolved into a [`Config`] the server runs with.
//!
//! Precedence, lowest first: built-in demo defaults, the TOML file
//! (`--config`), `ZENDESK_PROXY_*` variables (`ZENDESK_PROXY_ZENDESK__URL` sets
//! `zendesk.url`: `__` separates table levels), the short legacy variables
//! (`PROXY_ADDR`, `ZENDESK_URL`, …), then command-line flags.
//!
//! Secrets are held in [`Secret`], whose `Debug` and `Display` print
//! `<redacted>`, so a config dump in a log line can never leak one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use thiserror::Error;
use zendesk_analytics_core::{Settings, ZendeskSettings};

/// The fake Zendesk's address: the demo default, and the only URL for which
/// the demo OAuth token is filled in when no credentials are configured.
pub const DEMO_ZENDESK_URL: &str = "http://127.0.0.1:4010";
pub const DEMO_OAUTH_TOKEN: &str = "demo-oauth-token";
pub const DEMO_WRITE_KEY: &str = "demo-write-key";

/// A credential. Printing it in any form shows `<redacted>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a write key is named in logs and dead-letter reasons: the start of
/// its SHA-256 (`printf %s KEY | sha256sum`), which tells an operator which
/// key it is without giving it away — server-side keys are credentials.
pub fn write_key_fingerprint(write_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(write_key.as_bytes()));
    format!("sha256:{}", &digest[..12])
}

/// How the proxy authenticates to Zendesk.
#[derive(Clone, Debug)]
pub enum ZendeskAuth {
    /// `Authorization: Bearer {token}`: the primary form (Zendesk retires API
    /// tokens on 2027-04-30).
    OAuth { access_token: Secret },
    /// `Authorization: Basic base64("{email}/token:{token}")`.
    ApiToken { email: String, token: Secret },
}

impl ZendeskAuth {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            ZendeskAuth::OAuth { access_token } => format!("Bearer {}", access_token.expose()),
            ZendeskAuth::ApiToken { email, token } => {
                let raw = format!("{email}/token:{}", token.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
        }
    }
}

/// Why a configuration cannot be used. Messages name the key to fix and never
/// contain a secret.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error(
        "no Zendesk credentials for {url}: set zendesk.oauth_token / ZENDESK_OAUTH_TOKEN (recommended), or zendesk.email and zendesk.api_token (ZENDESK_EMAIL, ZENDESK_API_TOKEN)"
    )]
    MissingCredentials { url: String },
    #[error(
        "Zendesk removed password authentication for the API; create an OAuth access token (or, until 2027-04-30, an API token) and set zendesk.oauth_token / ZENDESK_OAUTH_TOKEN or zendesk.api_token / ZENDESK_API_TOKEN instead of a password"
    )]
    PasswordRefused,
    #[error("zendesk.email is set but zendesk.api_token is not; set both, or use zendesk.oauth_token")]
    MissingApiToken,
    #[error("no write keys configured: add a [write_keys.\"your-key\"] table or set WRITE_KEYS so clients can send events")]
    NoWriteKeys,
    #[error("connect.api_key is missing: the Zendesk Connect destination needs its X-Outbound-Key")]
    MissingConnectKey,
}

/// The file's shape. Every table and key is optional.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: String,
    log_format: LogFormat,
    database: PathBuf,
    zendesk: ZendeskSection,
    connect: Option<ConnectSection>,
    delivery: DeliveryConfig,
    write_keys: BTreeMap<String, WriteKeySection>,
}

impl Default for FileConfig {
    fn default() -> FileConfig {
        FileConfig {
            listen: "127.0.0.1:8787".into(),
            log_format: LogFormat::Text,
            database: "zendesk-proxy.db".into(),
            zendesk: ZendeskSection::default(),
            connect: None,
            delivery: DeliveryConfig::default(),
            write_keys: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ZendeskSection {
    url: Option<String>,
    subdomain: String,
    oauth_token: Option<Secret>,
    email: Option<String>,
    api_token: Option<Secret>,
    password: Option<Secret>,
}

impl Default for ZendeskSection {
    fn default() -> ZendeskSection {
        ZendeskSection {
            url: None,
            subdomain: "demo".into(),
            oauth_token: None,
            email: None,
            api_token: None,
            password: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectSection {
    #[serde(default = "default_connect_url")]
    url: String,
    api_key: Option<Secret>,
}

fn default_connect_url() -> String {
    "https://api.outbound.io".into()
}

/// How delivery to Zendesk behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// The account's plan limit; the token bucket never exceeds it.
    pub requests_per_minute: u32,
    /// Zendesk enables `create_or_update_many` only on request; off by default.
    pub bulk_import: bool,
    /// Identify operations for one user within this window are merged
    /// (0 = every event is delivered on its own).
    pub coalesce_window_ms: u64,
    /// Attempts before a retryable failure (5xx, network) becomes final.
    pub max_attempts: u32,
    /// Seconds to pause on a 429 without `Retry-After` (edge protection).
    pub default_retry_after_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> DeliveryConfig {
        DeliveryConfig {
            requests_per_minute: 200,
            bulk_import: false,
            coalesce_window_ms: 200,
            max_attempts: 12,
            default_retry_after_secs: 60,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WriteKeySection {
    allowed_origins: Option<Vec<String>>,
    identity_secret: Option<Secret>,
    events_per_second: Option<u32>,
    burst: Option<u32>,
    settings: Option<Settings>,
}

/// Everything one write key decides.
#[derive(Debug, Clone)]
pub struct WriteKey {
    /// Origins browsers may send from; `*` allows any (write keys are public,
    /// as with Segment; list origins in production).
    pub allowed_origins: Vec<String>,
    /// With a secret, identify/group/track/alias naming a userId must carry
    /// `context.userHash` = hex HMAC-SHA256(secret, userId).
    pub identity_secret: Option<Secret>,
    /// Sustained ingestion rate for this key.
    pub events_per_second: u32,
    /// Events accepted in a burst above the sustained rate.
    pub burst: u32,
    /// The destination settings the core maps with (served to the SDK).
    pub settings: Settings,
}

impl WriteKey {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == "*" || o.trim_end_matches('/') == origin)
    }
}

/// The Zendesk Connect (Outbound) destination.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    pub url: String,
    pub api_key: Secret,
}

/// How log lines are written (to stderr; stdout carries only the address line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Where the queue lives. Debug output masks a PostgreSQL password.
#[derive(Clone)]
pub struct QueueLocation(pub PathBuf);

impl std::ops::Deref for QueueLocation {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl std::fmt::Debug for QueueLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::queue::display_location(&self.0))
    }
}

/// Everything the running proxy needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub log_format: LogFormat,
    /// The durable queue: a SQLite file, or a `postgres://` URL shared by
    /// several instances.
    pub database: QueueLocation,
    /// `https://{subdomain}.zendesk.com`, or the fake's address.
    pub zendesk_url: String,
    pub zendesk_auth: ZendeskAuth,
    pub connect: Option<ConnectConfig>,
    pub delivery: DeliveryConfig,
    pub write_keys: BTreeMap<String, WriteKey>,
}

/// Where configuration comes from besides the file: the environment and
/// command-line flags, as `(dotted.key, value)` pairs applied in order.
pub type Overrides = Vec<(String, String)>;

/// The short environment names kept from the first releases, and the key
/// each sets.
pub const LEGACY_ENV: &[(&str, &str)] = &[
    ("PROXY_ADDR", "listen"),
    ("PROXY_DATABASE", "database"),
    ("PROXY_LOG_FORMAT", "log_format"),
    ("ZENDESK_URL", "zendesk.url"),
    ("ZENDESK_SUBDOMAIN", "zendesk.subdomain"),
    ("ZENDESK_OAUTH_TOKEN", "zendesk.oauth_token"),
    ("ZENDESK_EMAIL", "zendesk.email"),
    ("ZENDESK_API_TOKEN", "zendesk.api_token"),
    ("ZENDESK_PASSWORD", "zendesk.password"),
    ("ZENDESK_REQUESTS_PER_MINUTE", "delivery.requests_per_minute"),
    ("ZENDESK_BULK_IMPORT", "delivery.bulk_import"),
    ("CONNECT_URL", "connect.url"),
    ("CONNECT_API_KEY", "connect.api_key"),
];

/// The prefix of the generic environment form.
pub const ENV_PREFIX: &str = "ZENDESK_PROXY_";

/// `(dotted.key, value)` pairs from an environment: the generic
/// `ZENDESK_PROXY_A__B` form first, then the legacy names. `WRITE_KEYS`
/// (comma-separated) adds keys with default settings.
pub fn env_overrides(vars: impl IntoIterator<Item = (String, String)>) -> Overrides {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let mut out = Vec::new();
    for (name, value) in &vars {
        // `ZENDESK_PROXY_CONFIG` names the file itself (read by the CLI).
        if let Some(path) = name.strip_prefix(ENV_PREFIX).filter(|p| *p != "CONFIG") {
            // Table and key names are lowercase; write-key names keep their case.
            let parts: Vec<String> = path
                .split("__")
                .enumerate()
                .map(|(i, p)| if i == 1 && path.starts_with("WRITE_KEYS__") { p.to_owned() } else { p.to_lowercase() })
                .collect();
            out.push((parts.join("."), value.clone()));
        }
    }
    for (env, key) in LEGACY_ENV {
        if let Some((_, value)) = vars.iter().find(|(n, _)| n == env) {
            out.push(((*key).to_owned(), value.clone()));
        }
    }
    if let Some((_, keys)) = vars.iter().find(|(n, _)| n == "WRITE_KEYS") {
        out.extend(write_key_list(keys));
    }
    out
}

/// `WRITE_KEYS=a,b` as overrides that create each key's table.
pub fn write_key_list(keys: &str) -> Overrides {
    keys.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| (format!("write_keys.{k}"), String::new()))
        .collect()
}

impl Config {
    /// Reads the file (if any), applies `overrides` and resolves the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Toml { path: path.to_owned(), message: e.message().to_owned() })?
            }
            None => toml::Table::new(),
        };
        for (key, value) in overrides {
            set_path(&mut table, key, value)?;
        }
        let file: FileConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        Config::resolve(file)
    }

    /// Settings for a write key with no `settings` table: Zendesk on, on the
    /// configured subdomain.
    pub fn default_settings(subdomain: &str) -> Settings {
        Settings {
            zendesk: Some(ZendeskSettings { subdomain: subdomain.to_owned(), ..ZendeskSettings::default() }),
            ..Settings::default()
        }
    }

    fn resolve(file: FileConfig) -> Result<Config, ConfigError> {
        let zendesk_url = file.zendesk.url.clone().unwrap_or_else(|| {
            if file.zendesk.subdomain == "demo" {
                DEMO_ZENDESK_URL.to_owned()
            } else {
                format!("https://{}.zendesk.com", file.zendesk.subdomain)
            }
        });
        let zendesk_auth = resolve_auth(&file.zendesk, &zendesk_url)?;
        let connect = match file.connect {
            None => None,
            Some(c) => Some(ConnectConfig {
                url: c.url,
                api_key: c.api_key.filter(|k| !k.is_blank()).ok_or(ConfigError::MissingConnectKey)?,
            }),
        };
        if file.delivery.requests_per_minute == 0 {
            return Err(ConfigError::Invalid("delivery.requests_per_minute must be at least 1".into()));
        }
        let mut sections = file.write_keys;
        if sections.is_empty() {
            sections.insert(DEMO_WRITE_KEY.to_owned(), WriteKeySection::default());
        }
        let write_keys = sections
            .into_iter()
            .filter(|(k, _)| !k.trim().is_empty())
            .map(|(key, s)| {
                let events_per_second = s.events_per_second.unwrap_or(10_000).max(1);
                let write_key = WriteKey {
                    allowed_origins: s.allowed_origins.unwrap_or_else(|| vec!["*".into()]),
                    identity_secret: s.identity_secret.filter(|s| !s.is_blank()),
                    events_per_second,
                    burst: s.burst.unwrap_or(events_per_second.saturating_mul(5)).max(1),
                    settings: s.settings.unwrap_or_else(|| Config::default_settings(&file.zendesk.subdomain)),
                };
                (key, write_key)
            })
            .collect::<BTreeMap<_, _>>();
        if write_keys.is_empty() {
            return Err(ConfigError::NoWriteKeys);
        }
        Ok(Config {
            listen: file.listen,
            log_format: file.log_format,
            database: QueueLocation(file.database),
            zendesk_url,
            zendesk_auth,
            connect,
            delivery: file.delivery,
            write_keys,
        })
    }

    pub fn write_key(&self, key: &str) -> Option<&WriteKey> {
        self.write_keys.get(key)
    }
}

/// OAuth first, then email/token; a password is refused, never used. The demo
/// token is filled in only for a Zendesk on this machine (the fake, on any
/// port): a real account without credentials is an error, not a 401 later.
fn resolve_auth(z: &ZendeskSection, url: &str) -> Result<ZendeskAuth, ConfigError> {
    let present = |s: &Option<Secret>| s.as_ref().is_some_and(|s| !s.is_blank());
    if present(&z.password) {
        return Err(ConfigError::PasswordRefused);
    }
    if let Some(token) = z.oauth_token.clone().filter(|t| !t.is_blank()) {
        return Ok(ZendeskAuth::OAuth { access_token: token });
    }
    let email = z.email.clone().filter(|e| !e.trim().is_empty());
    match (email, z.api_token.clone().filter(|t| !t.is_blank())) {
        (Some(email), Some(token)) => Ok(ZendeskAuth::ApiToken { email, token }),
        (Some(_), None) => Err(ConfigError::MissingApiToken),
        _ if is_loopback(url) => {
            Ok(ZendeskAuth::OAuth { access_token: Secret::new(DEMO_OAUTH_TOKEN) })
        }
        _ => Err(ConfigError::MissingCredentials { url: url.to_owned() }),
    }
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').filter(|(h, port)| !h.is_empty() && port.chars().all(|c| c.is_ascii_digit())).map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Sets `a.b.c = value` in a TOML table. The value is read as TOML when it
/// parses as a scalar or array (`200`, `true`, `["a","b"]`), else as a string;
/// an empty value only creates the table (used by `WRITE_KEYS`).
fn set_path(table: &mut toml::Table, key: &str, value: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().ok_or_else(|| ConfigError::Invalid("empty key".into()))?;
    let mut current = table;
    for part in parents {
        let entry = current.entry((*part).to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::Invalid(format!("{key}: {part} is not a table")))?;
    }
    if value.is_empty() {
        current.entry((*last).to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        return Ok(());
    }
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !v.is_table())
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    current.insert((*last).to_owned(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxy.toml");
        std::fs::write(&path, toml).unwrap();
        let overrides = env_overrides(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Config::load(Some(&path), &overrides)
    }

    #[test]
    fn no_configuration_is_the_demo() {
        let config = Config::load(None, &Vec::new()).unwrap();
        assert_eq!(config.zendesk_url, DEMO_ZENDESK_URL);
        assert_eq!(config.zendesk_auth.header_value(), "Bearer demo-oauth-token");
        assert!(config.write_key(DEMO_WRITE_KEY).is_some());
        assert_eq!(config.delivery.requests_per_minute, 200);
        let on_any_port = load("", &[("ZENDESK_URL", "http://127.0.0.1:39123")]).unwrap();
        assert_eq!(on_any_port.zendesk_auth.header_value(), "Bearer demo-oauth-token");
    }

    #[test]
    fn passwords_are_refused_with_an_explanation() {
        let err = load("[zendesk]\nemail = \"a@b.c\"\npassword = \"hunter2\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("removed password authentication"));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn a_real_account_without_credentials_is_refused() {
        let err = load("[zendesk]\nsubdomain = \"acme\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("https://acme.zendesk.com"), "{err}");
    }

    #[test]
    fn oauth_wins_and_secrets_stay_out_of_debug_output() {
        let config = load(
            "[zendesk]\nsubdomain = \"acme\"\noauth_token = \"s3cret\"\nemail = \"a@b.c\"\napi_token = \"t0k\"\n\
             [write_keys.k1]\nidentity_secret = \"hm4c\"\n",
            &[("database", "postgres://proxy:pg-pa55@db.internal/queue")],
        )
        .unwrap();
        assert_eq!(config.zendesk_auth.header_value(), "Bearer s3cret");
        let dump = format!("{config:?}");
        for secret in ["s3cret", "t0k", "hm4c", "pg-pa55"] {
            assert!(!dump.contains(secret), "{secret} leaked into {dump}");
        }
    }

    #[test]
    fn environment_overrides_the_file_for_every_key() {
        let config = load(
            "[zendesk]\nurl = \"http://x\"\n[delivery]\nrequests_per_minute = 400\n\
             [write_keys.Key-1]\nallowed_origins = [\"https://a.example\"]\n",
            &[
                ("ZENDESK_PROXY_DELIVERY__REQUESTS_PER_MINUTE", "700"),
                ("ZENDESK_PROXY_WRITE_KEYS__Key-1__ALLOWED_ORIGINS", "[\"https://b.example\"]"),
                ("ZENDESK_URL", "http://127.0.0.1:4010"),
                ("WRITE_KEYS", "other-key"),
                ("ZENDESK_PROXY_CONFIG", "/etc/zendesk-proxy.toml"),
            ],
        )
        .unwrap();
        assert_eq!(config.delivery.requests_per_minute, 700);
        assert_eq!(config.zendesk_url, "http://127.0.0.1:4010");
        let key = config.write_key("Key-1").unwrap();
        assert!(key.allows_origin("https://b.example") && !key.allows_origin("https://a.example"));
        assert!(config.write_key("other-key").is_some());
    }

    #[test]
    fn the_example_file_is_a_valid_configuration() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("zendesk-proxy.example.toml");
        let config = Config::load(Some(&path), &Vec::new()).unwrap();
        assert_eq!(config.zendesk_url, "https://acme.zendesk.com");
        assert_eq!(config.delivery.requests_per_minute, 400);
        let web = config.write_key("shop-web").unwrap();
        assert!(web.allows_origin("https://shop.acme.com") && !web.allows_origin("https://evil.example"));
        assert!(web.settings.zendesk.as_ref().is_some_and(|z| z.create_users_as_verified));
        assert!(!config.write_key("backend").unwrap().allows_origin("https://www.acme.com"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = load("[delivery]\nrequests_per_minit = 5\n", &[]).unwrap_err();
        assert!(err.to_string().contains("requests_per_minit"), "{err}");
    }
}
