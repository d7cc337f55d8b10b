//! The bodies of Shlink's create (`POST /short-urls`) and edit (`PATCH /short-urls/{code}`),
//! parsed into edgelink's own values with edgelink's own rules (`TargetUrl`, `Slug`, `Title`,
//! `Tags`, the expiry and click-limit checks), every invalid field named for `invalid-data`
//! at once. Fields Shlink has and edgelink leaves out (`domain`, `shortCodeLength`,
//! `pathPrefix`) are refused when given; `crawlable` and `validateUrl` change nothing and are
//! ignored, as are fields Shlink does not know.

use serde_json::{Map, Value};

use super::params::parse_date;
use super::problem::Problem;
use crate::lifecycle::{parse_max_clicks, ExpiryChange, OwnerState, RedirectType};
use crate::link::{InvalidLink, Link, LinkOptions, LinkPatch, Slug, Tags, TargetUrl, Title};
use crate::time::Timestamp;

/// Body fields edgelink does not offer: refused by name when given (not null).
pub const LEFT_OUT_FIELDS: &[&str] = &["domain", "shortCodeLength", "pathPrefix"];

/// A create, parsed: the link's fields, and which of them were given (for `findIfExists`).
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub url: TargetUrl,
    pub slug: Option<Slug>,
    pub title: Option<Title>,
    pub tags: Option<Tags>,
    pub valid_since: Option<Timestamp>,
    pub expiry: ExpiryChange,
    pub max_visits: Option<u64>,
    pub forward_query: Option<bool>,
    pub find_if_exists: bool,
}

impl Create {
    /// The options of the new link (`DEFAULT_TTL_SECONDS` applies without `validUntil`, as
    /// on edgelink's own create).
    pub fn options(&self, default_ttl_secs: u64, now: Timestamp) -> LinkOptions {
        LinkOptions {
            title: self.title.clone(),
            expires_at: self.expiry.on_create(default_ttl_secs, now),
            archived: false,
            redirect_type: RedirectType::default(),
            forward_query: self.forward_query.unwrap_or(true),
            state: OwnerState::Active,
            max_clicks: self.max_visits,
            tags: self.tags.clone().unwrap_or_default(),
            valid_since: self.valid_since,
            targets: None,
            variants: None,
            preview: None,
            // Shlink's API has no passwords.
            password_hash: None,
        }
    }

    /// Whether an existing link of the caller is the one asked for: the same long URL and
    /// every other field given equal to the link's (Shlink's `findIfExists`).
    pub fn found_in(&self, link: &Link) -> bool {
        let tags_equal = |given: &Tags| {
            let mut a = given.as_slice().to_vec();
            let mut b = link.tags.as_slice().to_vec();
            a.sort();
            b.sort();
            a == b
        };
        link.url == self.url
            && self.slug.as_ref().is_none_or(|s| *s == link.slug)
            && self
                .title
                .as_ref()
                .is_none_or(|t| Some(t) == link.title.as_ref())
            && self.tags.as_ref().is_none_or(tags_equal)
            && self.valid_since.is_none_or(|t| Some(t) == link.valid_since)
            && match self.expiry {
                ExpiryChange::At(at) => link.expires_at == Some(at),
                _ => true,
            }
            && self.max_visits.is_none_or(|n| Some(n) == link.max_clicks)
            && self.forward_query.is_none_or(|f| f == link.forward_query)
    }
}

/// Collects the invalid fields of one body.
#[derive(Default)]
struct Invalid {
    elements: Vec<&'static str>,
    reasons: Vec<String>,
}

impl Invalid {
    fn add(&mut self, element: &'static str, reason: impl Into<String>) {
        self.elements.push(element);
        self.reasons.push(reason.into());
    }

    /// `r`'s value, or `None` after noting `element` invalid.
    fn check<T>(&mut self, element: &'static str, r: Result<T, InvalidLink>) -> Option<T> {
        r.map_err(|e| self.add(element, e.to_string())).ok()
    }

