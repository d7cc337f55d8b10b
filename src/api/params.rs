//! Path segments, query parameters and request headers that several endpoints take, each parsed
//! once into a typed value: slugs, list limits, the archive and state filters, and `If-Match`.

use worker::Request;

use crate::error::ApiError;
use crate::link::{parse_tags, LinkState, Slug, Version, TAGS_MAX};
use crate::store::index::{TagFilter, TagMode};

pub const LIST_DEFAULT_LIMIT: u32 = 20;
pub const LIST_MAX_LIMIT: u32 = 100;

/// A slug from a path: one that cannot exist is simply not found.
pub fn path_slug(raw: &str) -> Result<Slug, ApiError> {
    Slug::parse(raw).map_err(|_| ApiError::NotFound)
}

/// Parses a list's `limit`: absent → the default; otherwise an integer in `1..=LIST_MAX_LIMIT`.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, ApiError> {
    parse_limit_within(raw, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT)
}

/// Parses a `limit`: absent → `default`; otherwise an integer in `1..=max`.
pub fn parse_limit_within(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or(ApiError::InvalidLimit { max })
}

/// One page of a keyset-paginated list, from rows fetched with `limit + 1` (one extra row says
/// whether another page exists): the first `limit` rows, and the cursor after the last of them
/// when there is more.
pub fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    cursor_after: impl Fn(&T) -> Option<String>,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = rows.last().filter(|_| more).and_then(cursor_after);
    (rows, next)
}

/// Parses a yes/no query parameter `name` that also takes `1`/`0` (`retry_parked`): absent,
/// empty, `false` or `0` → no; `true` or `1` → yes; anything else is refused.
pub fn parse_flag(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(ApiError::InvalidQuery(format!(
            "{name} must be true or false"
        ))),
    }
}

/// Parses `archived=`: absent → unarchived links; `true` → archived ones only (`1` is refused,
/// as it always was).
pub fn parse_archived(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::InvalidQuery(
            "archived must be true or false".into(),
        )),
    }
}

/// Parses `state=`: absent → any; else one of the three states.
pub fn parse_state(raw: Option<&str>) -> Result<Option<LinkState>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("active") => Ok(Some(LinkState::Active)),
        Some("disabled") => Ok(Some(LinkState::Disabled)),
        Some("flagged") => Ok(Some(LinkState::Flagged)),
        Some(_) => Err(ApiError::InvalidState(
            "state must be one of: active, disabled, flagged".into(),
        )),
    }
}

/// Parses the lists' `tag=` (repeatable; empty values ignored) and `tag_mode=any|all`
/// (default any): at most [`TAGS_MAX`] tags, each normalised as a link's tags are.
pub fn parse_tag_filter<S: AsRef<str>>(
    tags: &[S],
    mode: Option<&str>,
) -> Result<TagFilter, ApiError> {
    let mode = match mode.map(str::trim).filter(|m| !m.is_empty()) {
        None | Some("any") => TagMode::Any,
        Some("all") => TagMode::All,
        Some(_) => return Err(ApiError::InvalidQuery("tag_mode must be any or all".into())),
    };
    let given: Vec<&str> = tags
        .iter()
        .map(AsRef::as_ref)
        .filter(|t| !t.trim().is_empty())
        .collect();
    let out = parse_tags(&given).map_err(|e| ApiError::InvalidQuery(format!("tag: {e}")))?;
    if out.len() > TAGS_MAX {
        return Err(ApiError::InvalidQuery(format!(
            "at most {TAGS_MAX} tag parameters"
        )));
    }
    Ok(TagFilter { tags: out, mode })
}

/// The `ETag` of a link at `version`: its version, quoted (a strong validator: two
/// representations with one version are the same link).
pub fn etag(version: Version) -> String {
    format!("\"{}\"", version.get())
}

/// What `If-Match` asks: absent or `*` → no version condition (`None`); one strong ETag this API
/// issued → that version. Anything else can match no current link: 412, as RFC 9110 has it
/// for a condition that is false.
pub fn parse_if_match(raw: Option<&str>) -> Result<Option<Version>, ApiError> {
    let Some(raw) = raw.map(str::trim) else {
        return Ok(None);
    };
    if raw == "*" {
        return Ok(None);
    }
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u64>().ok())
        .map(|v| Some(Version::new(v)))
        .ok_or(ApiError::PreconditionFailed(
            "If-Match must be one ETag this API returned (e.g. \"1767225600000\"), or *".into(),
        ))
}

/// The request's `If-Match`, parsed.
pub fn if_match(req: &Request) -> Result<Option<Version>, ApiError> {
    parse_if_match(req.headers().get("If-Match").ok().flatten().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filters_are_normalised_bounded_and_moded() {
        let f = parse_tag_filter(&["Go", "", "go", "Café"], None).unwrap();
        assert_eq!(
            (f.tags, f.mode),
            (vec!["go".into(), "café".into()], TagMode::Any)
        );
        assert_eq!(
            parse_tag_filter(&["a"], Some("all")).unwrap().mode,
            TagMode::All
        );
        for (tags, mode) in [(vec!["a"], Some("some")), (vec!["a b"], None)] {
            assert!(matches!(
                parse_tag_filter(&tags, mode),
                Err(ApiError::InvalidQuery(_))
            ));
        }
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse_tag_filter(&eleven, None).is_err());
        assert!(parse_tag_filter::<&str>(&[], None).unwrap().tags.is_empty());
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse_limit(None).unwrap(), 20);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "x", "", "1.5", "99999999999999999999"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(parse_limit_within(None, 5, 10).unwrap(), 5);
        assert!(parse_limit_within(Some("11"), 5, 10).is_err());
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_the_extra_row_came() {
        let cursor = |n: &u32| Some(n.to_string());
        assert_eq!(
            page(vec![1, 2, 3], 2, cursor),
            (vec![1, 2], Some("2".into()))
        );
        assert_eq!(page(vec![1, 2], 2, cursor), (vec![1, 2], None));
        assert_eq!(page(Vec::<u32>::new(), 2, cursor), (vec![], None));
    }

    #[test]
    fn archived_filter_defaults_to_unarchived() {
        assert!(!parse_archived(None).unwrap());
        assert!(!parse_archived(Some("false")).unwrap());
        assert!(parse_archived(Some("true")).unwrap());
        assert!(parse_archived(Some("yes")).is_err());
        assert!(parse_archived(Some("1")).is_err());
    }

    #[test]
    fn state_filter_accepts_the_three_states_only() {
        assert_eq!(parse_state(None).unwrap(), None);
        assert_eq!(parse_state(Some("")).unwrap(), None);
        assert_eq!(
            parse_state(Some("flagged")).unwrap(),
            Some(LinkState::Flagged)
        );
        assert!(parse_state(Some("archived")).is_err());
    }

    #[test]
    fn if_match_takes_one_strong_etag_or_a_star() {
        assert_eq!(parse_if_match(None).unwrap(), None);
        assert_eq!(parse_if_match(Some("*")).unwrap(), None);
        let v = Version::new(1_767_225_600_000);
        assert_eq!(parse_if_match(Some(&etag(v))).unwrap(), Some(v));
        assert_eq!(
            parse_if_match(Some(" \"7\" ")).unwrap(),
            Some(Version::new(7))
        );
        for bad in [
            "7",
            "W/\"7\"",
            "\"7\", \"8\"",
            "\"\"",
            "\"x\"",
            "\"99999999999999999999999\"",
        ] {
            let e = parse_if_match(Some(bad)).unwrap_err();
            assert_eq!(e.code(), "version_mismatch", "{bad}");
        }
    }
}
