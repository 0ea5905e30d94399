//! The proxy's configuration: where it listens, where it keeps the queue, how
//! it reaches Zendesk, and which write keys it accepts.

use std::fmt;
use std::path::PathBuf;

use base64::Engine;
use thiserror::Error;
use zendesk_analytics_core::{Settings, ZendeskSettings};

/// How the proxy authenticates to Zendesk. Secrets never appear in `Debug`
/// output, logs or error bodies.
#[derive(Clone)]
pub enum ZendeskAuth {
    /// `Authorization: Bearer {token}`: the primary form (Zendesk retires API
    /// tokens on 2027-04-30).
    OAuth { access_token: String },
    /// `Authorization: Basic base64("{email}/token:{token}")`.
    ApiToken { email: String, token: String },
}

impl ZendeskAuth {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            ZendeskAuth::OAuth { access_token } => format!("Bearer {access_token}"),
            ZendeskAuth::ApiToken { email, token } => {
                let raw = format!("{email}/token:{token}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
        }
    }
}

impl fmt::Debug for ZendeskAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZendeskAuth::OAuth { .. } => f.write_str("OAuth(<redacted>)"),
            ZendeskAuth::ApiToken { email, .. } => write!(f, "ApiToken({email}, <redacted>)"),
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(
        "no Zendesk credentials: set ZENDESK_OAUTH_TOKEN (recommended), or ZENDESK_EMAIL and ZENDESK_API_TOKEN"
    )]
    MissingCredentials,
    #[error(
        "Zendesk removed password authentication for the API; create an OAuth access token (or, until 2027-04-30, an API token) and set ZENDESK_OAUTH_TOKEN or ZENDESK_API_TOKEN instead of a password"
    )]
    PasswordRefused,
    #[error("ZENDESK_EMAIL is set but ZENDESK_API_TOKEN is not; set both, or use ZENDESK_OAUTH_TOKEN")]
    MissingApiToken,
    #[error("no write keys configured: set WRITE_KEYS (comma-separated) so clients can send events")]
    NoWriteKeys,
}

impl ZendeskAuth {
    /// Chooses the authentication from what the operator provided.
    pub fn from_parts(
        oauth_token: Option<String>,
        email: Option<String>,
        api_token: Option<String>,
        password: Option<String>,
    ) -> Result<ZendeskAuth, ConfigError> {
        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if present(&password) {
            return Err(ConfigError::PasswordRefused);
        }
        if let Some(access_token) = oauth_token.filter(|t| !t.trim().is_empty()) {
            return Ok(ZendeskAuth::OAuth { access_token });
        }
        match (email.filter(|e| !e.trim().is_empty()), api_token.filter(|t| !t.trim().is_empty())) {
            (Some(email), Some(token)) => Ok(ZendeskAuth::ApiToken { email, token }),
            (Some(_), None) => Err(ConfigError::MissingApiToken),
            _ => Err(ConfigError::MissingCredentials),
        }
    }
}

/// Everything the running proxy needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite file holding the durable queue.
    pub database: PathBuf,
    /// `https://{subdomain}.zendesk.com`, or the fake's address.
    pub zendesk_url: String,
    pub zendesk_auth: ZendeskAuth,
    /// Write keys clients may send with.
    pub write_keys: Vec<String>,
    /// The destination settings the core maps with (served to the SDK too).
    pub settings: Settings,
}

impl Config {
    /// The Zendesk base URL for a subdomain.
    pub fn zendesk_url_for(subdomain: &str) -> String {
        format!("https://{subdomain}.zendesk.com")
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.write_keys.is_empty() {
            return Err(ConfigError::NoWriteKeys);
        }
        Ok(())
    }

    pub fn accepts_write_key(&self, key: &str) -> bool {
        self.write_keys.iter().any(|k| k == key)
    }

    /// Settings for a demo: the Zendesk destination on the given subdomain.
    pub fn zendesk_settings(subdomain: &str) -> Settings {
        Settings {
            zendesk: Some(ZendeskSettings {
                subdomain: subdomain.to_owned(),
                ..ZendeskSettings::default()
            }),
            ..Settings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_refused_with_an_explanation() {
        let err = ZendeskAuth::from_parts(None, Some("a@b.c".into()), None, Some("hunter2".into())).unwrap_err();
        assert!(err.to_string().contains("removed password authentication"));
    }

    #[test]
    fn oauth_wins_and_secrets_stay_out_of_debug_output() {
        let auth = ZendeskAuth::from_parts(Some("s3cret".into()), Some("a@b.c".into()), Some("t0k".into()), None).unwrap();
        assert_eq!(auth.header_value(), "Bearer s3cret");
        assert!(!format!("{auth:?}").contains("s3cret"));
        let token = ZendeskAuth::from_parts(None, Some("a@b.c".into()), Some("t0k".into()), None).unwrap();
        assert!(!format!("{token:?}").contains("t0k"));
    }
}
