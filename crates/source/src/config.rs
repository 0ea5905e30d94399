//! What a sync needs to know: where Zendesk is, how to authenticate, where the
//! warehouse is, how far back to start and how fast it may go.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use thiserror::Error;
use url::Url;

/// How the source authenticates to Zendesk. Secrets never appear in `Debug`
/// output, logs or errors.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer {token}`: an OAuth access token, the primary form
    /// (Zendesk retires API tokens on 2027-04-30).
    OAuth { access_token: String },
    /// `Authorization: Basic base64("{email}/token:{token}")`.
    ApiToken { email: String, token: String },
}

impl Auth {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            Auth::OAuth { access_token } => format!("Bearer {access_token}"),
            Auth::ApiToken { email, token } => {
                let raw = format!("{email}/token:{token}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::OAuth { .. } => f.write_str("OAuth(<redacted>)"),
            Auth::ApiToken { email, .. } => write!(f, "ApiToken({email}, <redacted>)"),
        }
    }
}

/// A configuration that cannot be used, with what to do about it.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("no Zendesk credentials for {0}: set ZENDESK_OAUTH_TOKEN (recommended), or ZENDESK_EMAIL and ZENDESK_API_TOKEN")]
    MissingCredentials(String),
    #[error("ZENDESK_EMAIL is set but ZENDESK_API_TOKEN is not: set both, or use ZENDESK_OAUTH_TOKEN")]
    MissingApiToken,
    #[error("`{0}` is not a Zendesk subdomain: give the part before .zendesk.com (letters, digits and -), e.g. --subdomain acme")]
    BadSubdomain(String),
    #[error("`{0}` is not a usable Zendesk URL: {1}")]
    BadUrl(String, String),
    #[error("`{0}` carries credentials: give the URL without them, and the credentials with --oauth-token (ZENDESK_OAUTH_TOKEN), or --email and --api-token")]
    CredentialsInUrl(String),
    #[error("schema name `{0}` is not usable: use lowercase letters, digits and _, starting with a letter or _ (e.g. zendesk_prod)")]
    BadSchema(String),
    #[error("{0} must be at least 1 request per window")]
    ZeroBudget(&'static str),
}

/// Where the Zendesk API is: `https://{subdomain}.zendesk.com`, or any base URL
/// (the fake Zendesk, a test server).
pub fn zendesk_base_url(subdomain: Option<&str>, url: Option<&str>) -> Result<Url, ConfigError> {
    let raw = match (url, subdomain) {
        (Some(url), _) => url.to_string(),
        (None, Some(sub)) => {
            let valid = !sub.is_empty() && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid {
                return Err(ConfigError::BadSubdomain(sub.to_string()));
            }
            format!("https://{sub}.zendesk.com")
        }
        (None, None) => crate::DEMO_URL.to_string(),
    };
    let parsed = Url::parse(&raw).map_err(|e| ConfigError::BadUrl(redact_userinfo(&raw), e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::BadUrl(redact_userinfo(&raw), "use http:// or https://".into()));
    }
    // A password in the URL would be printed wherever the URL is (errors, the
    // start-of-sync log line); credentials have their own, hidden, options.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ConfigError::CredentialsInUrl(redact_userinfo(&raw)));
    }
    Ok(parsed)
}

/// `raw` with whatever precedes `@` in its authority replaced by `***`, for
/// messages and logs; works on text that does not parse as a URL too.
pub fn redact_userinfo(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://").map(|i| i + 3) else { return raw.to_string() };
    let authority_len = raw[scheme_end..].find(['/', '?', '#']).unwrap_or(raw.len() - scheme_end);
    match raw[scheme_end..scheme_end + authority_len].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..scheme_end], &raw[scheme_end + at..]),
        None => raw.to_string(),
    }
}

/// Chooses the credentials. A Zendesk on this machine (the fake Zendesk, by
/// default at http://127.0.0.1:4010) gets the fake's demo token when none is
/// given; a real Zendesk must be given credentials.
pub fn choose_auth(
    base: &Url,
    oauth_token: Option<String>,
    email: Option<String>,
    api_token: Option<String>,
) -> Result<Auth, ConfigError> {
    let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    if let Some(access_token) = present(oauth_token) {
        return Ok(Auth::OAuth { access_token });
    }
    match (present(email), present(api_token)) {
        (Some(email), Some(token)) => Ok(Auth::ApiToken { email, token }),
        (Some(_), None) => Err(ConfigError::MissingApiToken),
        _ if matches!(base.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {
            Ok(Auth::OAuth { access_token: crate::DEMO_TOKEN.into() })
        }
        _ => Err(ConfigError::MissingCredentials(redact_userinfo(base.as_str()))),
    }
}

/// A warehouse schema name, safe to splice into SQL identifiers.
pub fn validate_schema(schema: &str) -> Result<String, ConfigError> {
    let mut chars = schema.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 48 {
        Ok(schema.to_string())
    } else {
        Err(ConfigError::BadSchema(schema.to_string()))
    }
}

/// Request budgets. Zendesk counts Core API calls per account per minute
/// (the seed's default cap is 200) and allows 10 incremental-export calls per
/// minute, which do not count towards the account limit.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub core_per_window: u32,
    pub export_per_window: u32,
    /// One minute against Zendesk; tests shorten it.
    pub window: Duration,
}