    fn into_problem(self) -> Option<Problem> {
        (!self.elements.is_empty())
            .then(|| Problem::invalid(&self.elements, self.reasons.join("; ")))
    }
}

/// A present field: `None` when absent, `Some(Null)` for `null`.
fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name)
}

fn text<'a>(
    invalid: &mut Invalid,
    body: &'a Map<String, Value>,
    name: &'static str,
) -> Option<Option<&'a str>> {
    match field(body, name) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => {
            invalid.add(name, format!("{name} must be a string"));
            None
        }
    }
}

fn flag(invalid: &mut Invalid, body: &Map<String, Value>, name: &'static str) -> Option<bool> {
    match field(body, name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            invalid.add(name, format!("{name} must be true or false"));
            None
        }
    }
}

fn tags(invalid: &mut Invalid, body: &Map<String, Value>) -> Option<Tags> {
    let items = match field(body, "tags")? {
        Value::Null => return Some(Tags::default()),
        Value::Array(items) => items,
        _ => {
            invalid.add("tags", "tags must be an array of strings");
            return None;
        }
    };
    let Some(strings) = items
        .iter()
        .map(Value::as_str)
        .collect::<Option<Vec<&str>>>()
    else {
        invalid.add("tags", "tags must be an array of strings");
        return None;
    };
    invalid.check("tags", Tags::parse(&strings))
}

/// `validSince`: `Some(None)` for `null`.
fn valid_since(invalid: &mut Invalid, body: &Map<String, Value>) -> Option<Option<Timestamp>> {
    match text(invalid, body, "validSince")? {
        None => Some(None),
        Some(raw) => match parse_date(raw) {
            Some(at) => Some(Some(at)),
            None => {
                invalid.add("validSince", "validSince must be an ISO-8601 date");
                None
            }
        },
    }
}

/// `validUntil` as edgelink's expiry rules take it (in the future, within a century).
fn valid_until(invalid: &mut Invalid, body: &Map<String, Value>, now: Timestamp) -> ExpiryChange {
    let raw = match text(invalid, body, "validUntil") {
        None => return ExpiryChange::Unspecified,
        Some(None) => return ExpiryChange::Clear,
        Some(Some(raw)) => raw,
    };
    let Some(at) = parse_date(raw) else {
        invalid.add("validUntil", "validUntil must be an ISO-8601 date");
        return ExpiryChange::Unspecified;
    };
    let as_edgelink = Value::String(at.to_rfc3339());
    invalid
        .check(
            "validUntil",
            ExpiryChange::parse(Some(&as_edgelink), None, now),
        )
        .unwrap_or(ExpiryChange::Unspecified)
}

/// `maxVisits`: `Some(None)` for `null`.
fn max_visits(invalid: &mut Invalid, body: &Map<String, Value>) -> Option<Option<u64>> {
    let raw = field(body, "maxVisits")?;
    invalid.check("maxVisits", parse_max_clicks(raw))
}

fn left_out(invalid: &mut Invalid, body: &Map<String, Value>) {
    for name in LEFT_OUT_FIELDS {
        if field(body, name).is_some_and(|v| !v.is_null()) {
            invalid.add(name, format!("{name} is not supported by edgelink"));
        }
    }
}

