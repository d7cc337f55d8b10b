//! The `users` table: the versioned upsert that keeps a user's row in step with KV, and the
//! admin's user list, newest first, with link counts.
//!
//! An upsert applies only when newer: a write arriving late never rolls a row back.

use serde::Deserialize;
use wasm_bindgen::JsValue;

use super::{version, Index, ListCursor, Rows};
use crate::account::User;
use crate::store::d1::error as d1;
use crate::store::StoreError;

const UPSERT_USER: &str = "INSERT INTO users (id, email, role, created_at, disabled, version) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT(id) DO UPDATE SET email = excluded.email, role = excluded.role, \
     disabled = excluded.disabled, version = excluded.version \
     WHERE excluded.version > users.version";
const USERS_FIRST: &str = "SELECT u.id, u.email, u.role, u.disabled, u.created_at, \
     (SELECT COUNT(*) FROM links l WHERE l.user_id = u.id) AS link_count FROM users u \
     ORDER BY u.created_at DESC, u.id DESC LIMIT ?1";
const USERS_AFTER: &str = "SELECT u.id, u.email, u.role, u.disabled, u.created_at, \
     (SELECT COUNT(*) FROM links l WHERE l.user_id = u.id) AS link_count FROM users u \
     WHERE u.created_at < ?2 OR (u.created_at = ?2 AND u.id < ?3) \
     ORDER BY u.created_at DESC, u.id DESC LIMIT ?1";

/// A row of the admin's user list.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub disabled: u8,
    pub created_at: String,
    pub link_count: u64,
}

impl Index {
    /// A page of all users, newest first, with their link counts.
    pub async fn users(
        &self,
        cursor: Option<&ListCursor>,
        limit: u32,
    ) -> Result<Vec<UserRow>, StoreError> {
        let limit = JsValue::from_f64(f64::from(limit));
        let statement = match cursor {
            None => self.db.prepare(USERS_FIRST).bind(&[limit]),
            Some(c) => self.db.prepare(USERS_AFTER).bind(&[
                limit,
                JsValue::from_str(&c.created_at.to_rfc3339()),
                JsValue::from_str(&c.key),
            ]),
        }
        .map_err(d1)?;
        statement.rows::<UserRow>().await
    }

    pub async fn upsert_user(&self, user: &User) -> Result<(), StoreError> {
        self.db
            .prepare(UPSERT_USER)
            .bind(&[
                JsValue::from_str(user.id.as_str()),
                JsValue::from_str(user.email.as_str()),
                JsValue::from_str(user.role.as_str()),
                JsValue::from_str(&user.created_at.to_rfc3339()),
                JsValue::from_f64(if user.disabled { 1.0 } else { 0.0 }),
                version(user.version),
            ])
            .map_err(d1)?
            .run()
            .await
            .map_err(d1)?;
        Ok(())
    }
}
