//! The GeoReport v2 wire shapes (docs/open311.md; the spec: <https://wiki.open311.org/GeoReport_v2/>):
//! what Open311 clients send (the query and form parameters, decoded and bounded like `wire.rs`) and
//! what they read, the same structures in JSON and in XML. Separate from the JSON API's wire types
//! (invariant 7): this module only says how the spec spells things.
//!
//! The spec writes a list as a JSON array and, in XML, as an element wrapping one element per item
//! (`<formats><format>…</format></formats>`): [`List`] is both, by the [`Format`] it was made for.
//! Every text an answer carries is a [`Text`]: the characters XML 1.0 cannot hold (C0 controls other
//! than tab, newline and carriage return; U+FFFE, U+FFFF) become U+FFFD, in both formats alike.

use crate::wire::text::{self, REASON, SHORT};
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The two formats of every endpoint, named by the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Format {
    /// `.json`: `application/json`.
    Json,
    /// `.xml`: `text/xml`.
    Xml,
}

impl Format {
    /// The format of an extension (`json`, `xml`), if it is one.
    pub fn of(ext: &str) -> Option<Format> {
        match ext {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }

    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// `name.json` or `name.xml` as (name, format); `None` for another or no extension.
pub fn split_format(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    Some((name, Format::of(ext)?))
}

/// Text of an answer, holding only characters XML 1.0 allows (the others become U+FFFD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// `s`, with each character XML 1.0 cannot hold replaced by U+FFFD.
    pub fn new(s: &str) -> Text {
        Text(s.chars().map(|c| if xml_char(c) { c } else { char::REPLACEMENT_CHARACTER }).collect())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// XML 1.0's `Char` production (a Rust `char` is never a surrogate).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A list: a JSON array, or in XML an element holding one `item` element per entry.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    item: &'static str,
    items: Vec<T>,
    format: Format,
}

impl<T> List<T> {
    /// `items` as `format` writes a list of `item` elements.
    pub fn new(format: Format, item: &'static str, items: Vec<T>) -> Self {
        Self { item, items, format }
    }

    /// The entries.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.format {
            Format::Json => self.items.serialize(s),
            Format::Xml => {
                let mut wrap = s.serialize_struct("list", 1)?;
                wrap.serialize_field(self.item, &self.items)?;
                wrap.end()
            }
        }
    }
}

/// One entry of an error answer: `[{"code": 400, "description": "…"}]`, `<errors><error>…`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorEntry {
    /// The HTTP status of the answer.
    pub code: u16,
    /// What is wrong, naming the parameter.
    pub description: Text,
}

/// `GET discovery`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    /// When this document last changed.
    pub changeset: Text,
    /// Where to ask for help.
    pub contact: Text,
    /// How to get an `api_key`.
    pub key_service: Text,
    /// The one endpoint: this one.
    pub endpoints: List<Endpoint>,
}

/// One endpoint of [`Discovery`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// The spec it follows.
    pub specification: Text,
    /// Its base URL.
    pub url: Text,
    /// When its API last changed.
    pub changeset: Text,
    /// `production`.
    #[serde(rename = "type")]
    pub kind: Text,
    /// `text/xml`, `application/json`.
    pub formats: List<Text>,
}

/// One entry of `GET services`: a category of the active pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEntry {
    /// The category id.
    pub service_code: Text,
    /// The category's name.
    pub service_name: Text,
    /// The category's description.
    pub description: Text,
    /// Always `false`: no category asks for attributes.
    pub metadata: bool,
    /// Always `realtime`: a request's id is answered at once.
    #[serde(rename = "type")]
    pub kind: Text,
    /// Who handles it: the unit type (`dinas-pu`) or the national body (`pln`).
    pub keywords: Text,
    /// `urusan daerah` (handled by the region's own unit) or `urusan nasional` (a national body).
    pub group: Text,
}

/// `GET services/{service_code}`: a service's definition, with no attributes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDefinition {
    /// The category id.
    pub service_code: Text,
    /// Always empty.
    pub attributes: List<Text>,
}

/// One entry of the answer to `POST requests`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    /// The case's tracking id.
    pub service_request_id: Text,
    /// What happens next, and by when.
    pub service_notice: Text,
    /// Always null: no account is made.
    pub account_id: Option<Text>,
}

/// One service request (`GET requests`, `GET requests/{id}`): a case as the public sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRequest {
    /// The tracking id.
    pub service_request_id: Text,
    /// `open` or `closed`.
    pub status: Text,
    /// The latest response or resolution message the public may read.
    pub status_notes: Option<Text>,
    /// The category's name.
    pub service_name: Option<Text>,
    /// The category id.
    pub service_code: Option<Text>,
    /// The body (withheld for a confidential case).
    pub description: Option<Text>,
    /// The holding agency's name.
    pub agency_responsible: Option<Text>,
    /// Always null.
    pub service_notice: Option<Text>,
    /// Received, in the region's time zone.
    pub requested_datetime: Text,
    /// The latest event, in the region's time zone.
    pub updated_datetime: Option<Text>,
    /// The completion deadline, in the region's time zone.
    pub expected_datetime: Option<Text>,
    /// The address as written.
    pub address: Option<Text>,
    /// Always null.
    pub address_id: Option<Text>,
    /// Always null.
    pub zipcode: Option<Text>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    #[serde(rename = "long")]
    pub long: Option<f64>,
    /// A photo or document.
    pub media_url: Option<Text>,
}

