//! The Shlink API's route table under `/rest`: [`ShlinkRoute::parse`] turns a method name and
//! a path into the endpoint, pure. Every path under `/rest` is Shlink's: an unknown one (API
//! v1/v2, multiple domains, redirect rules, orphan visits…) is [`ShlinkRoute::NotFound`].

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShlinkRoute<'a> {
    /// Any `OPTIONS`: the CORS preflight, answered without a key.
    Preflight,
    Health,
    ListShortUrls,
    CreateShortUrl,
    Shorten,
    GetShortUrl(&'a str),
    EditShortUrl(&'a str),
    DeleteShortUrl(&'a str),
    ShortUrlVisits(&'a str),
    VisitsOverview,
    Tags,
    TagStats,
    /// `PUT /tags`: a tag renamed on every link in view.
    RenameTag,
    /// `DELETE /tags?tags[]=`: tags removed from every link in view.
    DeleteTags,
    Domains,
    MercureInfo,
    NotFound,
}

impl<'a> ShlinkRoute<'a> {
    /// `path` is the whole request path (`/rest/…`).
    pub fn parse(method: &str, path: &'a str) -> Self {
        use ShlinkRoute::*;
        if method == "OPTIONS" {
            return Preflight;
        }
        let Some(rest) = path.strip_prefix("/rest/") else {
            return NotFound;
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest == "health" {
            return if method == "GET" { Health } else { NotFound };
        }
        let Some(rest) = rest.strip_prefix("v3/") else {
            return NotFound;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match (method, segments.as_slice()) {
            ("GET", ["health"]) => Health,
            ("GET", ["short-urls"]) => ListShortUrls,
            ("POST", ["short-urls"]) => CreateShortUrl,
            ("GET", ["short-urls", "shorten"]) => Shorten,
            ("GET", ["short-urls", code]) if !code.is_empty() => GetShortUrl(code),
            ("PATCH", ["short-urls", code]) if !code.is_empty() => EditShortUrl(code),
            ("DELETE", ["short-urls", code]) if !code.is_empty() => DeleteShortUrl(code),
            ("GET", ["short-urls", code, "visits"]) if !code.is_empty() => ShortUrlVisits(code),
            ("GET", ["visits"]) => VisitsOverview,
            ("GET", ["tags"]) => Tags,
            ("PUT", ["tags"]) => RenameTag,
            ("DELETE", ["tags"]) => DeleteTags,
            ("GET", ["tags", "stats"]) => TagStats,
            ("GET", ["domains"]) => Domains,
            ("GET", ["mercure-info"]) => MercureInfo,
            _ => NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShlinkRoute::*;
    use super::*;

    #[test]
    fn every_route_and_the_rest_not_found() {
        for (method, path, route) in [
            ("GET", "/rest/health", Health),
            ("GET", "/rest/v3/health", Health),
            ("GET", "/rest/v3/short-urls", ListShortUrls),
            ("POST", "/rest/v3/short-urls", CreateShortUrl),
            ("GET", "/rest/v3/short-urls/shorten", Shorten),
            ("GET", "/rest/v3/short-urls/abc", GetShortUrl("abc")),
            ("PATCH", "/rest/v3/short-urls/abc", EditShortUrl("abc")),
            ("DELETE", "/rest/v3/short-urls/abc", DeleteShortUrl("abc")),
            (
                "GET",
                "/rest/v3/short-urls/abc/visits",
                ShortUrlVisits("abc"),
            ),
            ("GET", "/rest/v3/visits", VisitsOverview),
            ("GET", "/rest/v3/tags", Tags),
            ("PUT", "/rest/v3/tags", RenameTag),
            ("DELETE", "/rest/v3/tags", DeleteTags),
            ("GET", "/rest/v3/tags/stats", TagStats),
            ("GET", "/rest/v3/domains", Domains),
            ("GET", "/rest/v3/mercure-info", MercureInfo),
            ("OPTIONS", "/rest/v3/anything/at/all", Preflight),
            ("GET", "/rest/v2/short-urls", NotFound),
            ("GET", "/rest/v3/visits/orphan", NotFound),
            ("GET", "/rest/v3/short-urls/abc/redirect-rules", NotFound),
            ("GET", "/rest/v3/tags/x/visits", NotFound),
            ("DELETE", "/rest/v3/short-urls/abc/visits", NotFound),
            ("PUT", "/rest/v3/short-urls", NotFound),
            ("POST", "/rest/health", NotFound),
            ("GET", "/rest/", NotFound),
        ] {
            assert_eq!(ShlinkRoute::parse(method, path), route, "{method} {path}");
        }
    }
}
