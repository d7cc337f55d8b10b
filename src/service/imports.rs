//! Import jobs: one request cannot write 100,000 links within a Worker's limits, so an upload
//! ([`start`]) stores the file's rows in chunks in KV, records the job in D1 and sends one
//! `IMPORT_QUEUE` message a chunk; the queue consumer ([`consume`]) writes a chunk's links
//! through the ordinary write path (the slug's Durable Object: the same validation, blocklist
//! and ownership rules as a create) and adds its counts to the job.
//!
//! The rows are stored in KV in pages of [`ROWS_PER_PAGE`] (one value each: the upload's KV
//! writes stay within an invocation's 1000 operations); a chunk is a quarter of a page.
//! Limits of one consumer invocation (one chunk of [`ROWS_PER_CHUNK`] rows): the page read, a
//! bulk KV read of the chunk's slugs and one of its destinations' blocklist candidates, one
//! Durable Object request per row (a few at a time, [`ROW_CONCURRENCY`]) plus the write path's
//! own KV check, one batched D1 index write and one D1 batch for the counts. Pages expire with
//! their TTL rather than being deleted: four chunks share one.
//!
//! A redelivered chunk is not counted twice: the chunk is recorded with its counts in one D1
//! batch, and a chunk already recorded is acknowledged without work.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, MessageBatch, MessageExt};

use crate::account::{Role, UserId};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::exchange::import::{
    chunk_in_page, last_row_wins, plan, ConflictMode, Draft, Format, Holder, ImportRow, Outcome,
    ParsedRows, Plan, RowContext, Tally, ROWS_PER_CHUNK, ROWS_PER_PAGE,
};
use crate::link::{Slug, ALPHANUMERIC};
use crate::moderation::blocking_candidates;
use crate::random;
use crate::service::links::{self as service, Written};
use crate::store::index::imports::{ImportJob, NewImport, ReportRow};
use crate::store::StoreError;
use crate::sync::{self, IndexChange};

/// Rows of a chunk written at the same time: each is a Durable Object round trip. Below the
/// runtime's six simultaneous open connections an invocation may hold.
pub const ROW_CONCURRENCY: usize = 5;
/// Messages per `sendBatch` (the queue's cap).
const SEND_BATCH_MAX: usize = 100;
/// KV writes of an upload's chunks in flight at once.
const PUT_CONCURRENCY: usize = 16;

/// One queue message: a chunk of a job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChunkMessage {
    pub import: String,
    pub chunk: u64,
}

/// What an upload asks for.
pub struct Upload {
    /// Whose links the rows become.
    pub owner: UserId,
    /// Who uploaded (the owner, or the admin).
    pub by: Caller,
    pub format: Format,
    pub on_conflict: ConflictMode,
    pub dry_run: bool,
    /// The host the file came in on: links may not point back at it.
    pub host: String,
}

/// A recorded job: its id, rows and chunks.
pub struct Started {
    pub id: String,
    pub total: u64,
    pub chunks: u64,
    pub done: bool,
}

fn report_row(row: &ImportRow, outcome: Outcome, code: &str, message: String) -> ReportRow {
    ReportRow {
        line: row.line,
        slug: row.slug.clone(),
        outcome: outcome.as_str().to_owned(),
        code: code.to_owned(),
        message,
    }
}

