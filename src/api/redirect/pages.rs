//! The pages a visitor is shown when a short link goes nowhere, or asks for its password
//! ([`Page`]): their status, headers and HTML, each body made once per isolate. Never reads a
//! stored link; the caller has decided. Every page carries a strict CSP (no script, style or
//! image; forms post only to this origin), set in `redirect.js`.

use std::cell::RefCell;

use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

use crate::link::Unavailable;

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
