//! Zendesk authentication: API token (Basic `{email}/token:{token}`) or OAuth
//! bearer token. Anything else gets Zendesk's 401 body.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;

use crate::error::ApiError;
use crate::FakeZendesk;

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub api_token: String,
    pub oauth_token: String,
    /// The Zendesk Connect (Outbound) API key, sent as `X-Outbound-Key`.
    pub connect_key: String,
}

impl Credentials {
    pub fn demo() -> Credentials {
        Credentials {
            email: "agent@example.com".into(),
            api_token: "demo-token".into(),
            oauth_token: "demo-oauth-token".into(),
            connect_key: "demo-connect-key".into(),
        }
    }

    fn accepts(&self, header: &str) -> bool {
        if let Some(token) = header.strip_prefix("Bearer ") {
            return token == self.oauth_token;
        }
        let Some(encoded) = header.strip_prefix("Basic ") else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        // Email + password was removed by Zendesk: only `{email}/token:{token}` is valid.
        decoded == format!("{}/token:{}", self.email, self.api_token).as_bytes()
    }
}

pub async fn require_auth(State(fake): State<FakeZendesk>, request: Request, next: Next) -> Response {
    let authorized = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| fake.credentials.accepts(h));
    if authorized {
        next.run(request).await
    } else {
        ApiError::Unauthorized.into()
    }
}
