//! The access matrix, generated (docs/access.md): every caller kind × every operation × cases where
//! they lie, over HTTP and NATS, against what the one table says. The expectations come from the table
//! itself as the binary prints it (`aduan policy access`: `aduan_core::access::reach` for role ×
//! operation, the national workflow's roles and states per action), never from a copy; what each reach
//! means and where a case lies (its holder, else its region's government) are spelled out below from
//! docs/access.md, independently of `access::check`, so a door that asks the table wrongly, or maps a
//! refusal to the wrong status, fails. (The suite drives the binary from outside, so it links no engine
//! crate: tests/it/invariants.rs.)
//!
//! Statuses: allowed → 200/201, or 409 when the workflow does not allow the action in the case's state
//! (never 401/403/404); outside reach → 404 for reads, lists and statistics, 403 for actions and
//! back-dating; no or a bad credential → 401 with `WWW-Authenticate` (on NATS, the 401 problem).
//!
//! SQLite only, one server for every cell: authorisation is decided in the core and the service, not
//! in SQL, and a PostgreSQL run would double the runtime for nothing the store conformance suite does
//! not already cover. `publish` (the active pack sent back unchanged, so an allowed publish changes
//! nothing) and `read-publishes` have an HTTP door only; so has `browse`, the Open311 public listing,
//! which reads no `Authorization` header: every caller is the public there (tests/it/open311.rs
//! covers the rest of that door).

use crate::support::{nats_request, pack_body, submission, Db, Server};
use crate::{aduan, stderr};
use aduan_testkit::http::{self, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The root of the agency tree: the national admin's scope.
const ROOT: &str = "kemenpanrb";
/// Where the cases are filed, and the agency routing gives them (infrastruktur in Surabaya).
const REGION: &str = "35.78";
const HOLDER: &str = "35.78/dinas-pu";
/// Where a case not yet dispatched lies: the government of its region, the Kota Surabaya itself.
const GOVERNMENT: &str = "35.78";
/// Callers' agencies: the root, the province, the kota, the holder, a sibling unit, another kota.
const AGENCIES: [&str; 6] = [ROOT, "35", "35.78", HOLDER, "35.78/dinkes", "33.74"];

/// The states a case is brought to, each with the actions that lead there from a submission.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Queued,
    Held,
    Waiting,
    Resolved,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Queued, Kind::Held, Kind::Waiting, Kind::Resolved];

    fn status(self) -> &'static str {
        match self {
            Kind::Queued => "submitted",
            Kind::Held => "assigned",
            Kind::Waiting => "awaiting_reporter",
            Kind::Resolved => "resolved",
        }
    }

    fn path(self) -> &'static [&'static str] {
        match self {
            Kind::Queued => &[],
            Kind::Held => &["verify"],
            Kind::Waiting => &["verify", "request_info"],
            Kind::Resolved => &["verify", "resolve"],
        }
    }

    fn holder(self) -> Option<&'static str> {
        (!matches!(self, Kind::Queued)).then_some(HOLDER)
    }
}

struct Case {
    id: String,
    tracking: String,
    reporter: String,
}

/// A new case of `kind`, brought there by the parties the workflow expects.
fn make(s: &Server, kind: Kind) -> Case {
    let v = s.submit(&submission(REGION, "infrastruktur"), &[]).json();
    let case = Case {
        id: v["id"].as_str().unwrap().to_owned(),
        tracking: v["tracking_id"].as_str().unwrap().to_owned(),
        reporter: v["reporter_token"].as_str().unwrap().to_owned(),
    };
    for action in kind.path() {
        let r = s.act(&case.id, &body(action), &[]);
        assert_eq!(r.status, 200, "{action}: {}", r.text());
    }
    case
}

/// A valid body of `action` (`forward` goes to the sibling unit).
fn body(action: &str) -> Value {
    match action {
        "verify" => json!({"action": "verify"}),
        "archive" | "escalate" => json!({"action": action, "reason": "alasan"}),
        "forward" => json!({"action": "forward", "agency": "35.78/dinkes", "reason": "bukan kewenangan"}),
        "rate" => json!({"action": "rate", "score": 5}),
        _ => json!({"action": action, "message": "pesan"}),
    }
}

/// Who calls.
#[derive(Debug, Clone, Copy)]
enum Who<'t> {
    NoToken,
    /// A credential that authenticates nothing: the whole `Authorization` value.
    Bad(&'static str),
    Revoked,
    Reporter {
        own: bool,
    },
    /// An API token of a role (as the table names it) reaching an agency's subtree.
    Token(&'t str, &'static str),
}

