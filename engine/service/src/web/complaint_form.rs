//! The complaint form, shared by the citizen's filing page (`public.rs`) and the officer's intake of a
//! walk-in or a letter (`intake.rs`), and what a filed complaint's page says.

use super::form::Fields;
use super::i18n::Lang;
use crate::wire::ComplaintView;
use aduan_core::directory::{Directory, Level};
use maud::{html, Markup};

/// The fields of the complaint form, as `Submission` names them.
pub(super) const SUBMISSION_FIELDS: [&str; 10] = [
    "kind",
    "title",
    "body",
    "category",
    "region",
    "location.address",
    "privacy",
    "reporter.name",
    "reporter.contact",
    "command_id",
];
/// The privacy choices, in the order the form offers them.
const PRIVACIES: [&str; 3] = ["public", "anonymous", "confidential"];

/// The complaint form, filled in with `f`, posting to `action`; `extra` (the intake's channel and
/// date) comes before the send button.
pub(super) fn complaint_form(lang: Lang, dir: &Directory, f: &Fields, action: &str, extra: Markup) -> Markup {
    let t = lang.text();
    let command_id = f.get("command_id").map_or_else(crate::service::new_id, str::to_owned);
    let kind = f.get("kind").unwrap_or("pengaduan");
    let privacy = f.get("privacy").unwrap_or("public");
    let hints = [
        (t.privacy_public, t.privacy_public_hint),
        (t.privacy_anonymous, t.privacy_anonymous_hint),
        (t.privacy_confidential, t.privacy_confidential_hint),
    ];
    html! {
        form method="post" action=(action) {
            input type="hidden" name="command_id" value=(command_id);
            fieldset {
                legend { (t.kind) }
                @for (value, label) in t.kinds {
                    label { input type="radio" name="kind" value=(value) checked[kind == value]; (label) }
                }
            }
            label for="title" { (t.title) }
            input id="title" type="text" name="title" required maxlength="200" value=(f.value("title"));
            label for="body" { (t.body) " " small { (t.body_hint) } }
            textarea id="body" name="body" required maxlength="20000" { (f.value("body")) }
            label for="category" { (t.category) }
            select id="category" name="category" {
                option value="" { (t.category_unknown) }
                @for c in dir.categories() {
                    option value=(c.id) selected[f.get("category") == Some(c.id.as_str())] { (c.name) }
                }
            }
            label for="region" { (t.region) }
            (region_picker(dir, f.get("region"), t.region_unknown))
            label for="address" { (t.address) " " small { "(" (t.optional) ") " (t.address_hint) } }
            input id="address" type="text" name="location.address" maxlength="2000" autocomplete="street-address" value=(f.value("location.address"));
            fieldset {
                legend { (t.privacy) }
                @for (value, (label, hint)) in PRIVACIES.iter().zip(hints) {
                    label {
                        input type="radio" name="privacy" value=(value) checked[privacy == *value];
                        span { strong { (label) } ". " (hint) }
                    }
                }
            }
            label for="name" { (t.reporter_name) " " small { "(" (t.optional) ")" } }
            input id="name" type="text" name="reporter.name" maxlength="200" autocomplete="name" value=(f.value("reporter.name"));
            label for="contact" { (t.reporter_contact) " " small { "(" (t.optional) ")" } }
            input id="contact" type="text" name="reporter.contact" maxlength="200" value=(f.value("reporter.contact"));
            (extra)
            button type="submit" { (t.send) }
        }
    }
}

/// Every province and kab/kota of the directory: a province's kab/kota grouped under it.
fn region_picker(dir: &Directory, chosen: Option<&str>, unknown: &str) -> Markup {
    let governments = dir.governments();
    let provinces = governments.iter().filter(|a| a.level == Level::Province);
    html! {
        select id="region" name="region" {
            option value="" { (unknown) }
            @for p in provinces {
                @if let Some(code) = &p.region {
                    optgroup label=(p.name) {
                        option value=(code) selected[chosen == Some(code.as_str())] { (p.name) }
                        @for k in governments.iter().filter(|k| k.level == Level::Kabkota) {
                            @if let Some(kc) = k.region.as_ref().filter(|kc| kc.province() == code.as_str()) {
                                option value=(kc) selected[chosen == Some(kc.as_str())] { (k.name) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a filed complaint's page says: its tracking id and, once, the reporter token to keep.
pub(super) fn filed_notice(lang: Lang, view: &ComplaintView) -> Markup {
    let t = lang.text();
    html! {
        div.notice.good role="status" { p { (t.filed_intro) } }
        h2 { (t.tracking_id) }
        p.secret data-testid="tracking-id" { (view.tracking_id) }
        @if let Some(token) = &view.reporter_token {
            h2 { (t.reporter_token) }
            p.secret data-testid="reporter-token" { (token) }
            p { strong { (t.token_keep) } }
        }
    }
}
