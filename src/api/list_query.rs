//! The link lists' query strings, parsed once into typed parameters: one public function per
//! list ([`owner_list_params`] for `GET /api/links`, [`admin_list_params`] for
//! `GET /api/admin/links`), which anything else listing the same links (the export, bulk
//! actions) calls too, so every surface filters and sorts alike. Pure: takes the request's
//! URL, never touches a store.

use crate::error::ApiError;
use crate::store::index::{
    AdminLinkFilter, LinkCursor, LinkOrder, LinkSort, OwnerLinkFilter, SearchText, SearchTextError,
    SortDir, SEARCH_MAX_CHARS,
};
use crate::web_url::{query_param, query_params};

use super::params::{parse_archived, parse_limit, parse_state, parse_tag_filter};

/// The owner's list: what to show, in which order, from where, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerListParams {
    pub filter: OwnerLinkFilter,
    pub order: LinkOrder,
    /// After this row (made for `order`); `None` on the first page.
    pub cursor: Option<LinkCursor>,
    pub limit: u32,
}

/// The admin's list: the same, with the admin's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminListParams {
    pub filter: AdminLinkFilter,
    pub order: LinkOrder,
    pub cursor: Option<LinkCursor>,
    pub limit: u32,
}

/// `GET /api/links?q=&tag=&tag_mode=&state=&archived=&sort=&order=&cursor=&limit=`.
pub fn owner_list_params(url: &str) -> Result<OwnerListParams, ApiError> {
    let param = |name: &str| query_param(url, name);
    let filter = OwnerLinkFilter {
        archived: parse_archived(param("archived").as_deref())?,
        include_archived: false,
        state: parse_state(param("state").as_deref())?,
        tags: tag_filter(url)?,
        q: parse_search(param("q").as_deref())?,
    };
    let (order, cursor) = order_and_cursor(url)?;
    Ok(OwnerListParams {
        filter,
        order,
        cursor,
        limit: parse_limit(param("limit").as_deref())?,
    })
}

/// `GET /api/admin/links?q=&owner=&tag=&tag_mode=&state=&sort=&order=&cursor=&limit=`.
pub fn admin_list_params(url: &str) -> Result<AdminListParams, ApiError> {
    let param = |name: &str| query_param(url, name);
    let filter = AdminLinkFilter {
        q: parse_search(param("q").as_deref())?,
        owner: param("owner")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        state: parse_state(param("state").as_deref())?,
        tags: tag_filter(url)?,
    };
    let (order, cursor) = order_and_cursor(url)?;
    Ok(AdminListParams {
        filter,
        order,
        cursor,
        limit: parse_limit(param("limit").as_deref())?,
    })
}

fn tag_filter(url: &str) -> Result<crate::store::index::TagFilter, ApiError> {
    parse_tag_filter(
        &query_params(url, "tag"),
        query_param(url, "tag_mode").as_deref(),
    )
}

/// `sort`, `order` and a `cursor` made for them.
fn order_and_cursor(url: &str) -> Result<(LinkOrder, Option<LinkCursor>), ApiError> {
    let order = parse_order(
        query_param(url, "sort").as_deref(),
        query_param(url, "order").as_deref(),
    )?;
    let cursor = parse_cursor(query_param(url, "cursor").as_deref(), order)?;
    Ok((order, cursor))
}

/// `sort=created|updated|slug|clicks` and `order=asc|desc`; absent or empty → newest first
/// (`created`, `desc`), and `order` alone applies to the default sort.
pub fn parse_order(sort: Option<&str>, order: Option<&str>) -> Result<LinkOrder, ApiError> {
    fn given(raw: Option<&str>) -> Option<&str> {
        raw.map(str::trim).filter(|s| !s.is_empty())
    }
    let sort = match given(sort) {
        None => LinkSort::default(),
        Some(raw) => LinkSort::parse(raw).ok_or_else(|| {
            ApiError::InvalidSort("sort must be one of: created, updated, slug, clicks".into())
        })?,
    };
    let dir = match given(order) {
        None => SortDir::default(),
        Some(raw) => SortDir::parse(raw)
            .ok_or_else(|| ApiError::InvalidSort("order must be asc or desc".into()))?,
    };
    Ok(LinkOrder { sort, dir })
}

/// `cursor`: absent or empty is the first page; otherwise one this API issued for the same
/// `sort` and `order` (a page of one order cannot continue another).
pub fn parse_cursor(raw: Option<&str>, order: LinkOrder) -> Result<Option<LinkCursor>, ApiError> {
    match raw.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(raw) => LinkCursor::decode(raw)
            .filter(|c| c.order == order)
            .map(Some)
            .ok_or(ApiError::InvalidCursor),
    }
}

/// `q`: absent or blank → no search; else at most [`SEARCH_MAX_CHARS`] characters and no
/// control characters.
pub fn parse_search(raw: Option<&str>) -> Result<Option<SearchText>, ApiError> {
    SearchText::parse(raw.unwrap_or("")).map_err(|e| {
        ApiError::InvalidSearch(match e {
            SearchTextError::TooLong => format!("q must be at most {SEARCH_MAX_CHARS} characters"),
            SearchTextError::ControlCharacter => "q must not contain control characters".into(),
        })
    })
}

