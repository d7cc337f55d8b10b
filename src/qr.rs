//! QR codes of short URLs: the request's parameters ([`QrParams`], each bounded), the code's
//! modules (by `qrcodegen`, Project Nayuki's reference encoder: no dependencies, no `unsafe`),
//! drawn as SVG ([`svg`]) or PNG ([`png`], through [`crate::png`]), and the `ETag` of a
//! drawing ([`etag`],
//! [`if_none_match_hits`]).
//!
//! Pure: the short URL comes from the shell, which checks who may see the link.

use qrcodegen::{QrCode, QrCodeEcc};
use sha2::{Digest, Sha256};

use crate::png::grey1;

pub const DEFAULT_SIZE: u32 = 256;
/// Pixels (PNG) or user units (SVG) a side. A phone reads a code far smaller than 64 px
/// badly; 2048 px is print size, and bounds the PNG a request can make the Worker draw.
pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 2048;
/// The quiet zone in modules: the standard asks for 4; 0 suits a code placed on a white card.
pub const DEFAULT_MARGIN: u32 = 4;
pub const MAX_MARGIN: u32 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// The error-correction level: how much of the code may be damaged (7, 15, 25, 30 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecc {
    L,
    M,
    Q,
    H,
}

impl Ecc {
    fn level(self) -> QrCodeEcc {
        match self {
            Ecc::L => QrCodeEcc::Low,
            Ecc::M => QrCodeEcc::Medium,
            Ecc::Q => QrCodeEcc::Quartile,
            Ecc::H => QrCodeEcc::High,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Ecc::L => "L",
            Ecc::M => "M",
            Ecc::Q => "Q",
            Ecc::H => "H",
        }
    }
}

/// `?format=svg|png&size=&margin=&ecc=L|M|Q|H`, every one optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrParams {
    pub format: Format,
    pub size: u32,
    pub margin: u32,
    pub ecc: Ecc,
}

/// A parameter out of its bounds; the message names it and them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidQr(pub String);

impl QrParams {
    /// Parses the four parameters (`None`: absent, the default).
    pub fn parse(
        format: Option<&str>,
        size: Option<&str>,
        margin: Option<&str>,
        ecc: Option<&str>,
    ) -> Result<Self, InvalidQr> {
        let format = match format.map(str::trim) {
            None | Some("svg") => Format::Svg,
            Some("png") => Format::Png,
            Some(_) => return Err(InvalidQr("format must be svg or png".into())),
        };
        let number = |raw: Option<&str>, default: u32, min: u32, max: u32, name: &str| {
            let Some(raw) = raw else {
                return Ok(default);
            };
            raw.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| InvalidQr(format!("{name} must be an integer from {min} to {max}")))
        };
        let ecc = match ecc.map(str::trim) {
            None => Ecc::M,
            Some("L" | "l") => Ecc::L,
            Some("M" | "m") => Ecc::M,
            Some("Q" | "q") => Ecc::Q,
            Some("H" | "h") => Ecc::H,
            Some(_) => return Err(InvalidQr("ecc must be one of L, M, Q, H".into())),
        };
        Ok(Self {
            format,
            size: number(size, DEFAULT_SIZE, MIN_SIZE, MAX_SIZE, "size")?,
            margin: number(margin, DEFAULT_MARGIN, 0, MAX_MARGIN, "margin")?,
            ecc,
        })
    }
}

/// The dark modules of `text`'s code, row by row, `side` × `side`.
pub struct Modules {
    pub side: u32,
    dark: Vec<bool>,
}

impl Modules {
    /// `None` only for a text longer than the largest code holds (about 2,300 bytes at `L`),
    /// which no short URL is.
    pub fn encode(text: &str, ecc: Ecc) -> Option<Self> {
        let code = QrCode::encode_text(text, ecc.level()).ok()?;
        let side = code.size();
        let dark = (0..side)
            .flat_map(|y| (0..side).map(move |x| (x, y)))
            .map(|(x, y)| code.get_module(x, y))
            .collect();
        Some(Self {
            side: u32::try_from(side).ok()?,
            dark,
        })
    }