/// Parses a create body; `own_host` is the host short URLs are served on (links may not
/// point back at it).
pub fn parse_create(
    body: &Map<String, Value>,
    own_host: &str,
    now: Timestamp,
) -> Result<Create, Problem> {
    let mut invalid = Invalid::default();
    left_out(&mut invalid, body);
    let url = match text(&mut invalid, body, "longUrl") {
        Some(Some(raw)) => invalid.check("longUrl", TargetUrl::parse_for(raw, own_host)),
        Some(None) | None => {
            if field(body, "longUrl").is_none_or(Value::is_null) {
                invalid.add("longUrl", "longUrl is required");
            }
            None
        }
    };
    let slug = match text(&mut invalid, body, "customSlug").flatten() {
        Some(raw) => invalid.check("customSlug", Slug::parse(raw)),
        None => None,
    };
    let title = match text(&mut invalid, body, "title").flatten() {
        Some(raw) => invalid.check("title", Title::parse(raw)),
        None => None,
    };
    let tags = tags(&mut invalid, body);
    let valid_since = valid_since(&mut invalid, body).flatten();
    let expiry = valid_until(&mut invalid, body, now);
    let max_visits = max_visits(&mut invalid, body).flatten();
    let forward_query = flag(&mut invalid, body, "forwardQuery");
    let find_if_exists = flag(&mut invalid, body, "findIfExists").unwrap_or(false);
    flag(&mut invalid, body, "crawlable");
    if let Some(problem) = invalid.into_problem() {
        return Err(problem);
    }
    let Some(url) = url else {
        return Err(Problem::invalid(&["longUrl"], "longUrl is required"));
    };
    Ok(Create {
        url,
        slug,
        title,
        tags,
        valid_since,
        expiry,
        max_visits,
        forward_query,
        find_if_exists,
    })
}

