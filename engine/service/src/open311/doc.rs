//! The Open311 paths in the served OpenAPI document (`GET /openapi.json`, merged by `api.rs`), so that
//! clients and the property-based tests (deploy/schemathesis.sh) see them. One path per endpoint, its
//! extension a `{format}` parameter (`json` or `xml`); the answers are the spec's shapes
//! (docs/open311.md), described in words.

use super::spec::{Format, NewRequest};
use super::{requests, services};
use utoipa::OpenApi;

/// Open311 GeoReport v2's paths and the schemas they name.
#[derive(OpenApi)]
#[openapi(
    paths(
        services::discovery,
        services::services,
        services::service_definition,
        requests::requests,
        requests::create,
        requests::request
    ),
    components(schemas(Format, NewRequest)),
    tags((name = "open311", description = "Open311 GeoReport v2 (docs/open311.md)"))
)]
pub struct Open311Doc;
