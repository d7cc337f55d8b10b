//! [`ask`]: the Worker's client for the per-day Durable Object (`objects::day_salt`, class
//! `DaySalt`) that makes each day's visitor-id salt. Never makes a salt itself: only the object
//! does, so every isolate gets the same one.

use worker::ObjectNamespace;

use crate::store::StoreError;

/// The day's salt from its object (made there on first use); `namespace` is the `DAY_SALTS`
/// binding.
pub async fn ask(
    namespace: &ObjectNamespace,
    day: &str,
) -> std::result::Result<String, StoreError> {
    let fail = |e: &dyn std::fmt::Display| StoreError::Claim(format!("day salt {day}: {e}"));
    let stub = namespace
        .id_from_name(day)
        .and_then(|id| id.get_stub())
        .map_err(|e| fail(&e))?;
    let mut resp = stub
        .fetch_with_str(&format!("https://day-salt/{day}"))
        .await
        .map_err(|e| fail(&e))?;
    let text = resp.text().await.map_err(|e| fail(&e))?;
    if resp.status_code() != 200 || text.is_empty() {
        return Err(fail(&format!("status {}: {text}", resp.status_code())));
    }
    Ok(text)
}