/// Parses an edit body into edgelink's patch; `null` clears a field.
pub fn parse_edit(
    body: &Map<String, Value>,
    own_host: &str,
    now: Timestamp,
) -> Result<LinkPatch, Problem> {
    let mut invalid = Invalid::default();
    left_out(&mut invalid, body);
    let url = match text(&mut invalid, body, "longUrl") {
        None => None,
        Some(None) => {
            invalid.add("longUrl", "longUrl cannot be null");
            None
        }
        Some(Some(raw)) => invalid.check("longUrl", TargetUrl::parse_for(raw, own_host)),
    };
    let title = match text(&mut invalid, body, "title") {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => invalid.check("title", Title::parse(raw)).map(Some),
    };
    let patch = LinkPatch {
        url,
        title,
        tags: tags(&mut invalid, body),
        valid_since: valid_since(&mut invalid, body),
        expires_at: valid_until(&mut invalid, body, now).on_update(),
        max_clicks: max_visits(&mut invalid, body),
        forward_query: flag(&mut invalid, body, "forwardQuery"),
        ..LinkPatch::default()
    };
    flag(&mut invalid, body, "crawlable");
    match invalid.into_problem() {
        Some(problem) => Err(problem),
        None => Ok(patch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOST: &str = "sho.rt";
    const NOW: u64 = 1_800_000_000_000;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn now() -> Timestamp {
        Timestamp::from_millis(NOW)
    }

    fn invalid_elements(p: Problem) -> Vec<String> {
        match p {
            Problem::InvalidData {
                invalid_elements, ..
            } => invalid_elements,
            other => panic!("not invalid-data: {other:?}"),
        }
    }

    #[test]
    fn a_full_create_becomes_edgelink_options() {
        let c = parse_create(
            &body(json!({
                "longUrl": "https://example.com/a", "customSlug": "my-link", "title": "T",
                "tags": ["B", "a"], "validSince": "2027-01-15T09:00:00+01:00",
                "validUntil": "2030-01-01T00:00:00Z", "maxVisits": 3, "forwardQuery": false,
                "findIfExists": true, "crawlable": false, "domain": null, "unknown": 1
            })),
            HOST,
            now(),
        )
        .unwrap();
        assert_eq!(c.slug.as_ref().map(Slug::as_str), Some("my-link"));
        assert!(c.find_if_exists);
        let o = c.options(0, now());
        assert_eq!(o.tags.as_slice(), ["b", "a"]);
        assert_eq!(o.max_clicks, Some(3));
        assert!(!o.forward_query);
        assert_eq!(
            o.valid_since.map(|t| t.to_rfc3339()),
            Some("2027-01-15T08:00:00.000Z".into())
        );
        assert_eq!(
            o.expires_at.map(|t| t.to_rfc3339()),
            Some("2030-01-01T00:00:00.000Z".into())
        );
        let plain = parse_create(
            &body(json!({"longUrl": "https://example.com"})),
            HOST,
            now(),
        )
        .unwrap();
        assert_eq!(
            plain.options(60, now()).expires_at,
            Some(Timestamp::from_millis(NOW + 60_000))
        );
        assert!(plain.options(0, now()).forward_query);
    }

    #[test]
    fn every_invalid_field_is_named_at_once() {
        let p = parse_create(
            &body(json!({
                "longUrl": "javascript:alert(1)", "customSlug": "a b", "title": 5,
                "tags": ["ok", 3], "validSince": "someday", "validUntil": "2001-01-01T00:00:00Z",
                "maxVisits": 0, "forwardQuery": "yes", "shortCodeLength": 8, "pathPrefix": "x"
            })),
            HOST,
            now(),
        )
        .unwrap_err();
        let mut got = invalid_elements(p);
        got.sort();
        let mut want = vec![
            "customSlug",
            "forwardQuery",
            "longUrl",
            "maxVisits",
            "pathPrefix",
            "shortCodeLength",
            "tags",
            "title",
            "validSince",
            "validUntil",
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            invalid_elements(parse_create(&body(json!({})), HOST, now()).unwrap_err()),
            vec!["longUrl"]
        );
        assert_eq!(
            invalid_elements(
                parse_create(&body(json!({"longUrl": "https://sho.rt/x"})), HOST, now())
                    .unwrap_err()
            ),
            vec!["longUrl"]
        );
        assert_eq!(
            invalid_elements(
                parse_create(
                    &body(json!({"longUrl": "https://e.com", "customSlug": "api"})),
                    HOST,
                    now()
                )
                .unwrap_err()
            ),
            vec!["customSlug"]
        );
    }

    #[test]
    fn an_edit_sets_clears_and_leaves_alone() {
        let p = parse_edit(
            &body(json!({"title": null, "validUntil": null, "maxVisits": null, "tags": [], "validSince": null})),
            HOST,
            now(),
        )
        .unwrap();
        assert_eq!(p.title, Some(None));
        assert_eq!(p.expires_at, Some(None));
        assert_eq!(p.max_clicks, Some(None));
        assert_eq!(p.valid_since, Some(None));
        assert_eq!(p.tags, Some(Tags::default()));
        assert_eq!(p.url, None);
        assert!(parse_edit(&body(json!({})), HOST, now())
            .unwrap()
            .is_empty());
        let p = parse_edit(
            &body(json!({"longUrl": "https://e.com/b", "forwardQuery": true})),
            HOST,
            now(),
        )
        .unwrap();
        assert_eq!(
            p.url.map(|u| u.as_str().to_owned()),
            Some("https://e.com/b".into())
        );
        assert_eq!(p.forward_query, Some(true));
        let e = parse_edit(
            &body(json!({"longUrl": null, "maxVisits": -1})),
            HOST,
            now(),
        )
        .unwrap_err();
        assert_eq!(invalid_elements(e), vec!["longUrl", "maxVisits"]);
    }

    #[test]
    fn find_if_exists_matches_the_given_fields_only() {
        let c = parse_create(
            &body(json!({"longUrl": "https://example.com/a", "tags": ["x"]})),
            HOST,
            now(),
        )
        .unwrap();
        let mut link = Link::new(
            Slug::parse("abc").unwrap(),
            TargetUrl::parse("https://example.com/a").unwrap(),
            crate::account::UserId::admin(),
            c.options(0, now()),
            now(),
        );
        assert!(c.found_in(&link));
        link.title = Some(Title::parse("other").unwrap());
        assert!(c.found_in(&link), "title was not given");
        link.tags = Tags::parse(&["y"]).unwrap();
        assert!(!c.found_in(&link));
        let other_url = parse_create(
            &body(json!({"longUrl": "https://example.com/b"})),
            HOST,
            now(),
        )
        .unwrap();
        assert!(!other_url.found_in(&link));
    }
}
