//! The route table: [`Route::parse`] turns a method and a path into what the Worker should do.
//! Pure, so the whole table is tested natively; `lib.rs` dispatches on the result.
//!
//! Path parameters stay raw strings here; handlers parse them into domain types.

/// The HTTP methods edgelink distinguishes. Anything else is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Patch,
    Delete,
    Other,
}

impl Method {
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// Splits `METHOD URL` (method names hold no space) into the method and the URL.
pub fn split_request_line(line: &str) -> (Method, &str) {
    match byte_position(line, |b| b == b' ') {
        Some(i) => (Method::from_name(&line[..i]), &line[i + 1..]),
        None => (Method::Other, line),
    }
}

/// Where the first byte `hit` accepts is in `s`. Everything routing looks for is ASCII, so that
/// is a char boundary. A byte loop because `str::find` and `split_once` with a pattern cost
/// more to set up than searching a short request URL does (they showed in the redirect's
/// profile, BENCHMARKS.md).
pub fn byte_position(s: &str, hit: impl Fn(u8) -> bool) -> Option<usize> {
    s.bytes().position(hit)
}

/// The path of a serialized absolute URL (as `Request.url` gives it), without query or
/// fragment; `/` when it has none. The redirect routes on this before building a
/// `worker::Request` (which parses the whole URL and reads every header).
pub fn path_of(url: &str) -> &str {
    let after_scheme = url
        .as_bytes()
        .windows(3)
        .position(|w| w == b"://")
        .map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let path = match byte_position(rest, |b| matches!(b, b'/' | b'?' | b'#')) {
        Some(i) if rest[i..].starts_with('/') => &rest[i..],
        _ => "/",
    };
    let end = byte_position(path, |b| matches!(b, b'?' | b'#')).unwrap_or(path.len());
    &path[..end]
}

#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /`: a redirect to the dashboard, or to `HOME_URL`.
    Home,
    Health,
    /// `POST /api/session`: sign in with a key, get the session cookie.
    CreateSession,
    /// `GET /api/session`: who the session cookie stands for.
    GetSession,
    /// `DELETE /api/session`: sign out.
    DeleteSession,
    CreateUser,
    ListUsers,
    UpdateUser(&'a str),
    /// `GET|POST /api/admin/users/{id}/keys`: a user's keys, for the admin.
    UserKeys(&'a str),
    CreateUserKey(&'a str),
    /// `DELETE /api/admin/users/{id}/keys/{key}`.
    RevokeUserKey(&'a str, &'a str),
    AdminLinks,
    FlagLink(&'a str),
    UnflagLink(&'a str),
    Blocklist,
    BlockHost,
    UnblockHost(&'a str),
    CreateKey,
    ListKeys,
    RevokeKey(&'a str),
    Consistency,
    Reconcile,
    /// `POST /api/admin/clicks/replay`: dead-lettered clicks into the roll-up.
    ReplayClicks,
    CreateLink,
    /// `POST /api/links/bulk`: up to 100 creates, one result each.
    BulkCreateLinks,
    ListLinks,
    /// `GET /api/links/export`: the caller's (or, for the admin, every) link as a file.
    ExportLinks,
    GetLink(&'a str),
    UpdateLink(&'a str),
    DeleteLink(&'a str),
    LinkHistory(&'a str),
    /// `POST /api/links/{slug}/restore`: a version of the link's history made current again.
    RestoreLink(&'a str),
    /// `GET /api/deleted-links`: the caller's deleted links, to restore.
    DeletedLinks,
    LinkStats(&'a str),
    /// `GET /api/links/{slug}/qr`: the short URL as a QR code.
    LinkQr(&'a str),
    TopLinks,
    /// `GET /api/stats`: the clicks of all the caller's links together.
    AccountStats,
    /// `GET /api/tags`: the caller's tags with link and click counts.
    Tags,
    /// `DELETE /api/tags?tag=…`: the tags leave every link of the caller's.
    DeleteTags,
    /// `POST /api/tags/rename`: a tag renamed on every link of the caller's.
    RenameTag,
    /// `POST /api/imports`: upload a file, start an import job.
    CreateImport,
    /// `GET /api/imports/{id}`: a job's progress.
    GetImport(&'a str),
    /// `GET /api/imports/{id}/report`: a job's report, CSV.
    ImportReport(&'a str),
    /// Anything under `/rest/`: the Shlink-compatible API, routed by `shlink::route`.
    Shlink,
    /// `GET|HEAD /<slug>`: the hot path; also `POST /<slug>`, a password link's form.
    Redirect(&'a str),
    NotFound,
    MethodNotAllowed,
}

impl<'a> Route<'a> {
    pub fn parse(method: Method, path: &'a str) -> Self {
        use Method::*;
        let Some(rest) = path.strip_prefix('/') else {
            return Route::NotFound;
        };
        // The redirect is checked first: it is the request that must cost least. A trailing
        // slash (`/promo/`, as sites and apps append one) names the same short link.
        let short = rest.strip_suffix('/').unwrap_or(rest);
        if !short.is_empty()
            && byte_position(short, |b| b == b'/').is_none()
            && short != "api"
            && short != "healthz"
        {
            return match method {
                // POST: a password link's form (any other link answers it 405).
                Get | Head | Post => Route::Redirect(short),
                _ => Route::MethodNotAllowed,
            };
        }
        if rest.starts_with("rest/") {
            return Route::Shlink;
        }
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            [""] => match method {
                Get | Head => Route::Home,
                _ => Route::MethodNotAllowed,
            },
            ["api", "session"] => match method {
                Post => Route::CreateSession,
                Get => Route::GetSession,
                Delete => Route::DeleteSession,
                _ => Route::MethodNotAllowed,
            },
            ["healthz"] => match method {
                Get | Head => Route::Health,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "users"] => match method {
                Post => Route::CreateUser,
                Get => Route::ListUsers,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "users", id] if !id.is_empty() => match method {
                Patch => Route::UpdateUser(id),
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "users", id, "keys"] if !id.is_empty() => match method {
                Get => Route::UserKeys(id),
                Post => Route::CreateUserKey(id),
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "users", id, "keys", key] if !id.is_empty() && !key.is_empty() => {
                match method {
                    Delete => Route::RevokeUserKey(id, key),
                    _ => Route::MethodNotAllowed,
                }
            }
            ["api", "admin", "links"] => match method {
                Get => Route::AdminLinks,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "links", slug, "flag"] if !slug.is_empty() => match method {
                Post => Route::FlagLink(slug),
                Delete => Route::UnflagLink(slug),
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "blocklist"] => match method {
                Get => Route::Blocklist,
                Post => Route::BlockHost,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "blocklist", host] if !host.is_empty() => match method {
                Delete => Route::UnblockHost(host),
                _ => Route::MethodNotAllowed,
            },
            ["api", "keys"] => match method {
                Post => Route::CreateKey,
                Get => Route::ListKeys,
                _ => Route::MethodNotAllowed,
            },
            ["api", "keys", id] if !id.is_empty() => match method {
                Delete => Route::RevokeKey(id),
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "consistency"] => match method {
                Get => Route::Consistency,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "reconcile"] => match method {
                Post => Route::Reconcile,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "clicks", "replay"] => match method {
                Post => Route::ReplayClicks,
                _ => Route::MethodNotAllowed,
            },
            ["api", "links", slug, "history"] if !slug.is_empty() => match method {
                Get => Route::LinkHistory(slug),
                _ => Route::MethodNotAllowed,
            },
            ["api", "deleted-links"] => match method {
                Get => Route::DeletedLinks,
                _ => Route::MethodNotAllowed,
            },
            ["api", "links", slug, "restore"] if !slug.is_empty() => match method {
                Post => Route::RestoreLink(slug),
                _ => Route::MethodNotAllowed,
            },
            ["api", "links", slug, "stats"] if !slug.is_empty() => match method {
                Get => Route::LinkStats(slug),
                _ => Route::MethodNotAllowed,
            },
            ["api", "links", slug, "qr"] if !slug.is_empty() => match method {
                Get => Route::LinkQr(slug),
                _ => Route::MethodNotAllowed,
            },
            ["api", "stats"] => match method {
                Get => Route::AccountStats,
                _ => Route::MethodNotAllowed,
            },
            ["api", "stats", "top"] => match method {
                Get => Route::TopLinks,
                _ => Route::MethodNotAllowed,
            },
            ["api", "tags"] => match method {
                Get => Route::Tags,
                Delete => Route::DeleteTags,
                _ => Route::MethodNotAllowed,
            },
            ["api", "tags", "rename"] => match method {
                Post => Route::RenameTag,
                _ => Route::MethodNotAllowed,
            },
            ["api", "imports"] => match method {
                Post => Route::CreateImport,
                _ => Route::MethodNotAllowed,
            },
            ["api", "imports", id] if !id.is_empty() => match method {
                Get => Route::GetImport(id),
                _ => Route::MethodNotAllowed,
            },
            ["api", "imports", id, "report"] if !id.is_empty() => match method {
                Get => Route::ImportReport(id),
                _ => Route::MethodNotAllowed,
            },
            ["api", "links"] => match method {
                Post => Route::CreateLink,
                Get => Route::ListLinks,
                _ => Route::MethodNotAllowed,
            },
            // Only these methods: any other on `bulk` or `export` is a link's of that slug,
            // as before the two existed (a link named `export` is read through the list).
            ["api", "links", "bulk"] if method == Post => Route::BulkCreateLinks,
            ["api", "links", "export"] if method == Get => Route::ExportLinks,
            ["api", "links", slug] if !slug.is_empty() => match method {
                Get => Route::GetLink(slug),
                Patch => Route::UpdateLink(slug),
                Delete => Route::DeleteLink(slug),
                _ => Route::MethodNotAllowed,
            },
            _ => Route::NotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Method::*;
    use super::*;

    #[test]
    fn request_lines_split_into_method_and_url() {
        assert_eq!(
            split_request_line("GET https://s.io/abc?x=1"),
            (Method::Get, "https://s.io/abc?x=1")
        );
        assert_eq!(
            split_request_line("HEAD https://s.io/"),
            (Method::Head, "https://s.io/")
        );
        assert_eq!(
            split_request_line("PROPFIND https://s.io/"),
            (Method::Other, "https://s.io/")
        );
        assert_eq!(split_request_line("garbage"), (Method::Other, "garbage"));
    }

    #[test]
    fn path_of_takes_the_path_without_query_or_fragment() {
        for (url, path) in [
            ("https://s.example/abc", "/abc"),
            ("https://s.example/abc?x=1#f", "/abc"),
            ("http://127.0.0.1:8787/api/links?limit=2", "/api/links"),
            ("https://s.example", "/"),
            ("https://s.example/", "/"),
            ("https://s.example?q=1", "/"),
            ("https://s.example#top", "/"),
            ("https://s.example/a%20b", "/a%20b"),
        ] {
            assert_eq!(path_of(url), path, "{url}");
        }
    }

    #[test]
    fn api_routes() {
        assert_eq!(Route::parse(Get, "/healthz"), Route::Health);
        assert_eq!(Route::parse(Post, "/api/admin/users"), Route::CreateUser);
        assert_eq!(
            Route::parse(Get, "/api/admin/consistency"),
            Route::Consistency
        );
        assert_eq!(Route::parse(Post, "/api/admin/reconcile"), Route::Reconcile);
        assert_eq!(
            Route::parse(Post, "/api/admin/clicks/replay"),
            Route::ReplayClicks
        );
        assert_eq!(
            Route::parse(Get, "/api/admin/clicks/replay"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Post, "/api/links"), Route::CreateLink);
        assert_eq!(Route::parse(Get, "/api/links"), Route::ListLinks);
        assert_eq!(Route::parse(Get, "/api/links/abc"), Route::GetLink("abc"));
        assert_eq!(
            Route::parse(Patch, "/api/links/abc"),
            Route::UpdateLink("abc")
        );
        assert_eq!(
            Route::parse(Delete, "/api/links/abc"),
            Route::DeleteLink("abc")
        );
        assert_eq!(
            Route::parse(Get, "/api/links/abc/history"),
            Route::LinkHistory("abc")
        );
        assert_eq!(
            Route::parse(Post, "/api/links/abc/history"),
            Route::MethodNotAllowed
        );
        assert_eq!(
            Route::parse(Post, "/api/links/abc/restore"),
            Route::RestoreLink("abc")
        );
        assert_eq!(
            Route::parse(Get, "/api/links/abc/restore"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Get, "/api/deleted-links"), Route::DeletedLinks);
        assert_eq!(
            Route::parse(Get, "/api/links/abc/stats"),
            Route::LinkStats("abc")
        );
        assert_eq!(
            Route::parse(Post, "/api/links/bulk"),
            Route::BulkCreateLinks
        );
        assert_eq!(Route::parse(Get, "/api/links/bulk"), Route::GetLink("bulk"));
        assert_eq!(Route::parse(Get, "/api/links/export"), Route::ExportLinks);
        assert_eq!(
            Route::parse(Delete, "/api/links/export"),
            Route::DeleteLink("export")
        );
        assert_eq!(Route::parse(Get, "/api/stats/top"), Route::TopLinks);
        assert_eq!(Route::parse(Get, "/api/stats"), Route::AccountStats);
        assert_eq!(Route::parse(Get, "/api/tags"), Route::Tags);
        assert_eq!(Route::parse(Delete, "/api/tags"), Route::DeleteTags);
        assert_eq!(Route::parse(Post, "/api/tags/rename"), Route::RenameTag);
        assert_eq!(
            Route::parse(Get, "/api/tags/rename"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Post, "/api/tags"), Route::MethodNotAllowed);
        assert_eq!(Route::parse(Get, "/rest/v3/short-urls"), Route::Shlink);
        assert_eq!(Route::parse(Other, "/rest/health"), Route::Shlink);
        assert_eq!(Route::parse(Get, "/rest"), Route::Redirect("rest"));
    }

    #[test]
    fn import_routes() {
        assert_eq!(Route::parse(Post, "/api/imports"), Route::CreateImport);
        assert_eq!(Route::parse(Get, "/api/imports"), Route::MethodNotAllowed);
        assert_eq!(
            Route::parse(Get, "/api/imports/imp_1"),
            Route::GetImport("imp_1")
        );
        assert_eq!(
            Route::parse(Get, "/api/imports/imp_1/report"),
            Route::ImportReport("imp_1")
        );
        assert_eq!(
            Route::parse(Delete, "/api/imports/imp_1"),
            Route::MethodNotAllowed
        );
    }

    #[test]
    fn account_and_moderation_routes() {
        assert_eq!(Route::parse(Get, "/api/admin/users"), Route::ListUsers);
        assert_eq!(
            Route::parse(Patch, "/api/admin/users/u_1"),
            Route::UpdateUser("u_1")
        );
        assert_eq!(
            Route::parse(Get, "/api/admin/users/u_1/keys"),
            Route::UserKeys("u_1")
        );
        assert_eq!(
            Route::parse(Post, "/api/admin/users/u_1/keys"),
            Route::CreateUserKey("u_1")
        );
        assert_eq!(
            Route::parse(Delete, "/api/admin/users/u_1/keys/k_1"),
            Route::RevokeUserKey("u_1", "k_1")
        );
        assert_eq!(
            Route::parse(Delete, "/api/admin/users/u_1/keys"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Get, "/api/admin/users//keys"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/admin/links"), Route::AdminLinks);
        assert_eq!(
            Route::parse(Post, "/api/admin/links/abc/flag"),
            Route::FlagLink("abc")
        );
        assert_eq!(
            Route::parse(Delete, "/api/admin/links/abc/flag"),
            Route::UnflagLink("abc")
        );
        assert_eq!(Route::parse(Get, "/api/admin/blocklist"), Route::Blocklist);
        assert_eq!(Route::parse(Post, "/api/admin/blocklist"), Route::BlockHost);
        assert_eq!(
            Route::parse(Delete, "/api/admin/blocklist/evil.example"),
            Route::UnblockHost("evil.example")
        );
        assert_eq!(Route::parse(Post, "/api/keys"), Route::CreateKey);
        assert_eq!(Route::parse(Get, "/api/keys"), Route::ListKeys);
        assert_eq!(
            Route::parse(Delete, "/api/keys/k_1"),
            Route::RevokeKey("k_1")
        );
        assert_eq!(Route::parse(Get, "/api/keys/k_1"), Route::MethodNotAllowed);
        assert_eq!(
            Route::parse(Get, "/api/admin/links/abc/flag"),
            Route::MethodNotAllowed
        );
    }

    #[test]
    fn home_session_and_qr_routes() {
        assert_eq!(Route::parse(Get, "/"), Route::Home);
        assert_eq!(Route::parse(Head, "/"), Route::Home);
        assert_eq!(Route::parse(Post, "/api/session"), Route::CreateSession);
        assert_eq!(Route::parse(Get, "/api/session"), Route::GetSession);
        assert_eq!(Route::parse(Delete, "/api/session"), Route::DeleteSession);
        assert_eq!(Route::parse(Patch, "/api/session"), Route::MethodNotAllowed);
        assert_eq!(Route::parse(Get, "/api/links/abc/qr"), Route::LinkQr("abc"));
        assert_eq!(
            Route::parse(Post, "/api/links/abc/qr"),
            Route::MethodNotAllowed
        );
    }

    #[test]
    fn single_segments_are_redirects() {
        assert_eq!(Route::parse(Get, "/abc"), Route::Redirect("abc"));
        assert_eq!(Route::parse(Head, "/Abc"), Route::Redirect("Abc"));
        assert_eq!(Route::parse(Post, "/abc"), Route::Redirect("abc"));
        // One trailing slash is the same link; more, or a path under it, is not.
        assert_eq!(Route::parse(Get, "/abc/"), Route::Redirect("abc"));
        assert_eq!(Route::parse(Head, "/abc/"), Route::Redirect("abc"));
        assert_eq!(Route::parse(Get, "/abc//"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/abc/x"), Route::NotFound);
        assert_eq!(Route::parse(Get, "//"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/healthz/"), Route::NotFound);
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        assert_eq!(
            Route::parse(Other, "/api/links/abc"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Delete, "/api/links"), Route::MethodNotAllowed);
        assert_eq!(
            Route::parse(Delete, "/api/admin/users"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Post, "/"), Route::MethodNotAllowed);
        assert_eq!(Route::parse(Get, "/api"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/nope"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/links/a/b"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/links/"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/a/b"), Route::NotFound);
    }
}
