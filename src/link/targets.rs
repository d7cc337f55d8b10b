//! [`Targets`]: a link's other destinations by the visitor's device ([`Device`]) and country
//! ([`Country`]), parsed from the API's JSON once; which one a visit gets is
//! [`super::choose_destination`]'s. Pure: never imports `worker`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TargetUrl;
use crate::invalid::InvalidLink;

/// Countries one link may target: bounds the stored value (and so the redirect's read of it).
pub const COUNTRIES_MAX: usize = 50;

/// The ISO 3166-1 alpha-2 codes officially assigned, two letters each, in order.
const ISO_3166_ALPHA2: &str =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGL\
GMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLR\
LSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPK\
PLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTR\
TTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// A country as `request.cf.country` names it: an assigned ISO 3166-1 alpha-2 code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);

impl Country {
    /// Takes either case; stored upper case, as Cloudflare sends it.
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        let code = raw.to_ascii_uppercase();
        let assigned = code.len() == 2
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && ISO_3166_ALPHA2
                .as_bytes()
                .chunks(2)
                .any(|c| c == code.as_bytes());
        if !assigned {
            return Err(InvalidLink::Targets(format!(
                "targets.countries: '{raw}' is not an ISO 3166-1 alpha-2 country code"
            )));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Country {
    type Error = InvalidLink;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.0
    }
}

/// The device classes a link can target, from analytics' user-agent classes
/// ([`crate::analytics::classify_user_agent`]): iOS and Android phones and tablets, and
/// desktops. A bot is none of them and gets the default destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Ios,
    Android,
    Desktop,
}

impl Device {
    /// From analytics' classes of one user agent (`device`, `os`).
    pub fn of(device: &str, os: &str) -> Option<Self> {
        match (device, os) {
            ("bot", _) => None,
            (_, "iOS") => Some(Device::Ios),
            (_, "Android") => Some(Device::Android),
            ("desktop", _) => Some(Device::Desktop),
            _ => None,
        }
    }
}

/// Other destinations by device and country; at least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios: Option<TargetUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android: Option<TargetUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop: Option<TargetUrl>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub countries: BTreeMap<Country, TargetUrl>,
}

impl Targets {
    /// Parses the API's `targets` object. `own_host` is the shortener's host (a target to it
    /// would loop, as for `url`). The blocklist is the caller's: it needs KV ([`Self::urls`]).
    pub fn parse(raw: &Value, own_host: &str) -> Result<Self, InvalidLink> {
        let bad = |why: String| InvalidLink::Targets(why);
        let Value::Object(fields) = raw else {
            return Err(bad(
                "targets must be an object of ios, android, desktop and countries".into(),
            ));
        };
        let url = |name: &str, v: &Value| -> Result<TargetUrl, InvalidLink> {
            let Value::String(s) = v else {
                return Err(bad(format!("targets.{name} must be a URL string")));
            };
            TargetUrl::parse_for(s, own_host).map_err(|e| bad(format!("targets.{name}: {e}")))
        };
        let mut targets = Targets::default();
        for (name, v) in fields {
            match name.as_str() {
                "ios" => targets.ios = Some(url(name, v)?),
                "android" => targets.android = Some(url(name, v)?),
                "desktop" => targets.desktop = Some(url(name, v)?),
                "countries" => {
                    let Value::Object(countries) = v else {
                        return Err(bad(
                            "targets.countries must be an object of country codes to URLs".into(),
                        ));
                    };
                    if countries.len() > COUNTRIES_MAX {
                        return Err(bad(format!(
                            "targets.countries holds at most {COUNTRIES_MAX} countries"
                        )));
                    }
                    for (code, v) in countries {
                        let country = Country::parse(code)?;
                        let target = url(&format!("countries.{code}"), v)?;
                        if targets.countries.insert(country, target).is_some() {
                            return Err(bad(format!("targets.countries: {code} is given twice")));
                        }
                    }
                }
                other => {
                    return Err(bad(format!(
                        "targets has no field `{other}` (ios, android, desktop, countries)"
                    )))
                }
            }
        }
        if targets.urls().next().is_none() {
            return Err(bad(
                "targets must name at least one destination (null removes them)".into(),
            ));
        }
        Ok(targets)
    }

    /// Every destination, for the blocklist.
    pub fn urls(&self) -> impl Iterator<Item = &TargetUrl> {
        [&self.ios, &self.android, &self.desktop]
            .into_iter()
            .flatten()
            .chain(self.countries.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse_devices_and_countries_and_refuse_the_rest() {
        let t = Targets::parse(
            &json!({"ios": "https://apps.apple.com/x", "countries": {"de": "https://example.de/"}}),
            "sho.rt",
        )
        .unwrap();
        assert_eq!(t.ios.as_ref().unwrap().as_str(), "https://apps.apple.com/x");
        let de = Country::parse("DE").unwrap();
        assert_eq!(t.countries[&de].as_str(), "https://example.de/");
        assert_eq!(t.urls().count(), 2);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"ios":"https://apps.apple.com/x","countries":{"DE":"https://example.de/"}}"#
        );
        assert_eq!(serde_json::from_str::<Targets>(&json).unwrap(), t);

        let many: serde_json::Map<String, Value> = ISO_3166_ALPHA2
            .as_bytes()
            .chunks(2)
            .take(COUNTRIES_MAX + 1)
            .map(|c| {
                (
                    String::from_utf8(c.to_vec()).unwrap(),
                    json!("https://example.com/"),
                )
            })
            .collect();
        for bad in [
            json!("https://example.com/"),
            json!({}),
            json!({"ios": 5}),
            json!({"ios": null}),
            json!({"ios": "javascript:alert(1)"}),
            json!({"ios": "https://sho.rt/loop"}),
            json!({"watch": "https://example.com/"}),
            json!({"countries": ["DE"]}),
            json!({"countries": {"ZZ": "https://example.com/"}}),
            json!({"countries": {"DEU": "https://example.com/"}}),
            json!({"countries": {"DE": "ftp://example.com/"}}),
            json!({"countries": {"de": "https://a.com/", "DE": "https://b.com/"}}),
            json!({ "countries": many }),
        ] {
            assert!(
                matches!(Targets::parse(&bad, "sho.rt"), Err(InvalidLink::Targets(_))),
                "{bad}"
            );
        }
        assert!(
            serde_json::from_str::<Targets>(r#"{"countries":{"XX":"https://a.com/"}}"#).is_err()
        );
    }

    #[test]
    fn devices_follow_the_analytics_classes() {
        assert_eq!(Device::of("mobile", "iOS"), Some(Device::Ios));
        assert_eq!(Device::of("tablet", "iOS"), Some(Device::Ios));
        assert_eq!(Device::of("mobile", "Android"), Some(Device::Android));
        assert_eq!(Device::of("desktop", "Windows"), Some(Device::Desktop));
        assert_eq!(Device::of("desktop", "macOS"), Some(Device::Desktop));
        assert_eq!(Device::of("bot", "Android"), None);
        assert_eq!(Device::of("mobile", "Other"), None);
    }
}
