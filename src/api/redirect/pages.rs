//! The pages a visitor is shown when a short link goes nowhere, or asks for its password
//! ([`Page`]): their status, headers and HTML, each body made once per isolate; and a link's social
//! preview for crawlers ([`preview`]). Never reads a stored link; the caller has decided. Every
//! page carries a strict CSP (no script, style or image; forms post only to this origin), set in
//! `redirect.js`.

use std::cell::RefCell;

use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

use crate::link::{StoredPreview, Unavailable};

#[wasm_bindgen(module = "/src/api/redirect.js")]
extern "C" {
    fn html_response(status: u16, body: &JsValue, kind: u8) -> web_sys::Response;
}

/// What a visitor is shown when a short link goes nowhere: one small HTML page per case, the
/// same "Link unavailable" page for every reason a link stopped (only the reason's words differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Page {
    NotFound,
    Unavailable(Unavailable),
    /// The KV read or the click counter failed: worth another try in a moment.
    TryAgain,
    /// KV holds a destination the runtime refuses as a `Location`.
    BadDestination,
    /// A password link's form (`link::password`).
    Password(Ask),
}

/// Why the password form is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// No password given yet: 200, the form.
    First,
    /// A wrong one: 403 (the request is understood and refused; 401 would promise an HTTP
    /// authentication scheme in `WWW-Authenticate`, and there is none), the form again.
    Wrong,
    /// Over the guess limit: 429 with `Retry-After`, the form with the reason.
    TooMany,
}

/// The headers a page gets, by their place in `html_response`'s list (redirect.js).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum PageKind {
    Plain = 0,
    /// Never cached: it answers one visitor's guess.
    Form = 1,
    /// [`PageKind::Form`] with `Retry-After`.
    FormRetryLater = 2,
}

impl Page {
    fn status(self) -> u16 {
        match self {
            Page::NotFound => 404,
            Page::Unavailable(_) => 410,
            Page::TryAgain => 503,
            Page::BadDestination => 502,
            Page::Password(Ask::First) => 200,
            Page::Password(Ask::Wrong) => 403,
            Page::Password(Ask::TooMany) => 429,
        }
    }

    fn kind(self) -> PageKind {
        match self {
            Page::Password(Ask::TooMany) => PageKind::FormRetryLater,
            Page::Password(_) => PageKind::Form,
            _ => PageKind::Plain,
        }
    }

    fn body(self) -> String {
        if let Page::Password(ask) = self {
            return password_form(ask);
        }
        let (title, text) = match self {
            Page::NotFound => (
                "Link not found",
                "There is no link here. Check the address.".to_owned(),
            ),
            Page::Unavailable(why) => ("Link unavailable", reason_text(why)),
            Page::TryAgain | Page::BadDestination | Page::Password(_) => (
                "Temporarily unavailable",
                "This link cannot be followed right now. Please try again in a moment.".to_owned(),
            ),
        };
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <meta name=\"robots\" content=\"noindex\"></head>\
             <body><h1>{title}</h1><p>{text}</p></body></html>"
        )
    }
}

/// The password form: posts to the page's own URL (no `action`, so the visitor's query comes
/// along), one labelled field; the message, when there is one, is announced (`role="alert"`).
fn password_form(ask: Ask) -> String {
    let message = match ask {
        Ask::First => "",
        Ask::Wrong => "<p role=\"alert\">That password is not right. Please try again.</p>",
        Ask::TooMany => {
            "<p role=\"alert\">Too many wrong passwords. Wait a minute, then try again.</p>"
        }
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Password required</title><meta name=\"robots\" content=\"noindex\"></head>\
         <body><main><h1>Password required</h1>\
         <p>This link is protected. Enter its password to continue.</p>{message}\
         <form method=\"post\"><label for=\"password\">Password</label> \
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required autofocus> \
         <button type=\"submit\">Continue</button></form></main></body></html>"
    )
}

