//! The import job tables (migrations/0007_imports.sql): `imports` (one row a job, its counts),
//! `import_chunks` (the chunks already counted) and `import_rows` (the report).
//!
//! Counting is atomic without a lock: each chunk adds its counts with one
//! `UPDATE … SET created = created + ?` guarded by "this chunk is not yet in `import_chunks`",
//! and records the chunk, in one batch (one transaction). Concurrent consumer invocations add
//! up correctly, and a redelivered chunk adds nothing.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::{Index, Rows, ROWS_PER_STATEMENT};
use crate::exchange::import::Tally;
use crate::store::d1::error as d1;
use crate::store::StoreError;
use crate::time::Timestamp;

const INSERT_IMPORT: &str = "INSERT INTO imports (id, owner_id, created_by, status, format, \
     on_conflict, dry_run, host, total, chunks, chunks_done, created, overwritten, renamed, \
     skipped, failed, created_at, updated_at, finished_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, 0, 0, ?11, ?12, ?13, ?13, ?14)";
const IMPORT_BY_ID: &str = "SELECT id, owner_id, created_by, status, format, on_conflict, \
     dry_run, host, total, chunks, chunks_done, created, overwritten, renamed, skipped, failed, \
     created_at, updated_at, finished_at FROM imports WHERE id = ?1";
const CHUNK_DONE: &str = "SELECT chunk FROM import_chunks WHERE import_id = ?1 AND chunk = ?2";
const MARK_RUNNING: &str = "UPDATE imports SET status = 'running', updated_at = ?2 \
     WHERE id = ?1 AND status = 'queued'";
/// Adds a chunk's counts once: not when the chunk is already recorded.
const ADD_CHUNK_COUNTS: &str = "UPDATE imports SET created = created + ?3, \
     overwritten = overwritten + ?4, renamed = renamed + ?5, skipped = skipped + ?6, \
     failed = failed + ?7, chunks_done = chunks_done + 1, updated_at = ?8 \
     WHERE id = ?1 AND NOT EXISTS \
     (SELECT 1 FROM import_chunks WHERE import_id = ?1 AND chunk = ?2)";
const RECORD_CHUNK: &str = "INSERT OR IGNORE INTO import_chunks (import_id, chunk) VALUES (?1, ?2)";
const SETTLE_STATUS: &str = "UPDATE imports SET \
     status = CASE WHEN chunks_done >= chunks THEN 'done' ELSE 'running' END, \
     finished_at = CASE WHEN chunks_done >= chunks THEN COALESCE(finished_at, ?2) END \
     WHERE id = ?1";
/// Report rows travel as one JSON array (`json_each`); a line is reported once.
const INSERT_REPORT_ROWS: &str = "INSERT OR IGNORE INTO import_rows \
     (import_id, line, slug, outcome, code, message) \
     SELECT json_extract(value, '$.import_id'), json_extract(value, '$.line'), \
     json_extract(value, '$.slug'), json_extract(value, '$.outcome'), \
     json_extract(value, '$.code'), json_extract(value, '$.message') FROM json_each(?1)";
const REPORT_PAGE: &str = "SELECT line, slug, outcome, code, message FROM import_rows \
     WHERE import_id = ?1 AND line > ?2 ORDER BY line LIMIT ?3";

/// Report rows one read returns.
pub const REPORT_PAGE_ROWS: u32 = 1000;

/// A job as the upload records it.
#[derive(Debug, Clone)]
pub struct NewImport<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub created_by: &'a str,
    pub format: &'a str,
    pub on_conflict: &'a str,
    pub dry_run: bool,
    pub host: &'a str,
    pub total: u64,
    pub chunks: u64,
    /// Rows settled at upload: unreadable (failed) and superseded (skipped).
    pub failed: u64,
    pub skipped: u64,
    pub at: Timestamp,
}

/// A row of `imports`.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportJob {
    pub id: String,
    pub owner_id: String,
    pub created_by: String,
    pub status: String,
    pub format: String,
    pub on_conflict: String,
    pub dry_run: u8,
    pub host: String,
    pub total: u64,
    pub chunks: u64,
    pub chunks_done: u64,
    pub created: u64,
    pub overwritten: u64,
    pub renamed: u64,
    pub skipped: u64,
    pub failed: u64,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

/// A row of the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportRow {
    pub line: u64,
    pub slug: Option<String>,
    pub outcome: String,
    pub code: String,
    pub message: String,
}

