//! `POST /api/links/bulk`: up to [`BULK_MAX_LINKS`] creates in one request, each going through
//! the single create's parse and service ([`super::links::create_one`]) on its own, so each
//! gets the single create's answer (201 or its 400/409 error) and a refused one writes nothing.
//! The D1 index of everything created is written in one background batch.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use worker::{Context, Request};

use super::links::create_one;
use super::view::{view, LinkView};
use super::{authenticate, body_bytes_within, json, origin, ApiResult};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::service::links::{Written, WRITES_IN_FLIGHT};
use crate::sync;

/// The most link bodies one bulk create takes.
pub const BULK_MAX_LINKS: usize = 100;
/// A bulk body's limit: 100 bodies of the single create's 8 KiB would be 800 KiB.
pub const BULK_MAX_BODY_BYTES: usize = 1024 * 1024;

/// `{"links":[…]}`, the other accepted shape of the body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped<'a> {
    #[serde(borrow)]
    links: Vec<&'a RawValue>,
}

/// The items of a bulk body: a JSON array of objects, or `{"links": [...]}`. Refused as a whole
/// (400, nothing written) when it is neither, holds more than [`BULK_MAX_LINKS`] items, or an
/// item is not an object. Each item stays raw JSON: the single create parses it.
fn bulk_items(body: &[u8]) -> Result<Vec<&RawValue>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::InvalidJson("request body is not UTF-8".into()))?;
    let invalid = |e: serde_json::Error| ApiError::InvalidJson(format!("invalid JSON body: {e}"));
    let items: Vec<&RawValue> = match text.trim_start().as_bytes().first() {
        Some(b'[') => serde_json::from_str(text).map_err(invalid)?,
        Some(b'{') => {
            serde_json::from_str::<Wrapped>(text)
                .map_err(invalid)?
                .links
        }
        _ => {
            return Err(ApiError::InvalidJson(
                "request body must be a JSON array of links, or {\"links\": [...]}".into(),
            ))
        }
    };
    if items.len() > BULK_MAX_LINKS {
        return Err(ApiError::InvalidJson(format!(
            "a bulk create takes at most {BULK_MAX_LINKS} links; this one has {}",
            items.len()
        )));
    }
    if let Some(i) = items
        .iter()
        .position(|item| !item.get().trim_start().starts_with('{'))
    {
        return Err(ApiError::InvalidJson(format!(
            "item {i} is not a JSON object"
        )));
    }
    Ok(items)
}

/// The round of each item: how many earlier items name the same slug. Items of one round run
/// concurrently; a later claim of a slug waits for the rounds before it, so the first item
/// naming a slug wins it, exactly as if the items had been sent one by one.
fn rounds(slugs: &[Option<String>]) -> Vec<usize> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    slugs
        .iter()
        .map(|slug| match slug {
            None => 0,
            Some(s) => {
                let n = seen.entry(s.as_str()).or_insert(0);
                *n += 1;
                *n - 1
            }
        })
        .collect()
}

/// Just the slug of an item, as it will be claimed, to order same-slug items; whatever else
/// the item holds is the single create's to judge.
fn claimed_slug(item: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct SlugOnly {
        #[serde(default)]
        slug: Option<serde_json::Value>,
    }
    match serde_json::from_str::<SlugOnly>(item.get()).ok()?.slug? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

#[derive(Serialize)]
struct ItemError {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ItemResult<'a> {
    index: usize,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<LinkView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ItemError>,
}

#[derive(Serialize)]
struct BulkResults<'a> {
    results: Vec<ItemResult<'a>>,
}

