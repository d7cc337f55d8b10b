//! [`Variants`]: weighted destinations (an A/B test) that replace a link's `url`, and the pure
//! parts of choosing one: a visitor's daily [`variant_bucket`] and [`pick_weighted`]. Pure:
//! never imports `worker`, reads no clock (the day is passed in).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::TargetUrl;
use crate::invalid::InvalidLink;

pub const VARIANTS_MIN: usize = 2;
pub const VARIANTS_MAX: usize = 5;
pub const WEIGHT_MIN: u32 = 1;
pub const WEIGHT_MAX: u32 = 100;

/// One weighted destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub url: TargetUrl,
    #[serde(deserialize_with = "weight")]
    pub weight: u32,
}

fn weight<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let w = u32::deserialize(d)?;
    if (WEIGHT_MIN..=WEIGHT_MAX).contains(&w) {
        Ok(w)
    } else {
        Err(serde::de::Error::custom("weight out of range"))
    }
}

/// 2–5 weighted destinations. A click records which one it went to by its place in the list,
/// `1` to `5` (the roll-up's `variant` dimension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Variants(Vec<Variant>);

impl<'de> Deserialize<'de> for Variants {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Variant>::deserialize(d)?;
        if !(VARIANTS_MIN..=VARIANTS_MAX).contains(&list.len()) {
            return Err(serde::de::Error::custom("2 to 5 variants"));
        }
        Ok(Self(list))
    }
}

impl Variants {
    /// Parses the API's `variants` array of `{url, weight}`. `own_host` as for `url`; the
    /// blocklist is the caller's ([`Self::urls`]).
    pub fn parse(raw: &Value, own_host: &str) -> Result<Self, InvalidLink> {
        let bad = |why: String| InvalidLink::Variants(why);
        let Value::Array(items) = raw else {
            return Err(bad("variants must be an array of {url, weight}".into()));
        };
        if !(VARIANTS_MIN..=VARIANTS_MAX).contains(&items.len()) {
            return Err(bad(format!(
                "variants holds {VARIANTS_MIN} to {VARIANTS_MAX} destinations"
            )));
        }
        let mut list = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let n = i + 1;
            let Value::Object(fields) = item else {
                return Err(bad(format!(
                    "variants[{n}] must be an object {{url, weight}}"
                )));
            };
            if let Some(other) = fields.keys().find(|k| *k != "url" && *k != "weight") {
                return Err(bad(format!("variants[{n}] has no field `{other}`")));
            }
            let url = match fields.get("url") {
                Some(Value::String(s)) => TargetUrl::parse_for(s, own_host)
                    .map_err(|e| bad(format!("variants[{n}].url: {e}")))?,
                _ => return Err(bad(format!("variants[{n}].url must be a URL string"))),
            };
            let weight = fields
                .get("weight")
                .and_then(Value::as_u64)
                .filter(|w| (u64::from(WEIGHT_MIN)..=u64::from(WEIGHT_MAX)).contains(w))
                .ok_or_else(|| {
                    bad(format!(
                        "variants[{n}].weight must be a whole number from {WEIGHT_MIN} to {WEIGHT_MAX}"
                    ))
                })?;
            list.push(Variant {
                url,
                weight: weight as u32,
            });
        }
        Ok(Self(list))
    }

    pub fn as_slice(&self) -> &[Variant] {
        &self.0
    }

    /// Every destination, for the blocklist.
    pub fn urls(&self) -> impl Iterator<Item = &TargetUrl> {
        self.0.iter().map(|v| &v.url)
    }
}

