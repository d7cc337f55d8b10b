//! [`Preview`]: what social and chat crawlers are shown of a link (Open Graph and Twitter Card
//! tags) instead of the redirect. Parsed from the API's JSON once; the page itself is the
//! redirect's (`api::redirect::pages`). Pure: never imports `worker`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TargetUrl;
use crate::invalid::InvalidLink;

pub const PREVIEW_TITLE_MAX_CHARS: usize = 200;
pub const PREVIEW_DESCRIPTION_MAX_CHARS: usize = 500;

/// A link's social preview; at least one field is set, the image an https URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preview {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<TargetUrl>,
}

impl Preview {
    /// Parses the API's `preview` object `{title?, description?, image?}`.
    pub fn parse(raw: &Value) -> Result<Self, InvalidLink> {
        let bad = |why: String| InvalidLink::Preview(why);
        let Value::Object(fields) = raw else {
            return Err(bad(
                "preview must be an object of title, description and image".into(),
            ));
        };
        let text = |name: &str, v: &Value, max: usize| -> Result<String, InvalidLink> {
            let Value::String(s) = v else {
                return Err(bad(format!("preview.{name} must be a string")));
            };
            let s = s.trim();
            if s.is_empty() || s.chars().count() > max {
                return Err(bad(format!("preview.{name} must be 1 to {max} characters")));
            }
            if s.chars().any(char::is_control) {
                return Err(bad(format!(
                    "preview.{name} must not contain control characters"
                )));
            }
            Ok(s.to_owned())
        };
        let mut preview = Preview::default();
        for (name, v) in fields {
            match name.as_str() {
                "title" => preview.title = Some(text(name, v, PREVIEW_TITLE_MAX_CHARS)?),
                "description" => {
                    preview.description = Some(text(name, v, PREVIEW_DESCRIPTION_MAX_CHARS)?)
                }
                "image" => {
                    let Value::String(s) = v else {
                        return Err(bad("preview.image must be an https URL string".into()));
                    };
                    let url =
                        TargetUrl::parse(s).map_err(|e| bad(format!("preview.image: {e}")))?;
                    if !url.as_str().starts_with("https://") {
                        return Err(bad("preview.image must be an https URL".into()));
                    }
                    preview.image = Some(url);
                }
                other => {
                    return Err(bad(format!(
                        "preview has no field `{other}` (title, description, image)"
                    )))
                }
            }
        }
        if preview == Preview::default() {
            return Err(bad(
                "preview must set a title, description or image (null removes it)".into(),
            ));
        }
        Ok(preview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previews_parse_texts_and_an_https_image_and_refuse_the_rest() {
        let p = Preview::parse(&json!({"title": " Hi <b> ", "image": "https://img.example/a.png"}))
            .unwrap();
        assert_eq!(p.title.as_deref(), Some("Hi <b>"));
        assert_eq!(
            p.image.as_ref().unwrap().as_str(),
            "https://img.example/a.png"
        );
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Preview>(&json).unwrap(), p);
        for bad in [
            json!("title"),
            json!({}),
            json!({"title": ""}),
            json!({"title": 5}),
            json!({"title": "x".repeat(201)}),
            json!({"description": "x".repeat(501)}),
            json!({"description": "a\nb"}),
            json!({"image": "http://img.example/a.png"}),
            json!({"image": "javascript:alert(1)"}),
            json!({"image": null}),
            json!({"site": "x"}),
        ] {
            assert!(
                matches!(Preview::parse(&bad), Err(InvalidLink::Preview(_))),
                "{bad}"
            );
        }
    }
}