/// The reason in words; a flag names only its category.
fn reason_text(why: Unavailable) -> String {
    match why {
        Unavailable::Disabled => "This link has been disabled by its owner.".to_owned(),
        Unavailable::Flagged(reason) => format!(
            "This link was flagged ({}) and disabled by the administrators.",
            reason.as_str()
        ),
        Unavailable::Expired => "This link has expired.".to_owned(),
        Unavailable::LimitReached => {
            "This link's click limit reached: it takes no more visitors.".to_owned()
        }
    }
}

thread_local! {
    /// Page bodies as JS strings, each made on first use: a page then costs no formatting
    /// and no copy into JS. At most one per [`Page`] (a dozen).
    static PAGES: RefCell<Vec<(Page, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// A link's social preview, for a crawler: 200 with Open Graph and Twitter Card tags and a
/// refresh to `destination` (where a person who opens it is sent on).
pub(super) fn preview(p: &StoredPreview, destination: &str) -> web_sys::Response {
    html_response(
        200,
        &JsValue::from(preview_body(p, destination)),
        PageKind::Plain as u8,
    )
}

/// The preview page's HTML, every value escaped. No `og:url`: crawlers take it as the canonical
/// page and would fetch the destination's own tags instead of these.
fn preview_body(p: &StoredPreview, destination: &str) -> String {
    let mut head = String::new();
    let mut meta = |attr: &str, name: &str, value: &Option<String>| {
        if let Some(v) = value {
            head.push_str(&format!(
                "<meta {attr}=\"{name}\" content=\"{}\">",
                escape(v)
            ));
        }
    };
    meta("property", "og:title", &p.title);
    meta("property", "og:description", &p.description);
    meta("property", "og:image", &p.image);
    meta("property", "og:type", &Some("website".to_owned()));
    let card = if p.image.is_some() {
        "summary_large_image"
    } else {
        "summary"
    };
    meta("name", "twitter:card", &Some(card.to_owned()));
    meta("name", "twitter:title", &p.title);
    meta("name", "twitter:description", &p.description);
    meta("name", "twitter:image", &p.image);
    let title = escape(p.title.as_deref().unwrap_or("Redirecting"));
    let to = escape(destination);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         {head}<meta http-equiv=\"refresh\" content=\"0; url={to}\">\
         <meta name=\"robots\" content=\"noindex\"></head>\
         <body><p><a href=\"{to}\">{to}</a></p></body></html>"
    )
}

/// Text for HTML, in an element or a quoted attribute.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn page(page: Page) -> web_sys::Response {
    PAGES.with(|pages| {
        let mut pages = pages.borrow_mut();
        let body = match pages.iter().find(|(p, _)| *p == page) {
            Some((_, body)) => body,
            None => {
                pages.push((page, JsValue::from(page.body())));
                &pages[pages.len() - 1].1
            }
        };
        html_response(page.status(), body, page.kind() as u8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_page_escapes_every_value_and_refreshes_to_the_destination() {
        let p = StoredPreview {
            title: Some("Tom & \"Jerry\" <script>".into()),
            description: Some("it's".into()),
            image: Some("https://img.example/a.png?x=1&y=2".into()),
        };
        let body = preview_body(&p, "https://example.com/?a=1&b=\"2\"");
        assert!(body.contains(
            "<meta property=\"og:title\" content=\"Tom &amp; &quot;Jerry&quot; &lt;script&gt;\">"
        ));
        assert!(body.contains("<meta property=\"og:description\" content=\"it&#39;s\">"));
        assert!(body.contains("content=\"https://img.example/a.png?x=1&amp;y=2\""));
        assert!(body.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
        assert!(body.contains(
            "<meta http-equiv=\"refresh\" content=\"0; url=https://example.com/?a=1&amp;b=&quot;2&quot;\">"
        ));
        assert!(!body.contains("<script>") && !body.contains("og:url"));
        let bare = preview_body(
            &StoredPreview {
                description: Some("d".into()),
                ..StoredPreview::default()
            },
            "https://e.com/",
        );
        assert!(bare.contains("<title>Redirecting</title>"));
        assert!(bare.contains("content=\"summary\"") && !bare.contains("og:title"));
    }
}
