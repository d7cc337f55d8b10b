//! What a reconcile run may spend and what one sweep page can cost at worst, so that a run
//! never starts a page it cannot finish inside the platform's per-invocation limits.
//!
//! The limits themselves ([`Budget`]'s fields) are configuration, parsed once with the other
//! vars in `config`; this file owns only the cost model. Pure: never reads a store or the clock.

pub use crate::config::Budget;
use crate::store::index::{delete_exact_statements, delete_statements, link_upsert_statements};
use crate::store::kv::bulk_get_calls;

impl Budget {
    /// KV operations one page can cost at worst: the list, bulk reads for repairs and for
    /// orphan confirmation (orphans bounded like keys), metadata upgrades, the checkpoint.
    pub fn page_kv_ops(&self) -> u64 {
        1 + 2 * bulk_get_calls(self.page_size as usize) + 1
    }

    /// D1 queries one page can cost at worst: the range read, every key upserted, the orphan
    /// and the expired deletes.
    pub fn page_d1_queries(&self) -> u64 {
        let n = self.page_size as usize;
        1 + link_upsert_statements(n) + delete_statements(n) + delete_exact_statements(n)
    }

    /// Whether another page fits after `kv_used` and `d1_used`.
    pub fn page_fits(&self, kv_used: u64, d1_used: u64) -> bool {
        kv_used + self.page_kv_ops() <= self.max_kv_ops
            && d1_used + self.page_d1_queries() <= self.max_d1_queries
    }

    /// Invocations a full sweep of `links` keys needs when each gets its full page allowance.
    pub fn invocations_for(&self, links: u64) -> u64 {
        let by_ops = (self.max_kv_ops / self.page_kv_ops())
            .min(self.max_d1_queries / self.page_d1_queries())
            .max(1);
        let pages_per_run = self.max_pages.min(by_ops);
        links
            .div_ceil(self.page_size)
            .max(1)
            .div_ceil(pages_per_run)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_fits_the_paid_plan_with_every_row_drifted() {
        let b = Budget::DEFAULT;
        // Worst case per 1000-key page: 22 KV operations, 73 D1 queries (100 rows a statement;
        // an upsert also clears and writes tags, a delete also removes them).
        assert_eq!(b.page_kv_ops(), 22);
        assert_eq!(b.page_d1_queries(), 1 + 30 + 22 + 20);
        let pages = b.max_d1_queries / b.page_d1_queries();
        assert!(pages >= 1);
        assert!(pages.min(b.max_pages) * b.page_kv_ops() + b.max_pending * 3 < 1000);
        assert!(b.page_fits(0, 0));
        assert!(!b.page_fits(0, b.max_d1_queries - 10));
    }

    #[test]
    fn a_million_links_is_a_bounded_sequence_of_invocations() {
        // 1000 pages at 8 pages per invocation (RECONCILE_MAX_PAGES): 125 invocations.
        assert_eq!(Budget::DEFAULT.invocations_for(1_000_000), 125);
        let free = Budget::from_vars(|name| match name {
            "RECONCILE_MAX_PAGES" => Some("1".into()),
            "RECONCILE_PAGE_SIZE" => Some("100".into()),
            "RECONCILE_MAX_KV_OPS" => Some("40".into()),
            "RECONCILE_MAX_D1_QUERIES" => Some("40".into()),
            _ => None,
        });
        assert!(free.page_fits(0, 0));
        assert_eq!(free.invocations_for(1_000_000), 10_000);
    }
}