fn callers(table: &Table) -> Vec<Who<'_>> {
    let mut v = vec![
        Who::NoToken,
        Who::Bad("Bearer junk"),
        Who::Bad("Bearer adn.unknown"),
        Who::Bad("Bearer not.a.jwt"),
        Who::Bad("Basic c2l0aTpyYWhhc2lh"),
        Who::Revoked,
        Who::Reporter { own: true },
        Who::Reporter { own: false },
    ];
    for role in &table.token_roles {
        v.extend(AGENCIES.map(|a| Who::Token(role, a)));
    }
    v
}

/// What the table wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Allowed,
    Unauthenticated,
    Refused,
}

/// What an operation is asked about: a case (its holder and where it lies), an agency's lists, or
/// nothing (a submission).
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    holder: Option<&'a str>,
    lies_at: &'a str,
    is_case: bool,
}

fn case_target(kind: Kind) -> Target<'static> {
    Target { holder: kind.holder(), lies_at: kind.holder().unwrap_or(GOVERNMENT), is_case: true }
}

/// The table as `aduan policy access` prints it (docs/cli.md#policy-access).
#[derive(serde::Deserialize)]
struct Table {
    /// role → operation → reach.
    reach: BTreeMap<String, BTreeMap<String, String>>,
    token_roles: Vec<String>,
    actions: BTreeMap<String, WorkflowAction>,
}

#[derive(serde::Deserialize)]
struct WorkflowAction {
    roles: Vec<String>,
    from: Vec<String>,
}

impl Table {
    fn load() -> Table {
        let out = aduan(&["policy", "access"]);
        assert!(out.status.success(), "policy access: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("the table is JSON")
    }

    fn reach(&self, role: &str, op: &str) -> &str {
        self.reach.get(role).and_then(|ops| ops.get(op)).unwrap_or_else(|| panic!("no reach for {role} {op}"))
    }
}

/// Whether `id` lies in `root`'s subtree: the directory's ids nest (docs/access.md, units.yaml): a
/// kab/kota `35.78` under its province `35`, a unit `35.78/dinas-pu` under its government, all under the
/// root.
fn in_subtree(root: &str, id: &str) -> bool {
    root == ROOT || id == root || id.starts_with(&format!("{root}.")) || id.starts_with(&format!("{root}/"))
}

/// The role a caller acts in, or `None` when its credential authenticates nothing here: a reporter
/// token means something on its own case only.
fn role_of<'t>(who: Who<'t>, t: Option<Target>) -> Option<&'t str> {
    match who {
        Who::NoToken => Some("anyone"),
        Who::Bad(_) | Who::Revoked => None,
        Who::Reporter { own } => (own && t.is_some_and(|t| t.is_case)).then_some("reporter"),
        Who::Token(role, _) => Some(role),
    }
}

fn want(table: &Table, who: Who, op: &str, t: Option<Target>) -> Want {
    let Some(role) = role_of(who, t) else { return Want::Unauthenticated };
    let agency = match who {
        Who::Token(_, a) => Some(a),
        _ => None,
    };
    let within = match table.reach(role, op) {
        "nowhere" => false,
        "everywhere" => true,
        // Only the reporter token reaches its own case, and role_of gave it the role only there.
        "own_case" => role == "reporter",
        "holder" => t.is_some_and(|t| t.holder.is_some() && t.holder == agency),
        "subtree" => t.is_none_or(|t| agency.is_some_and(|a| in_subtree(a, t.lies_at))),
        other => panic!("a reach this test does not know: {other}"),
    };
    match (within, role) {
        (true, _) => Want::Allowed,
        (false, "anyone") => Want::Unauthenticated,
        (false, _) => Want::Refused,
    }
}

/// The status a door answers for `w` on `op`; `state_ok`: the workflow allows the action in the
/// case's state.
fn status(w: Want, op: &str, state_ok: bool) -> u16 {
    match (w, op) {
        (Want::Unauthenticated, _) => 401,
        (Want::Refused, "read" | "list" | "stats") => 404,
        (Want::Refused, _) => 403,
        (Want::Allowed, "submit" | "back-date") => 201,
        (Want::Allowed, "act") if !state_ok => 409,
        (Want::Allowed, _) => 200,
    }
}