/// Stores the rows in chunks, records the job (with the rows the file already settled:
/// unreadable ones as failed, superseded ones as skipped) and queues one message a chunk.
pub async fn start(app: &App, upload: &Upload, parsed: ParsedRows) -> Result<Started, ApiError> {
    let queue = app
        .import_queue
        .as_ref()
        .ok_or_else(|| ApiError::Internal("binding IMPORT_QUEUE is missing".into()))?;
    let total = parsed.len() as u64;
    let mut rows = Vec::with_capacity(parsed.len());
    let mut report = Vec::new();
    for r in parsed {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => report.push(ReportRow {
                line: e.line,
                slug: e.slug,
                outcome: Outcome::Refused.as_str().to_owned(),
                code: e.code,
                message: e.message,
            }),
        }
    }
    let failed = report.len() as u64;
    let (rows, superseded) = last_row_wins(rows);
    let skipped = superseded.len() as u64;
    report.extend(superseded.iter().map(|row| {
        report_row(
            row,
            Outcome::Superseded,
            "superseded",
            "a later row of the file has the same slug".into(),
        )
    }));
    report.sort_by_key(|r| r.line);
    let id = format!("imp_{}", random::token(16, &ALPHANUMERIC)?);
    let chunks = rows.len().div_ceil(ROWS_PER_CHUNK);
    let pages: Vec<&[ImportRow]> = rows.chunks(ROWS_PER_PAGE).collect();
    let puts = pages
        .iter()
        .enumerate()
        .map(|(n, rows)| app.kv.put_import_page(&id, n as u64, rows));
    let put: Vec<Result<(), StoreError>> = stream::iter(puts)
        .buffer_unordered(PUT_CONCURRENCY)
        .collect()
        .await;
    put.into_iter().collect::<Result<(), StoreError>>()?;
    let job = NewImport {
        id: &id,
        owner_id: upload.owner.as_str(),
        created_by: upload.by.id.as_str(),
        format: upload.format.as_str(),
        on_conflict: upload.on_conflict.as_str(),
        dry_run: upload.dry_run,
        host: &upload.host,
        total,
        chunks: chunks as u64,
        failed,
        skipped,
        at: app.now(),
    };
    app.index.insert_import(&job, &report).await?;
    let messages: Vec<String> = (0..chunks as u64)
        .filter_map(|chunk| {
            serde_json::to_string(&ChunkMessage {
                import: id.clone(),
                chunk,
            })
            .ok()
        })
        .collect();
    for batch in messages.chunks(SEND_BATCH_MAX) {
        queue
            .send_batch(batch.to_vec())
            .await
            .map_err(|e| ApiError::Internal(format!("queueing import {id}: {e}")))?;
    }
    Ok(Started {
        id,
        total,
        chunks: chunks as u64,
        done: chunks == 0,
    })
}

/// The import queue's consumer: each message is one chunk, acknowledged once counted (or when
/// its job is gone), retried when a store failed before the counts were in.
pub async fn consume(batch: MessageBatch<String>, app: &App) {
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            console_error!("import batch unreadable: {e}");
            batch.retry_all();
            return;
        }
    };
    for message in messages {
        let Ok(chunk) = serde_json::from_str::<ChunkMessage>(message.body()) else {
            console_error!("import message unreadable, dropped: {}", message.id());
            message.ack();
            continue;
        };
        match run_chunk(app, &chunk).await {
            Ok(summary) => {
                console_log!("{}", serde_json::to_string(&summary).unwrap_or_default());
                message.ack();
            }
            Err(e) => {
                console_error!("import {} chunk {}: {e}", chunk.import, chunk.chunk);
                message.retry();
            }
        }
    }
}

/// The log line of one chunk.
#[derive(Serialize, Default)]
struct ChunkSummary {
    event: &'static str,
    import: String,
    chunk: u64,
    rows: usize,
    tally: Tally,
    note: Option<&'static str>,
}

async fn run_chunk(app: &App, msg: &ChunkMessage) -> Result<ChunkSummary, StoreError> {
    let mut summary = ChunkSummary {
        event: "import_chunk",
        import: msg.import.clone(),
        chunk: msg.chunk,
        ..ChunkSummary::default()
    };
    let Some(job) = app.index.import_job(&msg.import).await? else {
        summary.note = Some("job gone");
        return Ok(summary);
    };
    if app.index.import_chunk_done(&job.id, msg.chunk).await? {
        summary.note = Some("already counted");
        return Ok(summary);
    }
    app.index.mark_import_running(&job.id, app.now()).await?;
    // Gone only when it outlived its TTL: the chunk is counted empty so the job can finish.
    let (page, range) = chunk_in_page(msg.chunk);
    let rows = app.kv.import_page(&job.id, page).await?;
    if rows.is_none() {
        summary.note = Some("page expired");
    }
    let rows: Vec<ImportRow> = rows
        .unwrap_or_default()
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .collect();
    summary.rows = rows.len();
    let (results, changes) = import_rows(app, &job, &rows).await?;
    sync::apply_all(app.clone(), changes).await;
    let tally = Tally::of(results.iter().map(|(outcome, _)| *outcome));
    let report: Vec<ReportRow> = results.into_iter().filter_map(|(_, r)| r).collect();
    app.index
        .finish_import_chunk(&job.id, msg.chunk, &tally, &report, app.now())
        .await?;
    summary.tally = tally;
    Ok(summary)
}

