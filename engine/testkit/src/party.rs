//! Who the national workflow expects to take an action, so a harness that acts without naming a
//! credential acts as that party (a suite about deadlines then reads as it did before tokens).

/// The party a harness acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// No credentials (submissions).
    Public,
    /// The national admin (verify, archive, escalate, forward, reads).
    Admin,
    /// An officer of the agency holding the case (respond, request_info, resolve).
    HolderOfficer,
    /// The reporter, with the token the submission answered (provide_info, reopen, rate).
    Reporter,
}

/// The party for `action` in `policies/lapor/workflow.yaml`.
pub fn party_for(action: &str) -> Party {
    match action {
        "submit" => Party::Public,
        "respond" | "request_info" | "resolve" => Party::HolderOfficer,
        "provide_info" | "reopen" | "rate" => Party::Reporter,
        _ => Party::Admin,
    }
}