/// The server, the shared case of each kind, the revoked token, and what was found.
struct Matrix {
    s: Server,
    cases: Vec<(Kind, Case)>,
    revoked: String,
    mismatches: Vec<String>,
    /// Cells checked, by door and wanted status.
    cells: BTreeMap<(&'static str, u16), usize>,
}

impl Matrix {
    fn authorization(&self, who: Who, case: Option<&Case>) -> Option<String> {
        match who {
            Who::NoToken => None,
            Who::Bad(h) => Some(h.to_owned()),
            Who::Revoked => Some(format!("Bearer {}", self.revoked)),
            Who::Reporter { own } => {
                let own_token = case.map(|c| c.reporter.as_str());
                let other = self.cases.iter().map(|(_, c)| c.reporter.as_str()).find(|t| Some(*t) != own_token);
                Some(format!("Bearer {}", if own { own_token.or(other) } else { other }.unwrap()))
            }
            Who::Token(role, agency) => Some(format!("Bearer {}", self.s.token(role, agency))),
        }
    }

    fn check_http(&mut self, what: String, want: u16, r: Response) {
        *self.cells.entry(("HTTP", want)).or_default() += 1;
        let challenged = r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer"));
        if r.status != want || (want == 401 && !challenged) {
            let www = if want == 401 && !challenged { " (no WWW-Authenticate: Bearer)" } else { "" };
            self.mismatches.push(format!("HTTP {what}: want {want}, got {}{www}: {}", r.status, r.text()));
        }
    }

    fn check_nats(&mut self, what: String, want: u16, action: &str, body: &Value, auth: Option<&str>) {
        *self.cells.entry(("NATS", want)).or_default() += 1;
        let bearer = auth.map(|a| a.strip_prefix("Bearer ").unwrap_or(a));
        let r = nats_request(&self.s.nats_url, &self.s.prefix, action, body.to_string().as_bytes(), None, bearer);
        let want = if want == 201 { 200 } else { want };
        if r.status() != want {
            let text = String::from_utf8_lossy(&r.body);
            self.mismatches.push(format!("NATS {what}: want {want}, got {}: {text}", r.status()));
        }
    }

