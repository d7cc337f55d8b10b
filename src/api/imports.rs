//! Import jobs over HTTP (docs/import-export.md, "Import"):
//! - `POST /api/imports?format=&on_conflict=&dry_run=&owner=` with the file as the raw body
//!   (at most 50 MB; 413 above) → 202 `{"id","status","total",…}`;
//! - `GET /api/imports/{id}` → the job's progress;
//! - `GET /api/imports/{id}/report` → CSV (`line,slug,outcome,code,message`) of the refused,
//!   renamed, skipped and superseded rows.
//!
//! A job is seen by its owner, by whoever uploaded it, and by the admin; anyone else gets 404.

use serde::Serialize;
use worker::{Context, Request, Response};

use super::{authenticate, body_bytes_within, json, origin, query_param, ApiResult};
use crate::account::{Email, UserId};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::exchange::edgelink::csv_bytes;
use crate::exchange::import::{detect, file_text, parse, ConflictMode, Format, MAX_FILE_BYTES};
use crate::service::imports::{self as service, Upload};
use crate::store::index::imports::{ImportJob, REPORT_PAGE_ROWS};

/// The longest import id a path may carry (`imp_` and 16 alphanumerics are issued).
const IMPORT_ID_MAX_LEN: usize = 40;

#[derive(Serialize)]
struct Accepted<'a> {
    id: &'a str,
    status: &'a str,
    total: u64,
    chunks: u64,
    format: &'a str,
    on_conflict: &'a str,
    dry_run: bool,
    owner: &'a str,
}

/// `POST /api/imports` → 202: the file is stored in chunks and queued; 400 `invalid_import`
/// (nothing stored) when it is of no format, or not of the one named.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let named_format = match query_param(&req, "format").filter(|f| !f.is_empty()) {
        None => None,
        Some(raw) => Some(Format::parse(&raw).ok_or_else(|| {
            ApiError::InvalidQuery(
                "format must be one of: edgelink-csv, edgelink-ndjson, sink, shlink, csv".into(),
            )
        })?),
    };
    let on_conflict = match query_param(&req, "on_conflict").filter(|m| !m.is_empty()) {
        None => ConflictMode::default(),
        Some(raw) => ConflictMode::parse(&raw).ok_or_else(|| {
            ApiError::InvalidQuery("on_conflict must be skip, overwrite or rename".into())
        })?,
    };
    let dry_run = parse_dry_run(query_param(&req, "dry_run").as_deref())?;
    let owner = owner_of(app, &caller, query_param(&req, "owner").as_deref()).await?;
    let host = origin(&req)?.host;
    let bytes = body_bytes_within(&mut req, MAX_FILE_BYTES).await?;
    let text = file_text(bytes).map_err(|e| ApiError::InvalidImport(e.0))?;
    let format = match named_format {
        Some(f) => f,
        None => detect(&text).ok_or_else(|| {
            ApiError::InvalidImport(
                "could not tell the file's format; name it with format= (edgelink-csv, \
                 edgelink-ndjson, sink, shlink, csv)"
                    .into(),
            )
        })?,
    };
    let rows = parse(format, &text).map_err(|e| ApiError::InvalidImport(e.0))?;
    drop(text);
    let upload = Upload {
        owner: owner.clone(),
        by: caller,
        format,
        on_conflict,
        dry_run,
        host,
    };
    let started = service::start(app, &upload, rows).await?;
    json(
        202,
        &Accepted {
            id: &started.id,
            status: if started.done { "done" } else { "queued" },
            total: started.total,
            chunks: started.chunks,
            format: format.as_str(),
            on_conflict: on_conflict.as_str(),
            dry_run,
            owner: owner.as_str(),
        },
    )
}

/// `dry_run`: `1`/`true` or `0`/`false`; absent is false.
pub fn parse_dry_run(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw {
        None | Some("") | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(_) => Err(ApiError::InvalidQuery(
            "dry_run must be 1, true, 0 or false".into(),
        )),
    }
}

