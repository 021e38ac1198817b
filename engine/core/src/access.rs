//! Who may do what, and where: the one table of role × operation × reach (docs/access.md), and the
//! visibility of a case's fields to a viewer. HTTP, NATS and the workers only turn credentials into an
//! [`Actor`]; every service function that reads or acts asks this module.
//!
//! A workflow action is allowed to the roles `workflow.yaml` lists for it; this table says, for each
//! role, how far its reach goes (the reporter: its own case; an officer: what its agency holds; an admin:
//! its subtree).

use crate::case::{Actor, Privacy};
use crate::directory::{Directory, ROOT};
use crate::region::RegionCode;
use crate::workflow::Role;

/// What a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// File a complaint.
    Submit,
    /// File a complaint with `received_at` (clocks start in the past).
    BackDate,
    /// Read one case.
    Read,
    /// List cases.
    List,
    /// Browse the public listing: every case in its public view (Open311 `GET requests`), whoever
    /// asks; the visibility table still renders each case for the public.
    Browse,
    /// Read statistics.
    Stats,
    /// Take a workflow action (the workflow says which roles; the table says how far).
    Act,
    /// Publish a policy pack (each changed file within reach: [`crate::publish`]).
    Publish,
    /// Read the record of every publish (who, which scope, the pack hash before and after).
    ReadPublishes,
    /// Read the webhook deliveries to source systems that were given up (the cases in reach).
    ReadDeliveries,
}

impl Operation {
    /// Every operation, for tables and tests.
    pub const ALL: [Operation; 10] = [
        Operation::Submit,
        Operation::BackDate,
        Operation::Read,
        Operation::List,
        Operation::Browse,
        Operation::Stats,
        Operation::Act,
        Operation::Publish,
        Operation::ReadPublishes,
        Operation::ReadDeliveries,
    ];

    /// The name in docs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Submit => "submit",
            Operation::BackDate => "back-date",
            Operation::Read => "read",
            Operation::List => "list",
            Operation::Browse => "browse",
            Operation::Stats => "stats",
            Operation::Act => "act",
            Operation::Publish => "publish",
            Operation::ReadPublishes => "read-publishes",
            Operation::ReadDeliveries => "read-deliveries",
        }
    }
}

/// How far a role's operation reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not at all.
    Nowhere,
    /// Anything (no case involved, or the public view of any case).
    Everywhere,
    /// The one case whose reporter token the caller holds.
    OwnCase,
    /// Cases the caller's agency holds.
    Holder,
    /// Cases (or agencies) in the caller's agency subtree.
    Subtree,
}

impl Reach {
    /// The machine name (`aduan policy access`): `nowhere`, `everywhere`, `own_case`, `holder`, `subtree`.
    pub fn id(self) -> &'static str {
        match self {
            Reach::Nowhere => "nowhere",
            Reach::Everywhere => "everywhere",
            Reach::OwnCase => "own_case",
            Reach::Holder => "holder",
            Reach::Subtree => "subtree",
        }
    }

    /// The name in docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Nowhere => "—",
            Reach::Everywhere => "any",
            Reach::OwnCase => "own case",
            Reach::Holder => "held by own agency",
            Reach::Subtree => "own subtree",
        }
    }
}

/// The roles a caller can hold, in the table's order.
pub const ROLES: [Role; 8] = [
    Role::Anyone,
    Role::Reporter,
    Role::Officer,
    Role::Admin,
    Role::Supervisor,
    Role::Integration,
    Role::PolicyAuthor,
    Role::System,
];

/// The roles a token can be made for (`aduan token create --role`, a JWT's role claim).
pub const TOKEN_ROLES: [Role; 5] =
    [Role::Admin, Role::Officer, Role::Supervisor, Role::PolicyAuthor, Role::Integration];

/// The table: how far `role` reaches for `op`.
pub fn reach(role: Role, op: Operation) -> Reach {
    use Operation::*;
    use Reach::*;
    match (role, op) {
        (Role::System, _) => Everywhere,
        (_, Submit) => Everywhere,
        // The public listing shows what the public may read of any case by its tracking id.
        (_, Browse) => Everywhere,
        // An officer at the counter records a walk-in or a letter with when it came.
        (Role::Admin | Role::Officer | Role::Integration, BackDate) => Everywhere,
        (Role::Anyone, Read) => Everywhere,
        (Role::Reporter, Read | Act) => OwnCase,
        (Role::Officer, Act) => Holder,
        (Role::Admin | Role::Integration, Act) => Subtree,
        (Role::Officer | Role::Admin | Role::Supervisor | Role::Integration, Read | List | Stats) => Subtree,
        (Role::PolicyAuthor, Publish) => Subtree,
        // The publish records lie at the root: only the national admin reaches them.
        (Role::Admin, ReadPublishes) => Subtree,
        // An admin sees the failed webhooks of the cases in its subtree.
        (Role::Admin, ReadDeliveries) => Subtree,
        _ => Nowhere,
    }
}

/// Why the table refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The caller must authenticate first (401).
    Unauthenticated,
    /// Outside the caller's role or reach: 404 for reads (nothing leaks about what exists), 403 for acts.
    Forbidden(String),
}

/// Where a case lies for the table: its holder, else the government of its region (a case not yet
/// dispatched belongs to it), else the root.
pub fn subject_of(dir: &Directory, holder: Option<&str>, region: Option<&RegionCode>) -> String {
    holder
        .map(str::to_owned)
        .or_else(|| region.and_then(|r| dir.government_of(r)).map(str::to_owned))
        .unwrap_or_else(|| ROOT.to_owned())
}

