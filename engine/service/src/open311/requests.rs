//! Open311's `requests` and `requests/{service_request_id}` (docs/open311.md#requests): the public
//! listing and view of cases, and filing one with an `api_key`. The answers, decoding and errors are
//! `mod.rs`'s.

use super::*;

/// `GET requests/{service_request_id}`: one case as the public sees it, in a list of one.
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "open311",
    params(("service_request_id" = String, Path, description = "A tracking id"),
           ("format" = Format, Path, description = "`json` or `xml`"), RequestsQuery),
    responses((status = 200, description = "The request as the public sees it"),
              (status = 400, description = "A parameter is wrong"),
              (status = 404, description = "No such request, or no such format"),
              (status = 429, description = "Over the rate limit of reads by tracking id")))]
pub(super) async fn request(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((id, format)) = path_file(path) else { return unknown_format() };
    let result = async {
        limited_at(&s, &Caller::Public, addr.ip()).map_err(rate_limited)?;
        let q: RequestsQuery = query(q.as_deref())?;
        let pack = s.service.pack();
        if let Some(j) = &q.jurisdiction_id {
            jurisdiction(&pack, j)?;
        }
        let view = public_view(&s.service, &id)
            .await?
            .ok_or_else(|| Failure::new(404, format!("service_request_id: no service request `{}`", clip(&id))))?;
        Ok(List::new(format, "request", vec![service_request(&pack, &view)]))
    }
    .await;
    answer(format, "service_requests", result)
}

