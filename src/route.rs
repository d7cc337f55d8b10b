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

#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    CreateUser,
    Consistency,
    Reconcile,
    CreateLink,
    ListLinks,
    GetLink(&'a str),
    UpdateLink(&'a str),
    DeleteLink(&'a str),
    /// `GET|HEAD /<slug>`: the hot path.
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
        // The redirect is checked first: it is the request that must cost least.
        if !rest.is_empty() && !rest.contains('/') && rest != "api" && rest != "healthz" {
            return match method {
                Get | Head => Route::Redirect(rest),
                _ => Route::MethodNotAllowed,
            };
        }
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            ["healthz"] => match method {
                Get | Head => Route::Health,
                _ => Route::MethodNotAllowed,
            },
            ["api", "admin", "users"] => match method {
                Post => Route::CreateUser,
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
            ["api", "links"] => match method {
                Post => Route::CreateLink,
                Get => Route::ListLinks,
                _ => Route::MethodNotAllowed,
            },
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
    fn api_routes() {
        assert_eq!(Route::parse(Get, "/healthz"), Route::Health);
        assert_eq!(Route::parse(Post, "/api/admin/users"), Route::CreateUser);
        assert_eq!(
            Route::parse(Get, "/api/admin/consistency"),
            Route::Consistency
        );
        assert_eq!(Route::parse(Post, "/api/admin/reconcile"), Route::Reconcile);
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
    }

    #[test]
    fn single_segments_are_redirects() {
        assert_eq!(Route::parse(Get, "/abc"), Route::Redirect("abc"));
        assert_eq!(Route::parse(Head, "/Abc"), Route::Redirect("Abc"));
        assert_eq!(Route::parse(Post, "/abc"), Route::MethodNotAllowed);
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        assert_eq!(
            Route::parse(Other, "/api/links/abc"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Delete, "/api/links"), Route::MethodNotAllowed);
        assert_eq!(
            Route::parse(Get, "/api/admin/users"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse(Get, "/"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/nope"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/links/a/b"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/api/links/"), Route::NotFound);
        assert_eq!(Route::parse(Get, "/a/b"), Route::NotFound);
    }
}
