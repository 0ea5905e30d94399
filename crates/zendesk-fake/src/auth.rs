//! Zendesk authentication: API token (Basic `{email}/token:{token}`) or OAuth
//! bearer token. Anything else gets Zendesk's 401 body. The OAuth token is an
//! admin's; the agent OAuth token is a non-admin's, refused (403) where Zendesk
//! documents an endpoint as "Allowed for: Admins".

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::error::ApiError;
use crate::FakeZendesk;

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub email: String,
    pub api_token: String,
    pub oauth_token: String,
    /// An OAuth token whose user is an agent, not an admin.
    pub agent_oauth_token: String,
    /// The Zendesk Connect (Outbound) API key, sent as `X-Outbound-Key`.
    pub connect_key: String,
}

impl Credentials {
    pub fn demo() -> Credentials {
        Credentials {
            email: "agent@example.com".into(),
            api_token: "demo-token".into(),
            oauth_token: "demo-oauth-token".into(),
            agent_oauth_token: "demo-agent-oauth-token".into(),
            connect_key: "demo-connect-key".into(),
        }
    }

    /// The role of the user the credentials belong to, if they are valid.
    fn role(&self, header: &str) -> Option<Role> {
        if let Some(token) = header.strip_prefix("Bearer ") {
            return if token == self.oauth_token {
                Some(Role::Admin)
            } else {
                (token == self.agent_oauth_token).then_some(Role::Agent)
            };
        }
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        // Email + password was removed by Zendesk: only `{email}/token:{token}` is valid.
        (decoded == format!("{}/token:{}", self.email, self.api_token).as_bytes()).then_some(Role::Admin)
    }
}

/// The role of the authenticated user, for endpoints allowed to admins only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

pub async fn require_auth(State(fake): State<FakeZendesk>, mut request: Request, next: Next) -> Response {
    let role = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|h| fake.credentials.role(h));
    match role {
        Some(role) => {
            request.extensions_mut().insert(role);
            next.run(request).await
        }
        None => ApiError::Unauthorized.into(),
    }
}

/// Zendesk's 403 for a non-admin on an endpoint "Allowed for: Admins"
/// (the incremental exports, satisfaction ratings).
pub async fn admins_only(request: Request, next: Next) -> Response {
    if request.extensions().get::<Role>() == Some(&Role::Admin) {
        next.run(request).await
    } else {
        ApiError::Forbidden("You do not have access to this page. Please contact the account owner of this help desk for further help.".into())
            .into_response()
    }
}
