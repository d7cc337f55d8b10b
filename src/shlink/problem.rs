//! Shlink's error bodies: [`Problem`], one variant per error type edgelink answers, with its
//! status, title and extras, rendered as RFC 7807 `application/problem+json` with
//! `type` `https://shlink.io/api/error/<code>`.

use serde_json::{json, Map, Value};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
const TYPE_PREFIX: &str = "https://shlink.io/api/error/";

/// An error as a Shlink client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No `X-Api-Key`, or an empty one.
    MissingAuthentication,
    /// A key that is not (or no longer) an edgelink API key.
    InvalidApiKey,
    /// `customSlug` is taken.
    NonUniqueSlug {
        custom_slug: String,
    },
    /// Fields (or query parameters) that are not valid, each named.
    InvalidData {
        invalid_elements: Vec<String>,
        detail: String,
    },
    /// No such short code among the caller's links.
    ShortUrlNotFound {
        short_code: String,
    },
    /// A rename's old name: no link in view carries it.
    TagNotFound {
        tag: String,
    },
    /// A rename's new name: a link in view carries it already.
    TagConflict {
        old_name: String,
        new_name: String,
    },
    /// Any other `/rest` path.
    NotFound,
    MercureNotConfigured,
    /// A client error edgelink has no Shlink type for (a body over the size limit, a
    /// version mismatch): its status and a kebab-case code.
    Other {
        status: u16,
        code: &'static str,
        detail: String,
    },
    /// The server failed; detail goes to the log only.
    Internal {
        status: u16,
    },
}

impl Problem {
    pub fn invalid(elements: &[&str], detail: impl Into<String>) -> Self {
        Problem::InvalidData {
            invalid_elements: elements.iter().map(|e| (*e).to_owned()).collect(),
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Problem::MissingAuthentication | Problem::InvalidApiKey => 401,
            Problem::NonUniqueSlug { .. } | Problem::InvalidData { .. } => 400,
            Problem::ShortUrlNotFound { .. } | Problem::TagNotFound { .. } | Problem::NotFound => {
                404
            }
            Problem::TagConflict { .. } => 409,
            Problem::MercureNotConfigured => 501,
            Problem::Other { status, .. } | Problem::Internal { status } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Problem::MissingAuthentication => "missing-authentication",
            Problem::InvalidApiKey => "invalid-api-key",
            Problem::NonUniqueSlug { .. } => "non-unique-slug",
            Problem::InvalidData { .. } => "invalid-data",
            Problem::ShortUrlNotFound { .. } => "short-url-not-found",
            Problem::TagNotFound { .. } => "tag-not-found",
            Problem::TagConflict { .. } => "tag-conflict",
            Problem::NotFound => "not-found",
            Problem::MercureNotConfigured => "mercure-not-configured",
            Problem::Other { code, .. } => code,
            Problem::Internal { .. } => "internal-server-error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Problem::MissingAuthentication => "Invalid authorization",
            Problem::InvalidApiKey => "Invalid API key",
            Problem::NonUniqueSlug { .. } => "Invalid custom slug",
            Problem::InvalidData { .. } => "Invalid data",
            Problem::ShortUrlNotFound { .. } => "Short URL not found",
            Problem::TagNotFound { .. } => "Tag not found",
            Problem::TagConflict { .. } => "Tag conflict",
            Problem::NotFound => "Not found",
            Problem::MercureNotConfigured => "Mercure integration not configured",
            Problem::Other { .. } => "Bad request",
            Problem::Internal { .. } => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Problem::MissingAuthentication => {
                "Expected one of the following authentication headers, [\"X-Api-Key\"], but none were provided".into()
            }
            Problem::InvalidApiKey => "Provided API key does not exist or is invalid.".into(),
            Problem::NonUniqueSlug { custom_slug } => {
                format!("Provided slug \"{custom_slug}\" is already in use.")
            }
            Problem::InvalidData { detail, .. } | Problem::Other { detail, .. } => detail.clone(),
            Problem::ShortUrlNotFound { short_code } => {
                format!("No URL found with short code \"{short_code}\"")
            }
            Problem::TagNotFound { tag } => format!("Tag with name \"{tag}\" could not be found"),
            Problem::TagConflict { old_name, new_name } => {
                format!("You cannot rename tag {old_name} to {new_name}, because it already exists")
            }
            Problem::NotFound => "Requested route does not exist.".into(),
            Problem::MercureNotConfigured => "This Shlink instance is not integrated with a mercure hub.".into(),
            Problem::Internal { .. } => "An unexpected error occurred, try again soon.".into(),
        }
    }