/// `POST /api/links/bulk` with a JSON array of up to 100 create bodies (or `{"links":[…]}`)
/// → 200 `{"results":[{"index","status","link"|"error"}]}`, one per item, in order.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let origin = origin(&req)?;
    let body = body_bytes_within(&mut req, BULK_MAX_BODY_BYTES).await?;
    let items = bulk_items(&body)?;
    let slugs: Vec<Option<String>> = items.iter().map(|i| claimed_slug(i)).collect();
    let round_of = rounds(&slugs);
    let mut outcomes: Vec<Option<Result<Written, ApiError>>> =
        (0..items.len()).map(|_| None).collect();
    let last_round = round_of.iter().copied().max().unwrap_or(0);
    for round in 0..=last_round {
        let this_round: Vec<usize> = (0..items.len()).filter(|i| round_of[*i] == round).collect();
        let done: Vec<(usize, Result<Written, ApiError>)> = stream::iter(this_round)
            .map(|i| one(items[i], i, &caller, &origin.host, app))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .collect()
            .await;
        for (i, outcome) in done {
            outcomes[i] = Some(outcome);
        }
    }
    let outcomes: Vec<Result<Written, ApiError>> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(ApiError::Internal("bulk item not run".into()))))
        .collect();
    let at = app.now();
    let mut index_changes = Vec::new();
    let mut written_links = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        written_links.push(outcome.map(|w| {
            if let Some(change) = w.change {
                index_changes.push(change);
            }
            w.link
        }));
    }
    let results = written_links
        .iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(link) => ItemResult {
                index,
                status: 201,
                link: Some(view(link, &origin.origin, at)),
                error: None,
            },
            Err(e) => {
                if e.is_server_error() {
                    worker::console_error!("bulk item {index}: {} {}: {e}", e.status(), e.code());
                }
                ItemResult {
                    index,
                    status: e.status(),
                    link: None,
                    error: Some(ItemError {
                        code: e.code(),
                        message: e.public_message(),
                    }),
                }
            }
        })
        .collect();
    if !index_changes.is_empty() {
        ctx.wait_until(sync::apply_all(app.clone(), index_changes));
    }
    json(200, &BulkResults { results })
}

async fn one(
    item: &RawValue,
    index: usize,
    caller: &Caller,
    host: &str,
    app: &App,
) -> (usize, Result<Written, ApiError>) {
    (
        index,
        create_one(item.get().as_bytes(), caller, host, app).await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_arrays_or_wrapped_arrays_of_objects() {
        assert_eq!(bulk_items(br#"[{"url":"a"},{"x":1}]"#).unwrap().len(), 2);
        assert_eq!(bulk_items(br#" {"links":[{"url":"a"}]}"#).unwrap().len(), 1);
        assert_eq!(bulk_items(b"[]").unwrap().len(), 0);
        let items = bulk_items(br#"[ {"url" : "a"} ]"#).unwrap();
        assert_eq!(items[0].get(), r#"{"url" : "a"}"#, "raw, as sent");
        for bad in [
            &br#"{"url":"a"}"#[..],
            br#"{"links":[],"more":1}"#,
            b"\"x\"",
            b"",
            b"[1]",
            br#"[{"url":"a"}, null]"#,
            br#"[["a"]]"#,
            b"[{",
        ] {
            assert_eq!(
                bulk_items(bad).unwrap_err().code(),
                "invalid_json",
                "{bad:?}"
            );
        }
        let many = format!("[{}]", vec!["{}"; BULK_MAX_LINKS + 1].join(","));
        let err = bulk_items(many.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("at most 100"), "{err}");
        let full = format!("[{}]", vec!["{}"; BULK_MAX_LINKS].join(","));
        assert_eq!(bulk_items(full.as_bytes()).unwrap().len(), BULK_MAX_LINKS);
    }

    #[test]
    fn a_slug_named_again_waits_for_the_earlier_claims() {
        let s = |x: &str| Some(x.to_owned());
        assert_eq!(
            rounds(&[s("a"), None, s("b"), s("a"), None, s("a"), s("A")]),
            vec![0, 0, 0, 1, 0, 2, 0]
        );
    }

    #[test]
    fn the_claimed_slug_is_read_leniently() {
        let raw = |t: &str| serde_json::from_str::<&RawValue>(t).unwrap().to_owned();
        assert_eq!(
            claimed_slug(&raw(r#"{"slug":"ab","x":1}"#)),
            Some("ab".into())
        );
        assert_eq!(claimed_slug(&raw(r#"{"slug":null}"#)), None);
        assert_eq!(claimed_slug(&raw(r#"{"slug":3}"#)), None);
        assert_eq!(claimed_slug(&raw(r#"{"url":"x"}"#)), None);
    }
}