/// A row's outcome and its report line (for reported outcomes).
type RowResult = (Outcome, Option<ReportRow>);

fn refused(row: &ImportRow, e: &ApiError) -> RowResult {
    let message = e.public_message();
    (
        Outcome::Refused,
        Some(report_row(row, Outcome::Refused, e.code(), message)),
    )
}

/// Validates and writes a chunk's rows: every row's outcome, and the index changes to make.
async fn import_rows(
    app: &App,
    job: &ImportJob,
    rows: &[ImportRow],
) -> Result<(Vec<RowResult>, Vec<IndexChange>), StoreError> {
    let owner: UserId = serde_json::from_value(job.owner_id.clone().into())
        .map_err(|e| StoreError::Index(format!("import {}: owner id: {e}", job.id)))?;
    let mode = ConflictMode::parse(&job.on_conflict).unwrap_or_default();
    let by_admin = job.created_by == UserId::admin().as_str();
    let is_edgelink = Format::parse(&job.format).is_some_and(Format::is_edgelink);
    let cx = RowContext {
        owner: &owner,
        own_host: &job.host,
        by_admin: by_admin && is_edgelink,
        now: app.now(),
    };
    // Validation first: what a create checks before any store.
    let drafts: Vec<Result<Draft, ApiError>> = rows
        .iter()
        .map(|r| r.to_link(&cx).map_err(ApiError::from))
        .collect();
    // The blocklist, for the whole chunk in bulk reads.
    let mut candidates: HashMap<usize, Vec<String>> = HashMap::new();
    let mut drafts = drafts;
    for (i, d) in drafts.iter_mut().enumerate() {
        let Ok(draft) = d else { continue };
        let mut hosts = Vec::new();
        for host in draft.hosts() {
            match blocking_candidates(&host) {
                Ok(more) => hosts.extend(more),
                Err(e) => {
                    *d = Err(ApiError::InvalidUrl(e.0));
                    break;
                }
            }
        }
        if d.is_ok() {
            candidates.insert(i, hosts);
        }
    }
    let all: Vec<String> = candidates
        .values()
        .flatten()
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let blocked = app.kv.blocked_among(&all).await?;
    for (i, hosts) in &candidates {
        if hosts.iter().any(|h| blocked.contains(h)) {
            drafts[*i] = Err(ApiError::BlockedDestination);
        }
    }
    // Who holds each slug now, in bulk reads (the slug's object decides again on write).
    let slugs: Vec<Slug> = drafts
        .iter()
        .filter_map(|d| d.as_ref().ok().and_then(|d| d.slug.clone()))
        .collect();
    let held = app.kv.links_bulk(&slugs).await?;
    let holder = |slug: &Slug| match held.get(slug) {
        None | Some(Ok(None)) => Holder::Nobody,
        Some(Ok(Some(link))) if link.owner == owner => Holder::Importer,
        // Another owner's, or a value we cannot read: never touched.
        Some(_) => Holder::Other,
    };
    let caller = Caller {
        id: owner.clone(),
        role: Role::User,
    };
    let dry_run = job.dry_run != 0;
    let work = rows.iter().zip(drafts).map(|(row, draft)| {
        let caller = &caller;
        let planned = match &draft {
            Ok(d) => d
                .slug
                .as_ref()
                .map_or(Plan::Create, |s| plan(mode, holder(s))),
            Err(_) => Plan::Refuse,
        };
        async move {
            match draft {
                Err(e) => (refused(row, &e), None),
                Ok(_) if dry_run => (dry_outcome(row, planned), None),
                Ok(draft) => write_row(app, caller, row, &draft, planned, mode).await,
            }
        }
    });
    let done: Vec<(RowResult, Option<IndexChange>)> = stream::iter(work)
        .buffer_unordered(ROW_CONCURRENCY)
        .collect()
        .await;
    let mut results = Vec::with_capacity(done.len());
    let mut changes = Vec::new();
    for (result, change) in done {
        results.push(result);
        changes.extend(change);
    }
    Ok((results, changes))
}