    fn get(&mut self, what: String, want: u16, path: &str, auth: Option<&str>) {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let r = http::request("GET", &self.s.url(path), &headers, None);
        self.check_http(what, want, r);
    }
}

#[test]
fn every_door_answers_as_the_table_says() {
    let s = Server::start_with(Db::Sqlite, &["--no-workers"]);
    let table = Table::load();
    let cases = Kind::ALL.iter().map(|k| (*k, make(&s, *k))).collect();
    let name = "revoked-admin";
    let made = s.command().args(["token", "create", "--role", "admin", "--name", name]).output().unwrap();
    let revoked = serde_json::from_slice::<Value>(&made.stdout).unwrap()["token"].as_str().unwrap().to_owned();
    assert!(s.command().args(["token", "revoke", name]).status().unwrap().success());
    let mut m = Matrix { s, cases, revoked, mismatches: Vec::new(), cells: BTreeMap::new() };
    let pack = pack_body(&m.s.policy_dir);
    // The publish records lie at the root (docs/access.md#publishing-packs).
    let records = Target { holder: Some(ROOT), lies_at: ROOT, is_case: false };

    for who in callers(&table) {
        // Submissions, and back-dated ones (an offline channel, a day ago).
        let back = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
        let mut back_dated = submission(REGION, "infrastruktur");
        back_dated["channel"] = json!("counter");
        back_dated["received_at"] = json!(back);
        for (op, body) in [("submit", submission(REGION, "infrastruktur")), ("back-date", back_dated)] {
            let want = status(want(&table, who, op, None), op, true);
            let auth = m.authorization(who, None);
            let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let r = http::post_json(&m.s.url("/v1/complaints"), &body, &headers);
            m.check_http(format!("{} as {who:?}", op), want, r);
            m.check_nats(format!("{} as {who:?}", op), want, "submit", &body, auth.as_deref());
        }

        // Publishing (the active pack as it is), and reading the publish records.
        let auth = m.authorization(who, None);
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let r = http::post_json(&m.s.url("/v1/packs"), &pack, &headers);
        m.check_http(format!("publish as {who:?}"), status(want(&table, who, "publish", None), "publish", true), r);
        let want_records = status(want(&table, who, "read-publishes", Some(records)), "read-publishes", true);
        m.get(format!("read-publishes as {who:?}"), want_records, "/v1/packs/publishes", auth.as_deref());

        // The public listing (Open311 `GET requests`): the credential is not read, so the table's
        // answer for the public is every caller's.
        let want_browse = status(want(&table, Who::NoToken, "browse", None), "browse", true);
        m.get(format!("browse as {who:?}"), want_browse, "/open311/v2/requests.json", auth.as_deref());

        // Lists, statistics and compliance reports, of the caller's own subtree and of each agency.
        for asked in std::iter::once(None).chain(AGENCIES.map(Some)) {
            let own = match who {
                Who::Token(_, a) => a,
                _ => ROOT,
            };
            let t = Target { holder: asked.or(Some(own)), lies_at: asked.unwrap_or(own), is_case: false };
            let auth = m.authorization(who, None);
            // The compliance report has the reach of the statistics (docs/reports.md#the-endpoint).
            let report = "/v1/reports/compliance?month=2026-08";
            for (op, path) in [("list", "/v1/complaints?"), ("stats", "/v1/stats?"), ("stats", report)] {
                let want = status(want(&table, who, op, Some(t)), op, true);
                let path = match (asked, path.strip_suffix('?')) {
                    (None, Some(bare)) => bare.to_owned(),
                    (None, None) => path.to_owned(),
                    (Some(a), Some(bare)) => format!("{bare}?agency={a}"),
                    (Some(a), None) => format!("{path}&agency={a}"),
                };
                m.get(format!("GET {path} as {who:?}"), want, &path, auth.as_deref());
            }
        }

        // Each case: read it by tracking id and by id, and take every action of the workflow on it.
        for kind in Kind::ALL {
            let t = case_target(kind);
            let (id, tracking, auth) = {
                let case = &m.cases.iter().find(|(k, _)| k.status() == kind.status()).unwrap().1;
                (case.id.clone(), case.tracking.clone(), m.authorization(who, Some(case)))
            };
            let read = want(&table, who, "read", Some(t));
            m.get(
                format!("read {kind:?} by tracking id as {who:?}"),
                status(read, "read", true),
                &format!("/v1/complaints/{tracking}"),
                auth.as_deref(),
            );
            // Without a token a case is read by its tracking id only.
            let by_id = if matches!(who, Who::NoToken) { Want::Unauthenticated } else { read };
            m.get(
                format!("read {kind:?} by id as {who:?}"),
                status(by_id, "read", true),
                &format!("/v1/complaints/{id}"),
                auth.as_deref(),
            );

            for (name, a) in table.actions.iter().filter(|(name, _)| *name != "submit") {
                let state_ok = a.from.iter().any(|f| f == kind.status());
                // Refused by reach (a role that may take the action, on a case outside it, not
                // dispatched yet), not by role.
                let mut by_reach = false;
                let w = match (want(&table, who, "act", Some(t)), role_of(who, Some(t))) {
                    (Want::Unauthenticated, _) => Want::Unauthenticated,
                    (_, Some(role)) if !a.roles.iter().any(|r| r == role) => Want::Refused,
                    (w, _) => {
                        by_reach = w == Want::Refused && t.holder.is_none();
                        w
                    }
                };
                let want = status(w, "act", state_ok);
                // A success changes its case: it is taken on a fresh case of the same kind.
                let on = |m: &Matrix| match want {
                    200 => {
                        let fresh = make(&m.s, kind);
                        let auth = m.authorization(who, Some(&fresh));
                        (fresh.id, auth)
                    }
                    _ => (id.clone(), auth.clone()),
                };
                let what = format!("{name} on {kind:?} as {who:?}");
                let (case, bearer) = on(&m);
                let headers: Vec<(&str, &str)> = bearer.iter().map(|b| ("Authorization", b.as_str())).collect();
                let url = m.s.url(&format!("/v1/complaints/{case}/actions"));
                let r = http::post_json(&url, &body(name), &headers);
                m.check_http(what.clone(), want, r);
                // Over NATS a conflict, and a case not dispatched yet outside the caller's reach (the
                // verify may be on its way), is retried as an ordering failure (over 40 s) before its
                // dead letter (docs/nats.md#dead-letters): HTTP checks those here, both doors the rest.
                if want != 409 && !by_reach {
                    let (case, bearer) = on(&m);
                    let mut cmd = body(name);
                    cmd["complaint"] = json!(case);
                    m.check_nats(what, want, name, &cmd, bearer.as_deref());
                }
            }
        }
    }
    let total: usize = m.cells.values().sum();
    let differ = m.mismatches.len();
    assert!(differ == 0, "{differ} of {total} cells differ from the table:\n{}", m.mismatches.join("\n"));
    // The generator reaches every answer on each door (a generator that made no cells would pass).
    let http = [200, 201, 401, 403, 404, 409].map(|w| ("HTTP", w));
    for cell in http.into_iter().chain([200, 401, 403].map(|w| ("NATS", w))) {
        assert!(m.cells.get(&cell).is_some_and(|n| *n > 0), "no cell wants {cell:?}: {:?}", m.cells);
    }
}