/// A case as the table sees it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The holder, if dispatched.
    pub holder: Option<&'a str>,
    /// Where the case lies ([`subject_of`]).
    pub subject: &'a str,
}

/// The agency a caller's reach starts from: its own, the root when it has none.
pub fn scope_of(actor: &Actor) -> &str {
    actor.agency.as_deref().unwrap_or(ROOT)
}

/// Whether `actor` may do `op`, on the case `target` or (for lists and stats) the agency `agency`.
/// The reporter role is given only by the case's own reporter token, so it reaches its own case.
pub fn check(dir: &Directory, actor: &Actor, op: Operation, target: Option<Target<'_>>) -> Result<(), Denied> {
    let within = match (reach(actor.role, op), target) {
        (Reach::Nowhere, _) => false,
        (Reach::Everywhere | Reach::OwnCase, _) | (_, None) => true,
        (Reach::Holder, Some(t)) => actor.agency.is_some() && actor.agency.as_deref() == t.holder,
        (Reach::Subtree, Some(t)) => dir.in_subtree(scope_of(actor), t.subject),
    };
    match (within, actor.role) {
        (true, _) => Ok(()),
        (false, Role::Anyone) => Err(Denied::Unauthenticated),
        (false, role) => Err(Denied::Forbidden(match reach(role, op) {
            Reach::Nowhere => format!("the role {} may not {}", role.as_str(), op.as_str()),
            Reach::Holder => format!("an {} acts only on cases its agency holds", role.as_str()),
            _ => format!("the case is outside the scope of the {} ({})", role.as_str(), scope_of(actor)),
        })),
    }
}

/// Whether `actor` may read the agency `agency`'s lists and statistics (its subtree).
pub fn check_agency(dir: &Directory, actor: &Actor, op: Operation, agency: &str) -> Result<(), Denied> {
    check(dir, actor, op, Some(Target { holder: Some(agency), subject: agency }))
}

/// What a viewer may see of a case (docs/http.md#visibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    /// `title`, `body` and the messages in the history.
    pub text: bool,
    /// `reporter`.
    pub reporter: bool,
}

/// The visibility table (CONTRACT's): the public never sees the reporter, nor the text of a
/// confidential case; the reporter token sees all of its own case; an officer of the holder, an admin,
/// supervisor or integration in scope see the reporter unless the case is anonymous; the national admin
/// (and the engine) see everything.
pub fn visibility(actor: &Actor, privacy: Privacy, holder: Option<&str>) -> Visibility {
    let national_admin = actor.role == Role::Admin && scope_of(actor) == ROOT;
    let reporter = match actor.role {
        Role::System | Role::Reporter => true,
        _ if national_admin => true,
        Role::Anyone | Role::PolicyAuthor => false,
        Role::Officer => holder.is_some() && actor.agency.as_deref() == holder && privacy != Privacy::Anonymous,
        Role::Admin | Role::Supervisor | Role::Integration => privacy != Privacy::Anonymous,
    };
    Visibility { text: actor.role != Role::Anyone || privacy != Privacy::Confidential, reporter }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, agency: Option<&str>) -> Actor {
        Actor { role, agency: agency.map(str::to_owned), name: "t".into() }
    }

    #[test]
    fn the_public_sees_no_reporter_and_no_confidential_text() {
        let public = actor(Role::Anyone, None);
        assert_eq!(visibility(&public, Privacy::Public, None), Visibility { text: true, reporter: false });
        assert_eq!(visibility(&public, Privacy::Confidential, None), Visibility { text: false, reporter: false });
    }

    #[test]
    fn an_anonymous_reporter_is_seen_only_by_the_national_admin_and_the_reporter() {
        let seen = |a: &Actor| visibility(a, Privacy::Anonymous, Some("35.78/dinas-pu")).reporter;
        assert!(seen(&actor(Role::Admin, None)));
        assert!(seen(&actor(Role::Admin, Some(ROOT))));
        assert!(seen(&Actor::reporter()), "the reporter token sees its own case whole (CONTRACT)");
        assert!(visibility(&Actor::reporter(), Privacy::Confidential, None).reporter);
        assert!(!seen(&actor(Role::Admin, Some("35.78"))));
        assert!(!seen(&actor(Role::Officer, Some("35.78/dinas-pu"))));
        assert!(!seen(&actor(Role::Supervisor, Some(ROOT))));
        assert!(
            visibility(&actor(Role::Officer, Some("35.78/dinas-pu")), Privacy::Public, Some("35.78/dinas-pu")).reporter
        );
        assert!(!visibility(&actor(Role::Officer, Some("35.78")), Privacy::Public, Some("35.78/dinas-pu")).reporter);
    }

    #[test]
    fn supervisors_change_nothing_and_policy_authors_read_nothing() {
        for op in [Operation::Act, Operation::BackDate, Operation::Publish] {
            assert_eq!(reach(Role::Supervisor, op), Reach::Nowhere, "{op:?}");
        }
        for op in [Operation::Read, Operation::List, Operation::Stats, Operation::Act, Operation::ReadPublishes] {
            assert_eq!(reach(Role::PolicyAuthor, op), Reach::Nowhere, "{op:?}");
        }
        assert_eq!(reach(Role::Anyone, Operation::List), Reach::Nowhere);
    }

    #[test]
    fn everyone_browses_the_public_listing_and_only_that() {
        for role in ROLES {
            assert_eq!(reach(role, Operation::Browse), Reach::Everywhere, "{role:?}");
        }
        // Browsing is the public's read, listed: the public still lists nothing of an agency's.
        assert_eq!(reach(Role::Anyone, Operation::Read), Reach::Everywhere);
        assert_eq!(reach(Role::Anyone, Operation::List), Reach::Nowhere);
    }
}