fn taken_message(row: &ImportRow) -> String {
    format!(
        "slug '{}' is already in use",
        row.slug.as_deref().unwrap_or("")
    )
}

fn skipped(row: &ImportRow) -> RowResult {
    let message = format!("{}; on_conflict=skip left it alone", taken_message(row));
    (
        Outcome::Skipped,
        Some(report_row(row, Outcome::Skipped, "slug_taken", message)),
    )
}

fn others(row: &ImportRow) -> RowResult {
    let message = format!(
        "{} by another user; an import never overwrites it",
        taken_message(row)
    );
    (
        Outcome::Refused,
        Some(report_row(row, Outcome::Refused, "slug_taken", message)),
    )
}

fn renamed(row: &ImportRow, slug: &str) -> RowResult {
    let message = format!("{}; created as '{slug}'", taken_message(row));
    (
        Outcome::Renamed,
        Some(report_row(row, Outcome::Renamed, "slug_taken", message)),
    )
}

/// What a dry run reports for a row: what the write would do, as far as KV shows it now.
fn dry_outcome(row: &ImportRow, planned: Plan) -> RowResult {
    match planned {
        Plan::Create => (Outcome::Created, None),
        Plan::Overwrite => (Outcome::Overwritten, None),
        Plan::Rename => renamed(row, "(a generated slug)"),
        Plan::Skip => skipped(row),
        Plan::Refuse => others(row),
    }
}

/// Writes one row by its plan; a slug found taken on write (KV had not shown it yet) follows
/// the conflict mode.
async fn write_row(
    app: &App,
    caller: &Caller,
    row: &ImportRow,
    draft: &Draft,
    planned: Plan,
    mode: ConflictMode,
) -> (RowResult, Option<IndexChange>) {
    let create =
        |slug: Option<Slug>| service::create(&app.kv, &app.claims, caller, slug, |s| draft.at(s));
    let written = |w: Written, result: RowResult| (result, w.change);
    let planned = match planned {
        Plan::Create => match create(draft.slug.clone()).await {
            Ok(w) => return written(w, (Outcome::Created, None)),
            // Taken after all (KV had not shown it yet): the slug's object decides whose it
            // is, so the mode's plan for the importer's own link is tried and refused there
            // when it is another user's.
            Err(ApiError::SlugTaken) => plan(mode, Holder::Importer),
            Err(e) => return (refused(row, &e), None),
        },
        other => other,
    };
    match planned {
        Plan::Overwrite => {
            let Some(slug) = draft.slug.as_ref() else {
                return (others(row), None);
            };
            let patch = draft.overwrite_patch(row);
            match service::update(&app.claims, caller, slug, patch, None).await {
                Ok(w) => written(w, (Outcome::Overwritten, None)),
                // Not the importer's (or gone and not free): never another user's link.
                Err(ApiError::NotFound) => (others(row), None),
                Err(e) => (refused(row, &e), None),
            }
        }
        Plan::Rename => match create(None).await {
            Ok(w) => {
                let result = renamed(row, w.link.slug.as_str());
                written(w, result)
            }
            Err(e) => (refused(row, &e), None),
        },
        Plan::Skip => (skipped(row), None),
        // `Create` cannot come twice: a taken slug's plan is the importer's-own one.
        Plan::Refuse | Plan::Create => (others(row), None),
    }
}