// ---- what clients send ---------------------------------------------------------------------------

/// An optional parameter of at most `MAX` characters without NUL; empty (`address_string=`, as form
/// clients send for a field left blank) is absent.
pub fn param<'de, const MAX: usize, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?.filter(|s| !s.is_empty());
    match s {
        Some(s) => text::refusal(&s, MAX).map_or(Ok(Some(s)), |why| Err(D::Error::custom(why))),
        None => Ok(None),
    }
}

/// A coordinate parameter within ±`max` degrees; empty is absent.
fn degrees<'de, D: Deserializer<'de>>(d: D, max: f64) -> Result<Option<f64>, D::Error> {
    let Some(s) = param::<SHORT, D>(d)? else { return Ok(None) };
    let v: f64 = s.trim().parse().map_err(|_| D::Error::custom("not a number of degrees"))?;
    match crate::wire::geo::refusal(v, max) {
        Some(why) => Err(D::Error::custom(why)),
        None => Ok(Some(v)),
    }
}

fn latitude<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    degrees(d, 90.0)
}

fn longitude<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    degrees(d, 180.0)
}

/// The spec's description limit.
pub const DESCRIPTION: usize = 4_000;
/// A comma-separated list of ids or codes.
pub const LIST: usize = 20_000;

/// The query of `discovery`, `services` and `services/{code}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServicesQuery {
    /// A Kemendagri region code (optional here; checked when given).
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub jurisdiction_id: Option<String>,
    /// Accepted and not needed: reads are public.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub api_key: Option<String>,
}

/// The query of `GET requests` (and `GET requests/{id}`, which reads only `jurisdiction_id`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestsQuery {
    /// Tracking ids, comma-separated; overrides every other filter.
    #[serde(default, deserialize_with = "param::<LIST, _>")]
    pub service_request_id: Option<String>,
    /// Category ids, comma-separated.
    #[serde(default, deserialize_with = "param::<REASON, _>")]
    pub service_code: Option<String>,
    /// Received at or after (W3C date-time, e.g. `2026-12-01T00:00:00+07:00`).
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub start_date: Option<String>,
    /// Received at or before.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub end_date: Option<String>,
    /// `open`, `closed` or both, comma-separated.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub status: Option<String>,
    /// Cases filed in this region code or below it.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub jurisdiction_id: Option<String>,
    /// Accepted and not needed: reads are public.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub api_key: Option<String>,
}

/// The form of `POST requests` (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// An API token (`aduan token create`).
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub api_key: Option<String>,
    /// A Kemendagri region code: where the complaint is.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub jurisdiction_id: Option<String>,
    /// A category id.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub service_code: Option<String>,
    /// Latitude, with `long`.
    #[serde(default, deserialize_with = "latitude")]
    pub lat: Option<f64>,
    /// Longitude, with `lat`.
    #[serde(default, deserialize_with = "longitude", rename = "long")]
    pub long: Option<f64>,
    /// The address as written.
    #[serde(default, deserialize_with = "param::<REASON, _>")]
    pub address_string: Option<String>,
    /// Not supported (no address registry): accepted beside a location, ignored.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub address_id: Option<String>,
    /// The reporter's e-mail: the contact.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub email: Option<String>,
    /// Accepted and not kept.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub device_id: Option<String>,
    /// Accepted and not kept.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub account_id: Option<String>,
    /// The reporter's first name.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub first_name: Option<String>,
    /// The reporter's last name.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub last_name: Option<String>,
    /// The reporter's phone: the contact when no e-mail is given.
    #[serde(default, deserialize_with = "param::<SHORT, _>")]
    pub phone: Option<String>,
    /// The complaint, at most 4,000 characters (the spec's limit).
    #[serde(default, deserialize_with = "param::<DESCRIPTION, _>")]
    pub description: Option<String>,
    /// A photo or document: an http(s) URL.
    #[serde(default, deserialize_with = "param::<REASON, _>")]
    pub media_url: Option<String>,
}

/// The parameters whose values are the reporter's identity: a refusal never repeats them.
pub const IDENTITY_PARAMS: [&str; 6] = ["email", "first_name", "last_name", "phone", "device_id", "account_id"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_what_xml_can_hold() {
        assert_eq!(Text::new("a\tb\nc\r ½ 😀").as_str(), "a\tb\nc\r ½ 😀");
        assert_eq!(Text::new("a\u{1}b\u{1b}c\u{fffe}").as_str(), "a\u{fffd}b\u{fffd}c\u{fffd}");
    }

    #[test]
    fn a_list_is_an_array_or_a_wrapper() {
        let json = List::new(Format::Json, "format", vec![Text::new("text/xml")]);
        assert_eq!(serde_json::to_string(&json).unwrap(), r#"["text/xml"]"#);
        let xml = List::new(Format::Xml, "format", vec![Text::new("text/xml"), Text::new("application/json")]);
        assert_eq!(
            quick_xml::se::to_string_with_root("formats", &xml).unwrap(),
            "<formats><format>text/xml</format><format>application/json</format></formats>"
        );
    }

    #[test]
    fn extensions_name_the_format() {
        assert_eq!(split_format("ABCDE-12345.xml"), Some(("ABCDE-12345", Format::Xml)));
        assert_eq!(split_format("infrastruktur.json"), Some(("infrastruktur", Format::Json)));
        assert_eq!(split_format("infrastruktur"), None);
        assert_eq!(split_format("x.yaml"), None);
    }
}
