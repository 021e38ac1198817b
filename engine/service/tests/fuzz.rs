//! Property tests of the request surface (proptest): whatever JSON, or bytes, a client sends as a
//! submission or an action, the answer is a success or a problem of status 4xx with the right shape,
//! never a 5xx or a panic, and a 422 names a field or none. The inputs mix the real fields with hostile
//! values (NUL bytes, huge strings, wrong types, unknown fields).

mod common;

use aduan_service::problem::decode_json;
use aduan_service::wire::{ActionRequest, Submission};
use common::inputs::{object, ACTION_FIELDS, SUBMISSION_FIELDS};
use proptest::prelude::*;

fn check(problem: &aduan_service::wire::Problem) -> Result<(), TestCaseError> {
    prop_assert!(matches!(problem.status, 400 | 422), "{problem:?}");
    if let Some(field) = &problem.field {
        prop_assert!(problem.detail.starts_with(field.as_str()), "{problem:?}");
        prop_assert!(!field.contains('\0') && field.len() < 100, "{problem:?}");
    }
    prop_assert!(!problem.detail.contains('\0'), "a problem repeats a NUL byte: {problem:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn any_submission_decodes_or_is_a_clear_problem(body in object(&SUBMISSION_FIELDS)) {
        if let Err(p) = decode_json::<Submission>(body.to_string().as_bytes()) {
            check(&p)?;
        }
    }

    #[test]
    fn any_action_decodes_or_is_a_clear_problem(body in object(&ACTION_FIELDS)) {
        if let Err(p) = decode_json::<ActionRequest>(body.to_string().as_bytes()) {
            check(&p)?;
        }
    }

    #[test]
    fn any_bytes_are_a_400_or_decode(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(p) = decode_json::<Submission>(&bytes) {
            check(&p)?;
        }
        if let Err(p) = decode_json::<ActionRequest>(&bytes) {
            check(&p)?;
        }
    }
}
