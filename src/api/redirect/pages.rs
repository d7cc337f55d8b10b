//! The pages a visitor is shown when a short link goes nowhere ([`Page`]): their status and HTML,
//! each body made once per isolate. Never reads a stored link; the caller has decided.

use std::cell::RefCell;

use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

use crate::link::Unavailable;

#[wasm_bindgen(module = "/src/api/redirect.js")]
extern "C" {
    fn html_response(status: u16, body: &JsValue) -> web_sys::Response;
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
}

impl Page {
    fn status(self) -> u16 {
        match self {
            Page::NotFound => 404,
            Page::Unavailable(_) => 410,
            Page::TryAgain => 503,
            Page::BadDestination => 502,
        }
    }

    fn body(self) -> String {
        let (title, text) = match self {
            Page::NotFound => (
                "Link not found",
                "There is no link here. Check the address.".to_owned(),
            ),
            Page::Unavailable(why) => ("Link unavailable", reason_text(why)),
            Page::TryAgain | Page::BadDestination => (
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
        html_response(page.status(), body)
    })
}