#[derive(Serialize)]
struct ReportParam<'a> {
    import_id: &'a str,
    line: u64,
    slug: Option<&'a str>,
    outcome: &'a str,
    code: &'a str,
    message: &'a str,
}

fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

impl Index {
    fn report_statements(
        &self,
        import_id: &str,
        rows: &[ReportRow],
    ) -> Result<Vec<worker::D1PreparedStatement>, StoreError> {
        rows.chunks(ROWS_PER_STATEMENT)
            .map(|chunk| {
                let params: Vec<ReportParam> = chunk
                    .iter()
                    .map(|row| ReportParam {
                        import_id,
                        line: row.line,
                        slug: row.slug.as_deref(),
                        outcome: &row.outcome,
                        code: &row.code,
                        message: &row.message,
                    })
                    .collect();
                self.json_statement(INSERT_REPORT_ROWS, &params)
            })
            .collect()
    }

    /// Records a new job with the rows the upload already settled, in one batch.
    pub async fn insert_import(
        &self,
        job: &NewImport<'_>,
        report: &[ReportRow],
    ) -> Result<(), StoreError> {
        let status = if job.chunks == 0 { "done" } else { "queued" };
        let at = job.at.to_rfc3339();
        let finished = if job.chunks == 0 {
            text(&at)
        } else {
            JsValue::NULL
        };
        let insert = self
            .db
            .prepare(INSERT_IMPORT)
            .bind(&[
                text(job.id),
                text(job.owner_id),
                text(job.created_by),
                text(status),
                text(job.format),
                text(job.on_conflict),
                num(u64::from(job.dry_run)),
                text(job.host),
                num(job.total),
                num(job.chunks),
                num(job.skipped),
                num(job.failed),
                text(&at),
                finished,
            ])
            .map_err(d1)?;
        let mut statements = vec![insert];
        statements.extend(self.report_statements(job.id, report)?);
        self.batch(statements).await
    }

    pub async fn import_job(&self, id: &str) -> Result<Option<ImportJob>, StoreError> {
        let rows = self
            .db
            .prepare(IMPORT_BY_ID)
            .bind(&[text(id)])
            .map_err(d1)?
            .rows::<ImportJob>()
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Whether the chunk's counts are already in (a redelivered message).
    pub async fn import_chunk_done(&self, id: &str, chunk: u64) -> Result<bool, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            chunk: u64,
        }
        let rows = self
            .db
            .prepare(CHUNK_DONE)
            .bind(&[text(id), num(chunk)])
            .map_err(d1)?
            .rows::<Row>()
            .await?;
        Ok(!rows.is_empty())
    }

    /// queued → running, when the first chunk starts.
    pub async fn mark_import_running(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.db
            .prepare(MARK_RUNNING)
            .bind(&[text(id), text(&at.to_rfc3339())])
            .map_err(d1)?
            .run()
            .await
            .map_err(d1)?;
        Ok(())
    }

    /// Adds a chunk's counts and report rows, once, and settles the status (done when every
    /// chunk is in): one batch, so a chunk is counted whole or not at all.
    pub async fn finish_import_chunk(
        &self,
        id: &str,
        chunk: u64,
        tally: &Tally,
        report: &[ReportRow],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let at = text(&at.to_rfc3339());
        let mut statements = vec![
            self.db
                .prepare(ADD_CHUNK_COUNTS)
                .bind(&[
                    text(id),
                    num(chunk),
                    num(tally.created),
                    num(tally.overwritten),
                    num(tally.renamed),
                    num(tally.skipped),
                    num(tally.failed),
                    at.clone(),
                ])
                .map_err(d1)?,
            self.db
                .prepare(RECORD_CHUNK)
                .bind(&[text(id), num(chunk)])
                .map_err(d1)?,
        ];
        statements.extend(self.report_statements(id, report)?);
        statements.push(
            self.db
                .prepare(SETTLE_STATUS)
                .bind(&[text(id), at])
                .map_err(d1)?,
        );
        self.batch(statements).await
    }

    /// A page of the report, by line, after `after_line`.
    pub async fn import_report(
        &self,
        id: &str,
        after_line: u64,
        limit: u32,
    ) -> Result<Vec<ReportRow>, StoreError> {
        self.db
            .prepare(REPORT_PAGE)
            .bind(&[text(id), num(after_line), num(u64::from(limit))])
            .map_err(d1)?
            .rows::<ReportRow>()
            .await
    }
}