    /// The problem+json body: `type`, `title`, `detail`, `status` and the type's extras.
    pub fn body(&self) -> String {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("{TYPE_PREFIX}{}", self.code())),
        );
        body.insert("title".into(), json!(self.title()));
        body.insert("detail".into(), json!(self.detail()));
        body.insert("status".into(), json!(self.status()));
        match self {
            Problem::NonUniqueSlug { custom_slug } => {
                body.insert("customSlug".into(), json!(custom_slug));
            }
            Problem::InvalidData {
                invalid_elements, ..
            } => {
                body.insert("invalidElements".into(), json!(invalid_elements));
            }
            Problem::ShortUrlNotFound { short_code } => {
                body.insert("shortCode".into(), json!(short_code));
            }
            Problem::TagNotFound { tag } => {
                body.insert("tag".into(), json!(tag));
            }
            Problem::TagConflict { old_name, new_name } => {
                body.insert("oldName".into(), json!(old_name));
                body.insert("newName".into(), json!(new_name));
            }
            _ => {}
        }
        Value::Object(body).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(p: &Problem) -> Value {
        serde_json::from_str(&p.body()).unwrap()
    }

    #[test]
    fn every_problem_has_type_title_detail_status() {
        for (p, status, code) in [
            (
                Problem::MissingAuthentication,
                401,
                "missing-authentication",
            ),
            (Problem::InvalidApiKey, 401, "invalid-api-key"),
            (
                Problem::TagNotFound { tag: "x".into() },
                404,
                "tag-not-found",
            ),
            (
                Problem::TagConflict {
                    old_name: "a".into(),
                    new_name: "b".into(),
                },
                409,
                "tag-conflict",
            ),
            (Problem::NotFound, 404, "not-found"),
            (Problem::MercureNotConfigured, 501, "mercure-not-configured"),
            (
                Problem::Internal { status: 503 },
                503,
                "internal-server-error",
            ),
        ] {
            let v = parsed(&p);
            assert_eq!(v["status"], status);
            assert_eq!(v["type"], format!("https://shlink.io/api/error/{code}"));
            assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(v["detail"].as_str().is_some_and(|t| !t.is_empty()));
        }
    }

    #[test]
    fn extras_name_what_was_wrong() {
        let v = parsed(&Problem::NonUniqueSlug {
            custom_slug: "taken".into(),
        });
        assert_eq!(
            (v["status"].as_u64(), &v["customSlug"]),
            (Some(400), &json!("taken"))
        );
        let v = parsed(&Problem::invalid(&["longUrl", "maxVisits"], "bad"));
        assert_eq!(v["invalidElements"], json!(["longUrl", "maxVisits"]));
        assert_eq!(v["type"], "https://shlink.io/api/error/invalid-data");
        let v = parsed(&Problem::ShortUrlNotFound {
            short_code: "abc".into(),
        });
        assert_eq!(
            (v["status"].as_u64(), &v["shortCode"]),
            (Some(404), &json!("abc"))
        );
    }

    #[test]
    fn server_errors_say_nothing_of_their_cause() {
        let body = Problem::Internal { status: 500 }.body();
        assert!(body.contains("internal-server-error") && !body.contains("D1"));
    }
}