/// A visitor's place in `[0, 2^64)` for one link and UTC day: the same visitor (IP and user
/// agent) gets the same number all day, so keeps its variant on return, without a cookie.
///
/// Why no secret salt, unlike analytics' visitor id: the redirect must answer before any KV
/// read but the link's own, and without `ANALYTICS_SALT` the day's salt can take one. Nothing
/// unsalted leaves the Worker: this number only picks a variant (the click records `1`–`5`),
/// so there is nothing a salt would protect. The slug is hashed in so that one visitor's
/// variants in two tests are independent.
pub fn variant_bucket(ip: &str, user_agent: &str, day: &str, slug: &str) -> u64 {
    let mut h = Sha256::new();
    for part in [ip, user_agent, day, slug] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The variant (its index) a `bucket` falls in when `weights` share `[0, 2^64)` in proportion;
/// `None` when there is no weight at all. Exact: the product of a 64-bit bucket and a total of
/// at most 500 is done in 128 bits.
pub fn pick_weighted(weights: impl Iterator<Item = u32> + Clone, bucket: u64) -> Option<usize> {
    let total: u64 = weights.clone().map(u64::from).sum();
    if total == 0 {
        return None;
    }
    // The bucket scaled into [0, total).
    let mut at = ((u128::from(bucket) * u128::from(total)) >> 64) as u64;
    for (i, w) in weights.enumerate() {
        let w = u64::from(w);
        if at < w {
            return Some(i);
        }
        at -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variants_parse_two_to_five_weighted_urls_and_refuse_the_rest() {
        let v = Variants::parse(
            &json!([{"url": "https://a.com/", "weight": 70}, {"url": "https://b.com/", "weight": 30}]),
            "sho.rt",
        )
        .unwrap();
        assert_eq!(v.as_slice()[1].weight, 30);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"[{"url":"https://a.com/","weight":70},{"url":"https://b.com/","weight":30}]"#
        );
        assert_eq!(serde_json::from_str::<Variants>(&json).unwrap(), v);
        let one = json!({"url": "https://a.com/", "weight": 1});
        for bad in [
            json!({"url": "https://a.com/"}),
            json!([one]),
            json!([one, one, one, one, one, one]),
            json!([one, {"url": "https://b.com/", "weight": 0}]),
            json!([one, {"url": "https://b.com/", "weight": 101}]),
            json!([one, {"url": "https://b.com/", "weight": 1.5}]),
            json!([one, {"url": "https://b.com/", "weight": "5"}]),
            json!([one, {"url": "https://b.com/"}]),
            json!([one, {"weight": 5}]),
            json!([one, {"url": "mailto:x@y.z", "weight": 5}]),
            json!([one, {"url": "https://sho.rt/x", "weight": 5}]),
            json!([one, {"url": "https://b.com/", "weight": 5, "name": "b"}]),
            json!([one, "https://b.com/"]),
        ] {
            assert!(
                matches!(
                    Variants::parse(&bad, "sho.rt"),
                    Err(InvalidLink::Variants(_))
                ),
                "{bad}"
            );
        }
        for corrupt in [
            r#"[{"url":"https://a.com/","weight":1}]"#,
            r#"[{"url":"https://a.com/","weight":1},{"url":"https://b.com/","weight":0}]"#,
        ] {
            assert!(
                serde_json::from_str::<Variants>(corrupt).is_err(),
                "{corrupt}"
            );
        }
    }

    #[test]
    fn picks_follow_the_weights_exactly_over_the_bucket_range() {
        let w = [70u32, 20, 10];
        let pick = |b: u64| pick_weighted(w.iter().copied(), b);
        assert_eq!(pick(0), Some(0));
        assert_eq!(pick(u64::MAX), Some(2));
        // The boundaries sit at 70 % and 90 % of the range.
        let at = |share: f64| (share * u64::MAX as f64) as u64;
        assert_eq!(pick(at(0.699)), Some(0));
        assert_eq!(pick(at(0.701)), Some(1));
        assert_eq!(pick(at(0.899)), Some(1));
        assert_eq!(pick(at(0.901)), Some(2));
        assert_eq!(pick_weighted([].into_iter(), 5), None);
        // Hashed buckets spread by weight: 10,000 visitors within a wide bound of 70/20/10.
        let mut counts = [0u32; 3];
        for i in 0..10_000 {
            let b = variant_bucket(
                &format!("10.0.{}.{}", i / 256, i % 256),
                "ua",
                "2026-12-07",
                "s",
            );
            counts[pick(b).unwrap()] += 1;
        }
        assert!((6_700..7_300).contains(&counts[0]), "{counts:?}");
        assert!((1_700..2_300).contains(&counts[1]), "{counts:?}");
        assert!((800..1_200).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn a_visitor_keeps_its_bucket_for_the_day_and_link_only() {
        let b = variant_bucket("1.2.3.4", "ua", "2026-12-07", "s");
        assert_eq!(b, variant_bucket("1.2.3.4", "ua", "2026-12-07", "s"));
        assert_ne!(b, variant_bucket("1.2.3.4", "ua", "2026-12-08", "s"));
        assert_ne!(b, variant_bucket("1.2.3.4", "ua", "2026-12-07", "t"));
        assert_ne!(b, variant_bucket("1.2.3.5", "ua", "2026-12-07", "s"));
    }
}
