//! Turning credentials into an actor (docs/access.md): API tokens, OIDC JWTs and the reporter token.
//! HTTP and NATS pass the bearer they were given to [`Service::authenticate`]; what the actor may then
//! do is the core's table ([`aduan_core::access`]).

use super::{Service, ServiceError};
use crate::crypto::{new_api_token, sha256_hex, API_TOKEN_PREFIX};
use crate::store::{CaseRow, StoreError, TokenRow};
use aduan_core::access::{self, Denied, TOKEN_ROLES};
use aduan_core::case::Actor;
use aduan_core::workflow::Role;
use chrono::{DateTime, Utc};

/// Longest bearer looked at; a longer one is refused unread.
const MAX_BEARER: usize = 16 * 1024;

/// Who is calling, as far as the credentials tell before a case is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials: the public.
    Public,
    /// An API token or a verified JWT.
    Principal(Actor),
    /// A bearer that is neither: only a case's reporter token can make sense of it.
    Bearer(String),
}

impl Caller {
    /// The actor where no case is involved (lists, statistics, submissions): a bearer that is not an
    /// API token or a JWT is refused.
    pub fn actor(&self) -> Result<Actor, ServiceError> {
        match self {
            Caller::Public => Ok(Actor::public()),
            Caller::Principal(a) => Ok(a.clone()),
            Caller::Bearer(_) => Err(bad_token()),
        }
    }

    /// The actor on one case: the reporter when the bearer is that case's reporter token.
    pub fn actor_on(&self, reporter_sha256: Option<&str>) -> Result<Actor, ServiceError> {
        match self {
            Caller::Bearer(t) if reporter_sha256 == Some(sha256_hex(t.as_bytes()).as_str()) => Ok(Actor::reporter()),
            other => other.actor(),
        }
    }
}

fn bad_token() -> ServiceError {
    ServiceError::Unauthenticated("the bearer token is not valid here (unknown, revoked or not for this case)".into())
}

/// The table's refusal as a service error: 401, or `refused` (404 for reads, 403 for actions).
pub(super) fn denied(d: Denied, refused: impl FnOnce(String) -> ServiceError) -> ServiceError {
    match d {
        Denied::Unauthenticated => ServiceError::Unauthenticated("this needs a token (Authorization: Bearer …)".into()),
        Denied::Forbidden(why) => refused(why),
    }
}

/// The SHA-256 of a case's reporter token, as its state keeps it.
pub(super) fn reporter_hash(row: &CaseRow) -> Option<String> {
    let state: serde_json::Value = serde_json::from_str(&row.state).ok()?;
    state.get("reporter_token_sha256")?.as_str().map(str::to_owned)
}

/// A role a token may be made for, by its wire name.
pub fn token_role(name: &str) -> Option<Role> {
    TOKEN_ROLES.into_iter().find(|r| r.as_str() == name)
}

/// A new API token: the stored row and the secret, shown once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The root of its subtree.
    pub agency: String,
    /// The secret.
    pub token: String,
}

impl Service {
    /// The caller a bearer names: 401 for a bearer that is malformed, an unknown or revoked API token, or
    /// a JWT that does not verify.
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Caller, ServiceError> {
        let Some(token) = bearer.map(str::trim) else { return Ok(Caller::Public) };
        if token.is_empty() || token.len() > MAX_BEARER || token.contains('\0') {
            return Err(bad_token());
        }
        if token.starts_with(API_TOKEN_PREFIX) {
            let row = self.inner.store.token_by_hash(&sha256_hex(token.as_bytes())).await?.ok_or_else(bad_token)?;
            return self.token_actor(&row).map(Caller::Principal);
        }
        if token.matches('.').count() == 2 {
            return self.jwt_actor(token).await.map(Caller::Principal);
        }
        Ok(Caller::Bearer(token.to_owned()))
    }

    pub(super) fn token_actor(&self, row: &TokenRow) -> Result<Actor, ServiceError> {
        let role = token_role(&row.role)
            .ok_or_else(|| ServiceError::Internal(format!("token {} has an unknown role", row.name)))?;
        Ok(Actor { role, agency: Some(row.agency.clone()), name: row.name.clone() })
    }