/// A case by tracking id as the public reads it (`Service::get`), or none when there is no such case.
async fn public_view(service: &Service, id: &str) -> Result<Option<ComplaintView>, Failure> {
    if !is_tracking_id(id) {
        return Ok(None);
    }
    match service.get(id, &Caller::Public).await {
        Ok(v) => Ok(Some(v)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn rate_limited(secs: u64) -> Failure {
    Failure { status: 429, description: "over the rate limit; retry later".into(), retry_after: Some(secs) }
}

/// `GET requests`: the public listing, filtered as the spec says.
#[utoipa::path(get, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`"), RequestsQuery),
    responses((status = 200, description = "Public requests, newest first: 90 days and 1,000 requests unless asked otherwise"),
              (status = 400, description = "A parameter is wrong: the spec's error list, naming it")))]
pub(super) async fn requests(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    RawQuery(q): RawQuery,
    format: Format,
) -> Response {
    let result = async {
        limited_at(&s, &Caller::Public, addr.ip()).map_err(rate_limited)?;
        let q: RequestsQuery = query(q.as_deref())?;
        let pack = s.service.pack();
        let views = match q.service_request_id.as_deref() {
            Some(ids) => {
                let ids = items(ids);
                if ids.len() > BROWSE_LIMIT as usize {
                    return Err(Failure::param("service_request_id", format!("at most {BROWSE_LIMIT} ids")));
                }
                let mut views = Vec::with_capacity(ids.len());
                for id in &ids {
                    views.extend(public_view(&s.service, id).await?);
                }
                views
            }
            None => s.service.browse(browse_query(&pack, &q, Utc::now())?).await?,
        };
        Ok(List::new(format, "request", views.iter().map(|v| service_request(&pack, v)).collect()))
    }
    .await;
    answer(format, "service_requests", result)
}

/// The public listing's query from the spec's filters: the dates (by default the last 90 days; a
/// range over 90 days is refused), the service codes, `open`/`closed` as the workflow's states, and
/// the jurisdiction.
fn browse_query(pack: &Pack, q: &RequestsQuery, now: DateTime<Utc>) -> Result<BrowseQuery, Failure> {
    let start = date_param("start_date", q.start_date.as_deref())?;
    let end = date_param("end_date", q.end_date.as_deref())?;
    let window = Duration::days(WINDOW_DAYS);
    let (from, to) = match (start, end) {
        (None, None) => (now - window, now),
        (Some(f), None) => (f, f + window),
        (None, Some(t)) => (t - window, t),
        (Some(f), Some(t)) => (f, t),
    };
    if to < from {
        return Err(Failure::param("end_date", "before start_date"));
    }
    if to - from > window {
        return Err(Failure::param("end_date", format!("more than {WINDOW_DAYS} days after start_date")));
    }
    let statuses = match q.status.as_deref() {
        None => None,
        Some(list) => {
            let asked = items(list);
            if let Some(bad) = asked.iter().find(|s| !matches!(s.as_str(), "open" | "closed")) {
                return Err(Failure::param("status", format!("`{}` is not open or closed", clip(bad))));
            }
            let states = pack.workflow.states().iter().filter(|state| {
                let status = if is_closed(pack, state) { "closed" } else { "open" };
                asked.iter().any(|a| a == status)
            });
            Some(states.cloned().collect())
        }
    };
    let region = q.jurisdiction_id.as_deref().map(|j| jurisdiction(pack, j)).transpose()?;
    Ok(BrowseQuery {
        from,
        to,
        categories: q.service_code.as_deref().map(items),
        statuses,
        region: region.map(|r| r.to_string()),
        limit: BROWSE_LIMIT,
    })
}

/// Whether Open311 reads a workflow state as `closed`: a final state, or one the workflow counts as
/// resolved (the agency has finished; a reopen makes the case open again).
fn is_closed(pack: &Pack, state: &str) -> bool {
    let w = &pack.workflow;
    w.is_final(state) || w.meaning().stats.resolved.iter().any(|s| s == state)
}

/// A case's public view as a service request.
fn service_request(pack: &Pack, v: &ComplaintView) -> ServiceRequest {
    let tz = time_zone_of_code(v.region.as_deref());
    let history = v.history.as_deref().unwrap_or_default();
    let notes = [EventType::Responded.as_str(), EventType::Resolved.as_str()];
    // The public view has withheld a confidential case's messages already.
    let status_notes = history
        .iter()
        .rev()
        .filter(|h| notes.contains(&h.event_type.as_str()))
        .find_map(|h| h.data.get("message").and_then(|m| m.as_str()))
        .map(Text::new);
    let complete = v.deadlines.iter().find(|d| d.clock == Clock::COMPLETE.as_str()).and_then(|d| d.due_at);
    let category = v.category.as_deref().and_then(|c| pack.directory.category(c));
    let agency = v.agency.as_deref().map(|a| pack.directory.agency(a).map_or(a, |x| x.name.as_str()));
    let location = v.location.clone().unwrap_or_default();
    ServiceRequest {
        service_request_id: Text::new(&v.tracking_id),
        status: Text::new(if is_closed(pack, &v.status) { "closed" } else { "open" }),
        status_notes,
        service_name: category.map(|c| Text::new(&c.name)),
        service_code: v.category.as_deref().map(Text::new),
        description: v.body.as_deref().map(Text::new),
        agency_responsible: agency.map(Text::new),
        service_notice: None,
        requested_datetime: w3c(v.created_at, tz),
        updated_datetime: history.last().map(|h| w3c(h.at, tz)),
        expected_datetime: complete.map(|at| w3c(at, tz)),
        address: location.address.as_deref().map(Text::new),
        address_id: None,
        zipcode: None,
        lat: location.lat,
        long: location.long,
        media_url: v.media_url.as_deref().map(Text::new),
    }
}

/// `POST requests`: files a complaint for a third-party app holding an API token (`api_key`).
#[utoipa::path(post, path = "/open311/v2/requests.{format}", tag = "open311",
    params(("format" = Format, Path, description = "`json` or `xml`")),
    request_body(content = NewRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Filed: the tracking id as `service_request_id`"),
              (status = 400, description = "A parameter is wrong or missing: the spec's error list, naming it"),
              (status = 403, description = "The `api_key` is missing, does not authenticate, or may not submit"),
              (status = 413, description = "The form is too large"),
              (status = 415, description = "Not a urlencoded form"),
              (status = 429, description = "Over the rate limit"),
              (status = 503, description = "The database cannot take it now; retry")))]
pub(super) async fn create(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    format: Format,
) -> Response {
    let result = async {
        let mut raw = req.uri().query().unwrap_or_default().as_bytes().to_vec();
        raw.push(b'&');
        raw.extend_from_slice(&form_body(req, &s).await?);
        let form: NewRequest = decode(&raw)?;
        let caller = api_caller(&s.service, form.api_key.as_deref()).await?;
        limited_at(&s, &caller, addr.ip()).map_err(rate_limited)?;
        let pack = s.service.pack();
        let sub = submission(&pack, form)?;
        // The reporter token stays here: an Open311 answer has no place for it, and a third-party app
        // (or its logs) is not the reporter.
        let reply = s.service.submit(sub, None, &caller, crate::clock::now()).await?;
        let view = reply.view;
        let verify = view.deadlines.iter().find(|d| d.clock == Clock::VERIFY.as_str()).and_then(|d| d.due_date.clone());
        let notice = match verify {
            Some(date) => format!("Received: to be verified and dispatched by {date} (local date of the region)."),
            None => "Received: to be verified and dispatched.".to_owned(),
        };
        let created = Created {
            service_request_id: Text::new(&view.tracking_id),
            service_notice: Text::new(&notice),
            account_id: None,
        };
        Ok(List::new(format, "request", vec![created]))
    }
    .await;
    answer(format, "service_requests", result)
}