    pub fn is_dark(&self, x: u32, y: u32) -> bool {
        x < self.side && y < self.side && self.dark[(y * self.side + x) as usize]
    }
}

/// The code as SVG, `size` units a side, the quiet zone `margin` modules wide: one path of
/// horizontal runs (a few KB for a short URL), crisp edges so no viewer blurs the modules.
pub fn svg(m: &Modules, size: u32, margin: u32) -> String {
    let total = m.side + 2 * margin;
    let mut path = String::new();
    for y in 0..m.side {
        let mut x = 0;
        while x < m.side {
            if !m.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < m.side && m.is_dark(x, y) {
                x += 1;
            }
            let run = x - start;
            path.push_str(&format!(
                "M{} {}h{run}v1h-{run}z",
                start + margin,
                y + margin
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" \
         viewBox=\"0 0 {total} {total}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{total}\" height=\"{total}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

/// Pixels a module takes in a PNG of at most `size` pixels a side: whole pixels (a scaled
/// module would blur), at least one.
pub fn png_scale(side: u32, size: u32, margin: u32) -> u32 {
    (size / (side + 2 * margin)).max(1)
}

/// The code as a 1-bit greyscale PNG (uncompressed, see [`crate::png`]): each module [`png_scale`] pixels, so the image is at
/// most `size` pixels a side (smaller by under one module's width), and exactly as many
/// modules wide as the SVG.
pub fn png(m: &Modules, size: u32, margin: u32) -> Result<Vec<u8>, String> {
    let scale = png_scale(m.side, size, margin);
    let width = (m.side + 2 * margin) * scale;
    let row_bytes = width.div_ceil(8) as usize;
    let mut pixels = vec![0u8; row_bytes * width as usize];
    for py in 0..width {
        let row = &mut pixels[py as usize * row_bytes..][..row_bytes];
        for px in 0..width {
            let (mx, my) = (px / scale, py / scale);
            let dark = mx >= margin && my >= margin && m.is_dark(mx - margin, my - margin);
            // 1 is white in greyscale; dark modules stay 0.
            if !dark {
                row[px as usize / 8] |= 0x80 >> (px % 8);
            }
        }
    }
    grey1(width, width, &pixels).ok_or_else(|| "pixel rows of the wrong length".to_owned())
}

/// The strong `ETag` of the drawing of `url` with `p`: the drawing depends on nothing else
/// (`v1` names this renderer, so a change to it changes every tag).
pub fn etag(url: &str, p: &QrParams) -> String {
    let key = format!(
        "v1\n{url}\n{}\n{}\n{}\n{}",
        p.format.as_str(),
        p.size,
        p.margin,
        p.ecc.as_str()
    );
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"qr-{hex}\"")
}

/// Whether `If-None-Match` names `tag` (or is `*`): the weak comparison RFC 9110 asks for
/// on a GET, so a `W/` prefix added by a proxy still matches.
pub fn if_none_match_hits(header: Option<&str>, tag: &str) -> bool {
    header.is_some_and(|h| {
        h.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(format: &str, size: &str, margin: &str, ecc: &str) -> Result<QrParams, InvalidQr> {
        fn opt(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        QrParams::parse(opt(format), opt(size), opt(margin), opt(ecc))
    }

    #[test]
    fn parameters_default_and_are_bounded() {
        assert_eq!(
            p("", "", "", ""),
            Ok(QrParams {
                format: Format::Svg,
                size: 256,
                margin: 4,
                ecc: Ecc::M
            })
        );
        let q = p("png", "2048", "0", "h").unwrap();
        assert_eq!(
            (q.format, q.size, q.margin, q.ecc),
            (Format::Png, 2048, 0, Ecc::H)
        );
        for (f, s, m, e) in [
            ("gif", "", "", ""),
            ("", "63", "", ""),
            ("", "2049", "", ""),
            ("", "-1", "", ""),
            ("", "1e3", "", ""),
            ("", "", "17", ""),
            ("", "", "x", ""),
            ("", "", "", "X"),
            ("", "", "", "LM"),
        ] {
            assert!(p(f, s, m, e).is_err(), "{f} {s} {m} {e}");
        }
        assert!(p("", "", "", "").map(|_| ()).is_ok());
        assert_eq!(
            p("", "5000", "", "").unwrap_err().0,
            "size must be an integer from 64 to 2048"
        );
    }

    #[test]
    fn modules_have_the_finder_patterns() {
        let m = Modules::encode("https://sho.rt/abc", Ecc::M).unwrap();
        assert_eq!(m.side, 21 + 4 * ((m.side - 21) / 4));
        // The top-left finder: a dark 7×7 ring around a light ring around a dark 3×3.
        for i in 0..7 {
            assert!(m.is_dark(i, 0) && m.is_dark(0, i) && m.is_dark(6, i) && m.is_dark(i, 6));
        }
        assert!(!m.is_dark(1, 1) && m.is_dark(3, 3) && !m.is_dark(7, 7));
        assert!(!m.is_dark(m.side, 0));
        // Higher correction takes more modules for the same text.
        let h = Modules::encode("https://sho.rt/abc", Ecc::H).unwrap();
        assert!(h.side >= m.side);
    }

    #[test]
    fn svg_draws_every_dark_module_once() {
        let m = Modules::encode("https://sho.rt/abc", Ecc::L).unwrap();
        let s = svg(&m, 300, 4);
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\""));
        let total = m.side + 8;
        assert!(s.contains(&format!("viewBox=\"0 0 {total} {total}\"")));
        let d = s
            .split("<path d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        // Each run is `M<x> <y>h<n>v1h-<n>z`.
        let drawn: u32 = d
            .split('M')
            .skip(1)
            .map(|run| run.split('h').nth(1).unwrap().trim_end_matches("v1"))
            .map(|n| n.parse::<u32>().unwrap())
            .sum();
        let dark = (0..m.side)
            .flat_map(|y| (0..m.side).map(move |x| (x, y)))
            .filter(|&(x, y)| m.is_dark(x, y))
            .count() as u32;
        assert_eq!(drawn, dark);
        // The first run is the top-left finder's top edge, inside the quiet zone.
        assert!(s.contains("<path d=\"M4 4h7v1h-7z"));
    }

    #[test]
    fn png_is_a_png_of_whole_modules() {
        let m = Modules::encode("https://sho.rt/abc", Ecc::M).unwrap();
        let bytes = png(&m, 256, 4).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let scale = png_scale(m.side, 256, 4);
        let width = (m.side + 8) * scale;
        assert!(width <= 256 && width > 256 - (m.side + 8));
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), width);
        assert_eq!(png_scale(177, 64, 16), 1);
    }

    #[test]
    fn etags_name_the_drawing() {
        let a = p("", "", "", "").unwrap();
        let b = p("png", "", "", "").unwrap();
        let t = etag("https://sho.rt/abc", &a);
        assert!(t.starts_with("\"qr-") && t.ends_with('"') && t.len() == 29);
        assert_eq!(t, etag("https://sho.rt/abc", &a));
        assert_ne!(t, etag("https://sho.rt/abd", &a));
        assert_ne!(t, etag("https://sho.rt/abc", &b));
        assert!(if_none_match_hits(Some(&t), &t));
        assert!(if_none_match_hits(Some(&format!("\"x\", W/{t}")), &t));
        assert!(if_none_match_hits(Some("*"), &t));
        assert!(!if_none_match_hits(Some("\"x\""), &t));
        assert!(!if_none_match_hits(None, &t));
    }
}