    #[cfg(feature = "oidc")]
    async fn jwt_actor(&self, token: &str) -> Result<Actor, ServiceError> {
        let verifier = self.inner.oidc.as_ref().ok_or_else(no_jwt)?;
        let claims = verifier.verify(token).await.map_err(|e| ServiceError::Unauthenticated(e.to_string()))?;
        self.claims_actor(claims)
    }

    /// The actor verified claims name: a role of this service and an agency of the directory.
    #[cfg(feature = "oidc")]
    pub(super) fn claims_actor(&self, claims: crate::oidc::Claims) -> Result<Actor, ServiceError> {
        let role = token_role(&claims.role).ok_or_else(|| {
            ServiceError::Unauthenticated("the token's role claim names no role of this service".into())
        })?;
        let agency = claims
            .agency
            .filter(|a| self.pack().directory.agency(a).is_some())
            .ok_or_else(|| ServiceError::Unauthenticated("the token's agency claim names no agency".into()))?;
        let name: String = claims.name.chars().filter(|c| !c.is_control()).take(100).collect();
        Ok(Actor { role, agency: Some(agency), name: format!("oidc:{name}") })
    }

    #[cfg(not(feature = "oidc"))]
    async fn jwt_actor(&self, _token: &str) -> Result<Actor, ServiceError> {
        Err(no_jwt())
    }

    /// Makes an API token (`aduan token create`): a name not used before, a role tokens may have, an
    /// agency of the directory (the root when none is given).
    pub async fn create_token(
        &self,
        role: &str,
        agency: Option<&str>,
        name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<NewToken, ServiceError> {
        let roles = || TOKEN_ROLES.map(Role::as_str).join(", ");
        let role = token_role(role)
            .ok_or_else(|| ServiceError::invalid("role", format!("`{role}` is not one of {}", roles())))?;
        let agency = agency.unwrap_or(aduan_core::directory::ROOT);
        if self.pack().directory.agency(agency).is_none() {
            return Err(ServiceError::invalid("agency", format!("no agency `{agency}` in the directory")));
        }
        let name = match name {
            Some(n) if valid_name(n) => n.to_owned(),
            Some(n) => return Err(ServiceError::invalid("name", format!("`{n}` is not [a-z0-9._-]{{1,64}}"))),
            None => format!("{}-{}", role.as_str(), &sha256_hex(new_api_token().as_bytes())[..8]),
        };
        let token = new_api_token();
        let row = TokenRow {
            name,
            role: role.as_str().to_owned(),
            agency: agency.to_owned(),
            created_at: now,
            revoked_at: None,
        };
        match self.inner.store.insert_token(&row, &sha256_hex(token.as_bytes())).await {
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::invalid("name", format!("a token named `{}` exists already", row.name)))
            }
            other => other?,
        }
        Ok(NewToken { name: row.name, role: row.role, agency: row.agency, token })
    }

    /// Every token, revoked ones included (`aduan token list`); never a secret.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, ServiceError> {
        Ok(self.inner.store.tokens().await?)
    }

    /// Revokes the token `name` (`aduan token revoke`): it stops working at once, on every replica.
    pub async fn revoke_token(&self, name: &str, now: DateTime<Utc>) -> Result<(), ServiceError> {
        if self.inner.store.revoke_token(name, now).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("no live token named `{name}`")))
        }
    }
}

fn no_jwt() -> ServiceError {
    ServiceError::Unauthenticated("JWT bearer tokens are not accepted: no JWKS is configured".into())
}

fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Whether `actor` may read `row`, asked for as `asked`: 404, as for an unknown id, when outside its reach.
pub(super) fn may_read(service: &Service, actor: &Actor, row: &CaseRow, asked: &str) -> Result<(), ServiceError> {
    check_case(service, actor, access::Operation::Read, row)
        .map_err(|d| denied(d, |_| ServiceError::NotFound(format!("no complaint `{asked}`"))))
}

/// Whether `actor` may do `op` on the case in `row`, as the table says.
pub(super) fn check_case(
    service: &Service,
    actor: &Actor,
    op: access::Operation,
    row: &CaseRow,
) -> Result<(), access::Denied> {
    let pack = service.pack();
    let region = row.region.as_deref().and_then(|r| aduan_core::region::RegionCode::parse(r).ok());
    let subject = access::subject_of(&pack.directory, row.agency.as_deref(), region.as_ref());
    let target = access::Target { holder: row.agency.as_deref(), subject: &subject };
    access::check(&pack.directory, actor, op, Some(target))
}
