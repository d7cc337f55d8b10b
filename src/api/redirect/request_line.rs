//! The request line (`GET https://sho.rt/abc`) every request is routed by, copied out of the
//! runtime in one crossing of the boundary into a buffer made once per isolate (JS side:
//! request_line.js). Never holds on to a request; never allocates after the first use.

use std::cell::Cell;

use worker::wasm_bindgen::prelude::*;
use worker::web_sys;

#[wasm_bindgen(module = "/src/api/redirect/request_line.js")]
extern "C" {
    /// `GET https://sho.rt/abc`, the request's method and URL, written into `buf` (ASCII): its
    /// length; -1 when it does not fit or either is not ASCII.
    fn request_line_into(req: &web_sys::Request, buf: &mut [u8]) -> i32;
}

thread_local! {
    /// The buffer a redirect's request line is copied into: one per isolate, so it costs no
    /// allocation. Taken out while in use (a nested use would get a new one).
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Longer than any request line worth a fast path (a slug's URL is short); a longer or
/// non-ASCII one is copied the slow way.
const SCRATCH_BYTES: usize = 16 * 1024;

/// Runs `f` over the text `fill` writes into the scratch buffer (its length, or -1 when it does
/// not fit; then `slow` gives it).
fn with_scratch_text<T>(
    fill: impl FnOnce(&mut [u8]) -> i32,
    slow: impl FnOnce() -> String,
    f: impl FnOnce(&str) -> T,
) -> T {
    let mut buf = SCRATCH.take();
    buf.resize(SCRATCH_BYTES, 0);
    let fast = usize::try_from(fill(&mut buf))
        .ok()
        .and_then(|n| buf.get(..n))
        .and_then(|bytes| std::str::from_utf8(bytes).ok());
    let result = match fast {
        Some(text) => f(text),
        None => f(&slow()),
    };
    SCRATCH.set(buf);
    result
}

/// Runs `f` over `GET https://sho.rt/abc`: the request's method and URL, copied in one crossing
/// of the boundary, for [`crate::route::split_request_line`].
pub fn with_request_line<T>(req: &web_sys::Request, f: impl FnOnce(&str) -> T) -> T {
    with_scratch_text(
        |buf| request_line_into(req, buf),
        || format!("{} {}", req.method(), req.url()),
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_text_is_what_was_written_or_else_the_slow_copy() {
        let write = |text: &'static str| {
            move |buf: &mut [u8]| {
                buf[..text.len()].copy_from_slice(text.as_bytes());
                text.len() as i32
            }
        };
        let owned = str::to_owned;
        let slow = || "slow".to_owned();
        assert_eq!(with_scratch_text(write("fast"), slow, owned), "fast");
        assert_eq!(with_scratch_text(|_| -1, slow, owned), "slow");
        // Not UTF-8 (the fill broke its promise): the slow copy, never a panic.
        assert_eq!(
            with_scratch_text(
                |buf| {
                    buf[0] = 0xff;
                    1
                },
                slow,
                owned
            ),
            "slow"
        );
        // The buffer is reused: a shorter text after a longer one is only the shorter.
        assert_eq!(with_scratch_text(write("ab"), slow, owned), "ab");
    }
}