/// Whose links the import makes: the caller's, or (the admin only) the user named by `owner=`,
/// a user id or an e-mail address.
async fn owner_of(app: &App, caller: &Caller, raw: Option<&str>) -> Result<UserId, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(caller.id.clone());
    };
    if !caller.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let unknown = || ApiError::InvalidQuery(format!("owner: no user '{raw}'"));
    let id = if raw.contains('@') {
        let email = Email::parse(raw).map_err(|_| unknown())?;
        app.kv
            .user_id_for_email(&email)
            .await?
            .ok_or_else(unknown)?
    } else {
        UserId::parse(raw).ok_or_else(unknown)?
    };
    match app.kv.user(&id).await? {
        Some(user) => Ok(user.id),
        None => Err(unknown()),
    }
}

#[derive(Serialize)]
struct JobView<'a> {
    id: &'a str,
    status: &'a str,
    format: &'a str,
    on_conflict: &'a str,
    dry_run: bool,
    owner: &'a str,
    total: u64,
    created: u64,
    overwritten: u64,
    renamed: u64,
    skipped: u64,
    failed: u64,
    chunks: u64,
    chunks_done: u64,
    created_at: &'a str,
    updated_at: &'a str,
    finished_at: Option<&'a str>,
    report: String,
}

/// The job, when the caller may see it (its owner, its uploader, the admin); else 404.
async fn visible_job(app: &App, caller: &Caller, raw_id: &str) -> Result<ImportJob, ApiError> {
    let well_formed = raw_id.len() <= IMPORT_ID_MAX_LEN
        && raw_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(ApiError::NotFound);
    }
    let job = app
        .index
        .import_job(raw_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mine = job.owner_id == caller.id.as_str() || job.created_by == caller.id.as_str();
    if mine || caller.is_admin() {
        Ok(job)
    } else {
        Err(ApiError::NotFound)
    }
}

/// `GET /api/imports/{id}` → the job: `status` (queued, running, done), `total` rows,
/// `created` (new, overwritten and renamed links), `skipped`, `failed`, and the rest.
pub async fn get(req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let job = visible_job(app, &caller, raw_id).await?;
    json(
        200,
        &JobView {
            id: &job.id,
            status: &job.status,
            format: &job.format,
            on_conflict: &job.on_conflict,
            dry_run: job.dry_run != 0,
            owner: &job.owner_id,
            total: job.total,
            created: job.created,
            overwritten: job.overwritten,
            renamed: job.renamed,
            skipped: job.skipped,
            failed: job.failed,
            chunks: job.chunks,
            chunks_done: job.chunks_done,
            created_at: &job.created_at,
            updated_at: &job.updated_at,
            finished_at: job.finished_at.as_deref(),
            report: format!("/api/imports/{}/report", job.id),
        },
    )
}

/// `GET /api/imports/{id}/report` → `text/csv`: one row per refused, renamed, skipped or
/// superseded line of the file, by line; the rows so far while the job runs.
pub async fn report(req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let job = visible_job(app, &caller, raw_id).await?;
    // By the export's writer, not the `csv` crate's: that one links core's float parser and
    // its tables for a quoting style never used here (`NonNumeric`), 17 KB of gzipped wasm.
    let mut bytes = csv_bytes([["line", "slug", "outcome", "code", "message"]]);
    let mut after = 0;
    loop {
        let page = app
            .index
            .import_report(&job.id, after, REPORT_PAGE_ROWS)
            .await?;
        for r in &page {
            let line = r.line.to_string();
            let slug = r.slug.as_deref().unwrap_or("");
            bytes.extend(csv_bytes([[
                line.as_str(),
                slug,
                &r.outcome,
                &r.code,
                &r.message,
            ]]));
        }
        match page.last() {
            Some(last) if page.len() == REPORT_PAGE_ROWS as usize => after = last.line,
            _ => break,
        }
    }
    let builder = Response::builder()
        .with_status(200)
        .with_header("Content-Type", "text/csv; charset=utf-8")
        .map_err(|e| ApiError::Internal(format!("report header: {e}")))?;
    Ok(builder.fixed(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_takes_only_the_usual_spellings() {
        assert!(!parse_dry_run(None).unwrap());
        assert!(parse_dry_run(Some("1")).unwrap());
        assert!(parse_dry_run(Some("true")).unwrap());
        assert!(!parse_dry_run(Some("0")).unwrap());
        assert_eq!(
            parse_dry_run(Some("yes")).unwrap_err().code(),
            "invalid_query"
        );
    }
}
