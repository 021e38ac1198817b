//! Open311's `discovery`, `services` and `services/{service_code}` (docs/open311.md#services): the
//! pack's categories as the spec's services. The answers, decoding and errors are `mod.rs`'s.

use super::*;

/// `GET discovery`.
#[utoipa::path(get, path = "/open311/v2/discovery.{format}", tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), ServicesQuery),
    responses((status = 200, description = "The GeoReport v2 endpoint of this server"),
              (status = 400, description = "A parameter is wrong: the spec's error list, naming it")))]
pub(super) async fn discovery(
    _: State<ApiState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    format: Format,
) -> Response {
    let result = query::<ServicesQuery>(q.as_deref()).map(|_| {
        let formats = ["text/xml", "application/json"].map(Text::new).to_vec();
        let endpoint = Endpoint {
            specification: Text::new("http://wiki.open311.org/GeoReport_v2"),
            url: Text::new(&base_url(&headers)),
            changeset: Text::new(CHANGESET),
            kind: Text::new("production"),
            formats: List::new(format, "format", formats),
        };
        Discovery {
            changeset: Text::new(CHANGESET),
            contact: Text::new("The operator of this Aduan installation"),
            key_service: Text::new(
                "An API token from the operator: `aduan token create --role integration` (docs/access.md#tokens)",
            ),
            endpoints: List::new(format, "endpoint", vec![endpoint]),
        }
    });
    answer(format, "discovery", result)
}

/// This endpoint's base URL as the client reached it (`Host`, and `X-Forwarded-Proto: https` behind a
/// proxy), else the path alone.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let https = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).is_some_and(|p| p.trim() == "https");
    let scheme = if https { "https" } else { "http" };
    match url::Url::parse(&format!("{scheme}://{host}{PREFIX}")) {
        Ok(u) if !host.is_empty() && u.host_str().is_some() && u.path() == PREFIX => u.to_string(),
        _ => PREFIX.to_owned(),
    }
}

/// `GET services`: the active pack's categories.
#[utoipa::path(get, path = "/open311/v2/services.{format}", tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), ServicesQuery),
    responses((status = 200, description = "The pack's categories as services"),
              (status = 400, description = "A parameter is wrong: the spec's error list, naming it")))]
pub(super) async fn services(State(s): State<ApiState>, RawQuery(q): RawQuery, format: Format) -> Response {
    let pack = s.service.pack();
    let result = query::<ServicesQuery>(q.as_deref()).and_then(|q| {
        if let Some(code) = &q.jurisdiction_id {
            jurisdiction(&pack, code)?;
        }
        let entries = pack.directory.categories().map(|c| {
            let (keywords, group) = match &c.handler {
                Handler::Unit(slug) => (slug.as_str(), "urusan daerah"),
                Handler::National(body) => (body.as_str(), "urusan nasional"),
            };
            ServiceEntry {
                service_code: Text::new(&c.id),
                service_name: Text::new(&c.name),
                description: Text::new(&c.description),
                metadata: false,
                kind: Text::new("realtime"),
                keywords: Text::new(keywords),
                group: Text::new(group),
            }
        });
        Ok(List::new(format, "service", entries.collect()))
    });
    answer(format, "services", result)
}

/// `GET services/{service_code}`: a category's definition (no attributes), 404 for an unknown one.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "open311",
    params(("service_code" = String, Path, description = "A category id of the pack"),
           ("format" = Format, Path, description = "`json` or `xml`"), ServicesQuery),
    responses((status = 200, description = "The service's definition (no attributes)"),
              (status = 400, description = "A parameter is wrong"),
              (status = 404, description = "No such service, or no such format")))]
pub(super) async fn service_definition(
    State(s): State<ApiState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, format)) = path_file(path) else { return unknown_format() };
    let pack = s.service.pack();
    let result = query::<ServicesQuery>(q.as_deref()).and_then(|q| {
        if let Some(j) = &q.jurisdiction_id {
            jurisdiction(&pack, j)?;
        }
        match pack.directory.category(&code) {
            Some(c) => Ok(ServiceDefinition {
                service_code: Text::new(&c.id),
                attributes: List::new(format, "attribute", vec![]),
            }),
            None => Err(Failure::new(404, format!("service_code: no service `{}`", clip(&code)))),
        }
    });
    answer(format, "service_definition", result)
}
