//! Where one visit of a link with targets or variants goes ([`choose_destination`]), from the
//! options as the redirect reads them ([`StoredOptions`]). Pure and on the hot path: never
//! imports `worker`, reads no clock; the visitor's bucket is computed only when a variant is
//! to be picked.
//!
//! The order, documented in docs/api.md: a **country** target for the visitor's country, else a
//! **device** target for its device, else a **variant** picked by weight, else the link's
//! `url`. Targets are the owner's explicit routing, so they win over an experiment; a visit a
//! target sends elsewhere is not part of the A/B test (its click records no variant).

use serde::Deserialize;

use super::targets::Device;
use super::variants::pick_weighted;

/// A link's smart options as the redirect reads them: the JS side (`link_options` in
/// src/api/redirect.js) hands over only the visitor's country's target, not the whole map, so
/// a link with 50 countries costs a redirect no more than one with one. Raw strings: these
/// values were validated on write, and re-parsing URLs here would cost the runtime's `URL`
/// each; a value of the wrong JSON type fails this parse and the link is treated as missing.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct StoredOptions {
    #[serde(default)]
    pub targets: Option<StoredTargets>,
    #[serde(default)]
    pub variants: Option<Vec<StoredVariant>>,
    #[serde(default)]
    pub preview: Option<StoredPreview>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct StoredTargets {
    #[serde(default)]
    pub ios: Option<String>,
    #[serde(default)]
    pub android: Option<String>,
    #[serde(default)]
    pub desktop: Option<String>,
    /// The target of the visitor's country, if the link has one.
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct StoredVariant {
    pub url: String,
    pub weight: u32,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct StoredPreview {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
}

/// Where a visit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// The link's own `url`.
    Url,
    /// A country or device target.
    Target(&'a str),
    /// A variant: its number (1 = the first listed) and URL.
    Variant(u8, &'a str),
}

impl Destination<'_> {
    /// The variant a click records: `"1"`–`"5"`, or empty.
    pub fn variant_label(self) -> &'static str {
        match self {
            Destination::Variant(n, _) => ["1", "2", "3", "4", "5"]
                .get(usize::from(n).saturating_sub(1))
                .copied()
                .unwrap_or(""),
            _ => "",
        }
    }
}

/// Chooses the destination (see the module doc for the order). `bucket` is the visitor's
/// daily place in `[0, 2^64)` (`variant_bucket`), asked for only when a variant is picked.
pub fn choose_destination<'a>(
    options: &'a StoredOptions,
    device: Option<Device>,
    bucket: impl FnOnce() -> u64,
) -> Destination<'a> {
    if let Some(t) = &options.targets {
        let by_device = match device {
            Some(Device::Ios) => t.ios.as_deref(),
            Some(Device::Android) => t.android.as_deref(),
            Some(Device::Desktop) => t.desktop.as_deref(),
            None => None,
        };
        if let Some(url) = t.country.as_deref().or(by_device) {
            return Destination::Target(url);
        }
    }
    if let Some(variants) = options.variants.as_deref().filter(|v| !v.is_empty()) {
        let picked = pick_weighted(variants.iter().map(|v| v.weight), bucket());
        if let Some((i, v)) = picked.and_then(|i| Some((i, variants.get(i)?))) {
            return Destination::Variant(i as u8 + 1, &v.url);
        }
    }
    Destination::Url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: &str) -> StoredOptions {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn country_beats_device_beats_variant_beats_url() {
        let all = options(
            r#"{"targets":{"ios":"https://i/","android":"https://a/","desktop":"https://d/","country":"https://de/"},
                "variants":[{"url":"https://v1/","weight":1},{"url":"https://v2/","weight":1}]}"#,
        );
        let never = || -> u64 { unreachable!("no variant is picked") };
        assert_eq!(
            choose_destination(&all, Some(Device::Ios), never),
            Destination::Target("https://de/")
        );
        let no_country = options(
            r#"{"targets":{"ios":"https://i/","android":"https://a/"},
                "variants":[{"url":"https://v1/","weight":1},{"url":"https://v2/","weight":1}]}"#,
        );
        assert_eq!(
            choose_destination(&no_country, Some(Device::Ios), never),
            Destination::Target("https://i/")
        );
        assert_eq!(
            choose_destination(&no_country, Some(Device::Android), never),
            Destination::Target("https://a/")
        );
        // A device without a target, and a bot, fall through to the variants.
        let second = choose_destination(&no_country, Some(Device::Desktop), || u64::MAX);
        assert_eq!(second, Destination::Variant(2, "https://v2/"));
        assert_eq!(second.variant_label(), "2");
        assert_eq!(
            choose_destination(&no_country, None, || 0),
            Destination::Variant(1, "https://v1/")
        );
        let targets_only = options(r#"{"targets":{"desktop":"https://d/"}}"#);
        assert_eq!(
            choose_destination(&targets_only, Some(Device::Ios), never),
            Destination::Url
        );
        assert_eq!(
            choose_destination(&StoredOptions::default(), None, never),
            Destination::Url
        );
        assert_eq!(Destination::Url.variant_label(), "");
    }

    #[test]
    fn stored_options_of_the_wrong_json_type_do_not_parse() {
        for bad in [
            r#"{"targets":{"ios":5}}"#,
            r#"{"variants":{"url":"https://a/"}}"#,
            r#"{"variants":[{"url":"https://a/","weight":-1}]}"#,
            r#"{"preview":"x"}"#,
        ] {
            assert!(serde_json::from_str::<StoredOptions>(bad).is_err(), "{bad}");
        }
    }
}