/// What a page's `total` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// A later page: no total.
    None,
    /// The first page holds every match (`limit + 1` rows were asked for, and fewer came):
    /// its row count is the total, no count query needed.
    Known(u64),
    /// The first page of more: count the matches.
    Count,
}

/// The `total` of a page that fetched `rows` rows asking for `limit + 1`.
pub fn first_page_total(first_page: bool, rows: usize, limit: u32) -> Total {
    match (first_page, rows <= limit as usize) {
        (false, _) => Total::None,
        (true, true) => Total::Known(rows as u64),
        (true, false) => Total::Count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkState;
    use crate::store::index::TagMode;

    const BASE: &str = "https://sho.rt/api/links";

    #[test]
    fn the_default_is_newest_first_unarchived_twenty() {
        let p = owner_list_params(BASE).unwrap();
        assert_eq!(p.order, LinkOrder::default());
        assert_eq!((p.cursor, p.limit), (None, 20));
        assert_eq!(p.filter, OwnerLinkFilter::default());
        let p = owner_list_params(&format!("{BASE}?q=%20&sort=&order=")).unwrap();
        assert_eq!((p.filter.q, p.order), (None, LinkOrder::default()));
    }

    #[test]
    fn every_parameter_parses_into_the_owner_list() {
        let p = owner_list_params(&format!(
            "{BASE}?q=Caf%C3%A9&tag=Go&tag=web&tag_mode=all&state=disabled&archived=true\
             &sort=clicks&order=asc&limit=5"
        ))
        .unwrap();
        assert_eq!(p.filter.q.as_ref().map(SearchText::as_str), Some("Café"));
        assert_eq!(p.filter.tags.tags, vec!["go".to_owned(), "web".to_owned()]);
        assert_eq!(p.filter.tags.mode, TagMode::All);
        assert_eq!(p.filter.state, Some(LinkState::Disabled));
        assert!(p.filter.archived);
        assert_eq!(
            p.order,
            LinkOrder {
                sort: LinkSort::Clicks,
                dir: SortDir::Asc
            }
        );
        assert_eq!(p.limit, 5);
    }

    #[test]
    fn the_admin_list_takes_owner_and_the_same_search_and_sort() {
        let p = admin_list_params(&format!(
            "{BASE}?q=ab&owner=%20ada%40example.com%20&sort=slug"
        ))
        .unwrap();
        assert_eq!(p.filter.owner.as_deref(), Some("ada@example.com"));
        assert_eq!(p.filter.q.as_ref().map(SearchText::as_str), Some("ab"));
        assert_eq!(p.order.sort, LinkSort::Slug);
        assert_eq!(p.order.dir, SortDir::Desc);
    }

    #[test]
    fn bad_sort_order_and_search_are_refused_with_their_codes() {
        let long = "x".repeat(SEARCH_MAX_CHARS + 1);
        for (query, code) in [
            ("sort=name", "invalid_sort"),
            ("sort=CREATED", "invalid_sort"),
            ("order=down", "invalid_sort"),
            (&format!("q={long}") as &str, "invalid_search"),
            ("q=a%0Ab", "invalid_search"),
            ("cursor=zz", "invalid_cursor"),
            ("limit=0", "invalid_limit"),
            ("tag_mode=some", "invalid_query"),
            ("state=gone", "invalid_state"),
        ] {
            let url = format!("{BASE}?{query}");
            assert_eq!(owner_list_params(&url).unwrap_err().code(), code, "{query}");
            assert_eq!(admin_list_params(&url).unwrap_err().code(), code, "{query}");
        }
        let max = "é".repeat(SEARCH_MAX_CHARS);
        assert!(owner_list_params(&format!("{BASE}?q={max}")).is_ok());
    }

    #[test]
    fn a_cursor_works_only_with_the_order_it_was_made_for() {
        let t = "2026-11-25T12:34:56.789Z";
        let by_slug = LinkOrder {
            sort: LinkSort::Slug,
            dir: SortDir::Asc,
        };
        let c = LinkCursor::after_row(by_slug, t, t, 0, "abc")
            .unwrap()
            .encode();
        let ok = owner_list_params(&format!("{BASE}?sort=slug&order=asc&cursor={c}")).unwrap();
        assert_eq!(ok.cursor.map(|c| c.slug), Some("abc".to_owned()));
        for other in ["sort=slug", "sort=slug&order=desc", "order=asc", ""] {
            let e = owner_list_params(&format!("{BASE}?{other}&cursor={c}")).unwrap_err();
            assert_eq!(e.code(), "invalid_cursor", "{other}");
        }
    }

    #[test]
    fn only_a_first_page_of_more_needs_a_count() {
        assert_eq!(first_page_total(true, 3, 20), Total::Known(3));
        assert_eq!(first_page_total(true, 20, 20), Total::Known(20));
        assert_eq!(first_page_total(true, 0, 20), Total::Known(0));
        assert_eq!(first_page_total(true, 21, 20), Total::Count);
        assert_eq!(first_page_total(false, 3, 20), Total::None);
    }
}
