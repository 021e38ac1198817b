//! The dashboard's sign-in by redirect through the service (docs/web.md#single-sign-on): starting it,
//! finishing it with the callback's code, and authenticating the ID token a session holds. Without
//! the `oidc` feature there is no sign-in by redirect, and an ID token authenticates no one.

use super::{Caller, Service, ServiceError};

#[cfg(feature = "oidc")]
pub use crate::oidc::PendingSignIn;

/// A finished sign-in: the verified ID token and when it expires.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The ID token, to be kept in the session and authenticated again on every request.
    pub id_token: String,
    /// Its `exp`, in seconds since the epoch.
    pub expires: Option<i64>,
}

impl Service {
    /// Whether officers can sign in by redirect to the identity provider.
    pub fn sso_enabled(&self) -> bool {
        #[cfg(feature = "oidc")]
        return self.inner.sso.is_some() && self.inner.oidc.is_some();
        #[cfg(not(feature = "oidc"))]
        false
    }

    /// Starts a sign-in that returns to `redirect_uri`: where to send the browser, and what the
    /// callback needs. 404 when the sign-in is not configured; 503 when the provider is unreachable.
    #[cfg(feature = "oidc")]
    pub async fn sso_begin(&self, redirect_uri: &str) -> Result<(String, PendingSignIn), ServiceError> {
        let login = self.inner.sso.as_ref().ok_or_else(no_sso)?;
        login.begin(redirect_uri).await.map_err(provider_error)
    }

    /// Finishes the sign-in `pending` with the callback's `code`: the ID token, verified for this
    /// client and nonce, naming a role and an agency of this service. 401 when it does not.
    #[cfg(feature = "oidc")]
    pub async fn sso_finish(&self, pending: &PendingSignIn, code: &str) -> Result<SignedIn, ServiceError> {
        let login = self.inner.sso.as_ref().ok_or_else(no_sso)?;
        let id_token = login.exchange(pending, code).await.map_err(provider_error)?;
        let claims = self.id_token_claims(&id_token, &pending.nonce).await?;
        let expires = claims.expires;
        self.claims_actor(claims)?;
        Ok(SignedIn { id_token, expires })
    }

    /// The caller a session's ID token names (verified again: signature, expiry, client, nonce).
    pub async fn authenticate_id_token(&self, id_token: &str, nonce: &str) -> Result<Caller, ServiceError> {
        #[cfg(feature = "oidc")]
        return Ok(Caller::Principal(self.claims_actor(self.id_token_claims(id_token, nonce).await?)?));
        #[cfg(not(feature = "oidc"))]
        {
            let _ = (id_token, nonce);
            Err(no_sso())
        }
    }

    #[cfg(feature = "oidc")]
    async fn id_token_claims(&self, id_token: &str, nonce: &str) -> Result<crate::oidc::Claims, ServiceError> {
        let (Some(login), Some(verifier)) = (&self.inner.sso, &self.inner.oidc) else { return Err(no_sso()) };
        verifier
            .verify_id_token(id_token, login.client_id(), nonce)
            .await
            .map_err(|e| ServiceError::Unauthenticated(e.to_string()))
    }
}

fn no_sso() -> ServiceError {
    ServiceError::NotFound("sign-in by redirect is not configured".into())
}

/// A provider that could not be used is unavailable (503); a refusal is a 401.
#[cfg(feature = "oidc")]
fn provider_error(e: crate::oidc::OidcError) -> ServiceError {
    use crate::oidc::OidcError;
    match e {
        OidcError::Invalid(_) => ServiceError::Unauthenticated(e.to_string()),
        OidcError::Config(_) | OidcError::Jwks(_) | OidcError::Unreachable(_) => {
            tracing::warn!(error = %e, "single sign-on: the identity provider could not be used");
            ServiceError::Unavailable("the identity provider could not be reached; try again later".into())
        }
    }
}