/// The form body: `application/x-www-form-urlencoded` (none given is taken as such), else 415; over
/// the API's body limit, 413.
async fn form_body(req: Request, s: &ApiState) -> Result<Bytes, Failure> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let essence = ct.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/x-www-form-urlencoded" {
            let shown = clip(&String::from_utf8_lossy(ct.as_bytes()));
            return Err(Failure::new(
                415,
                format!("the body must be application/x-www-form-urlencoded, not `{shown}`"),
            ));
        }
    }
    let bytes = Bytes::from_request(req, s).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::new(413, format!("the body is over {} bytes", crate::api::BODY_LIMIT))
        } else {
            Failure::new(400, e.body_text())
        }
    })?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Failure::new(400, "the body is not UTF-8"));
    }
    Ok(bytes)
}

/// The caller an `api_key` names: an API token (or a verified JWT) of any role the access table lets
/// submit; missing, not authenticating or not an API token, 403.
async fn api_caller(service: &Service, key: Option<&str>) -> Result<Caller, Failure> {
    let key = key.ok_or_else(|| {
        Failure::new(403, "api_key: required to submit (an API token: docs/open311.md#filing-a-request)")
    })?;
    match service.authenticate(Some(key)).await {
        Ok(c @ Caller::Principal(_)) => Ok(c),
        Ok(_) => Err(Failure::new(403, "api_key: not an API token")),
        Err(ServiceError::Unauthenticated(_)) => Err(Failure::new(403, "api_key: unknown or revoked")),
        Err(e) => Err(e.into()),
    }
}

/// The JSON API's submission for an Open311 request: a `pengaduan` through the `integration` channel,
/// public (the reporter is never shown to the public; the agency sees it), its title the first line of
/// the description (else the service's name).
fn submission(pack: &Pack, f: NewRequest) -> Result<Submission, Failure> {
    let region = f
        .jurisdiction_id
        .as_deref()
        .ok_or_else(|| Failure::param("jurisdiction_id", "required (a Kemendagri region code, e.g. 35.78)"))?;
    let region = jurisdiction(pack, region)?;
    let code = f
        .service_code
        .as_deref()
        .ok_or_else(|| Failure::param("service_code", "required (GET services lists them)"))?;
    let category = pack.directory.category(code).ok_or_else(|| {
        Failure::param("service_code", format!("no service `{}` (GET services lists them)", clip(code)))
    })?;
    match (f.lat, f.long) {
        (Some(_), None) => return Err(Failure::param("long", "required with lat")),
        (None, Some(_)) => return Err(Failure::param("lat", "required with long")),
        (None, None) if f.address_string.is_none() => {
            return Err(Failure::param(
                "lat",
                "a location is required: lat and long, or address_string (address_id alone is not supported)",
            ))
        }
        _ => {}
    }
    if let Some(why) = f.media_url.as_deref().and_then(crate::wire::text::url_refusal) {
        return Err(Failure::param("media_url", why));
    }
    let name = [f.first_name.as_deref(), f.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.chars().count() > SHORT {
        return Err(Failure::param("first_name", format!("with last_name, at most {SHORT} characters")));
    }
    let contact = f.email.clone().or_else(|| f.phone.clone());
    let reporter =
        (!name.is_empty() || contact.is_some()).then(|| Reporter { name: (!name.is_empty()).then_some(name), contact });
    let body = f.description.unwrap_or_default();
    let title = crate::wire::text::headline(&body, 100).unwrap_or_else(|| category.name.clone());
    Ok(Submission {
        kind: "pengaduan".into(),
        channel: "integration".into(),
        title,
        body,
        category: Some(category.id.clone()),
        region: Some(region.to_string()),
        privacy: None,
        reporter,
        command_id: None,
        received_at: None,
        source: None,
        location: Some(Location { lat: f.lat, long: f.long, address: f.address_string }),
        media_url: f.media_url,
    })
}