impl RateLimits {
    pub fn new(core_per_window: u32, export_per_window: u32, window: Duration) -> Result<RateLimits, ConfigError> {
        if core_per_window == 0 {
            return Err(ConfigError::ZeroBudget("the Core API budget"));
        }
        if export_per_window == 0 {
            return Err(ConfigError::ZeroBudget("the incremental export budget"));
        }
        Ok(RateLimits { core_per_window, export_per_window, window })
    }
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits { core_per_window: 200, export_per_window: 10, window: Duration::from_secs(60) }
    }
}

/// Retries of transient failures (5xx, connection errors): exponential backoff
/// from `base`, capped at one minute.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_attempts: u32,
    /// Used when a 429 carries no usable `Retry-After` (Zendesk's edge
    /// protection sends none).
    pub default_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { base: Duration::from_secs(1), max_attempts: 10, default_retry_after: Duration::from_secs(60) }
    }
}

/// Everything one sync run uses.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub base_url: Url,
    pub auth: Auth,
    /// `postgres://…` / `postgresql://…`, or a SQLite file path.
    pub warehouse: String,
    pub schema: String,
    /// How far back the first sync of a collection starts.
    pub initial_lookback: Duration,
    /// How far before the newest rating already synced each satisfaction
    /// ratings sync starts again: Zendesk filters ratings by creation time, so
    /// this is how late edits to a rating are picked up.
    pub satisfaction_lookback: Duration,
    pub limits: RateLimits,
    pub retry: RetryPolicy,
    /// Records per page asked of the incremental exports (Zendesk's maximum is 1000).
    pub export_page_size: u32,
    /// Records per page asked of cursor-paginated lists (Zendesk's maximum is 100).
    pub list_page_size: u32,
}

impl SyncConfig {
    /// The defaults for one base URL and credentials.
    pub fn new(base_url: Url, auth: Auth, warehouse: impl Into<String>) -> SyncConfig {
        SyncConfig {
            base_url,
            auth,
            warehouse: warehouse.into(),
            schema: "zendesk".into(),
            initial_lookback: Duration::from_secs(365 * 24 * 3600),
            satisfaction_lookback: Duration::from_secs(30 * 24 * 3600),
            limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            export_page_size: 1000,
            list_page_size: 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_becomes_zendesk_url_and_bad_ones_are_refused() {
        let url = zendesk_base_url(Some("acme"), None).unwrap();
        assert_eq!(url.as_str(), "https://acme.zendesk.com/");
        assert!(matches!(zendesk_base_url(Some("acme.zendesk.com/x"), None), Err(ConfigError::BadSubdomain(_))));
        assert_eq!(zendesk_base_url(None, None).unwrap().as_str(), "http://127.0.0.1:4010/");
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_repeating_them() {
        for raw in ["https://agent:hunter2@acme.zendesk.com", "https://agent:hunter2@acme zendesk.com/x"] {
            let e = zendesk_base_url(None, Some(raw)).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains("agent"), "{e}");
            assert!(e.contains("https://***@acme"), "{e}");
        }
    }

    #[test]
    fn real_zendesk_needs_credentials_the_fake_does_not() {
        let real = zendesk_base_url(Some("acme"), None).unwrap();
        assert!(matches!(choose_auth(&real, None, None, None), Err(ConfigError::MissingCredentials(_))));
        assert!(matches!(choose_auth(&real, None, Some("a@b.c".into()), None), Err(ConfigError::MissingApiToken)));
        let auth = choose_auth(&real, None, Some("a@b.c".into()), Some("s3cret".into())).unwrap();
        assert_eq!(auth.header_value(), "Basic YUBiLmMvdG9rZW46czNjcmV0");
        assert!(!format!("{auth:?}").contains("s3cret"));
        let fake = zendesk_base_url(None, None).unwrap();
        assert_eq!(choose_auth(&fake, None, None, None).unwrap().header_value(), "Bearer demo-oauth-token");
        let local = zendesk_base_url(None, Some("http://localhost:9999")).unwrap();
        assert_eq!(choose_auth(&local, None, None, None).unwrap().header_value(), "Bearer demo-oauth-token");
    }

    #[test]
    fn schema_names_are_sql_identifiers() {
        assert!(validate_schema("zendesk_prod").is_ok());
        assert!(validate_schema("Zendesk").is_err());
        assert!(validate_schema("x; drop table t").is_err());
        assert!(validate_schema("").is_err());
    }
}
