// Bulk import with the job's progress, and export downloads (plain links: a GET with the cookie).
import { useEffect, useState } from "preact/hooks";
import { enc, get, qs, request } from "../api";
import { errorsFrom, type Errors, FormError, Select } from "../ui";
import { type Job, jobPercent } from "../logic";

const POLL_MS = 700;

function ImportForm({ admin }: { admin: boolean }) {
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState("");
  const [onConflict, setOnConflict] = useState("skip");
  const [dryRun, setDryRun] = useState(false);
  const [owner, setOwner] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [job, setJob] = useState<Job | null>(null);

  useEffect(() => {
    if (!job || job.status === "done") return;
    const t = setTimeout(() => {
      get<Job>(`/api/imports/${enc(job.id)}`).then(setJob, (e) => setErrors(errorsFrom(e)));
    }, POLL_MS);
    return () => clearTimeout(t);
  }, [job]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    if (!file) {
      setErrors({ file: "Choose a file first." });
      return;
    }
    try {
      const path = `/api/imports${qs({ format, on_conflict: onConflict, dry_run: dryRun ? "1" : "", owner: admin ? owner.trim() : "" })}`;
      const resp = await request("POST", path, undefined, file);
      setJob((await resp.json()) as Job);
    } catch (err) {
      const e = errorsFrom(err);
      // An unknown owner is a query error: show it at the owner field when one was given.
      if (e._form && owner && admin) setErrors({ owner: e._form });
      else setErrors(e);
    }
  };

  const pct = job ? jobPercent(job) : 0;
  return (
    <article>
      <h2>Import links</h2>
      <form onSubmit={submit}>
        <label for="f-file">
          File (CSV or NDJSON from edgelink, Sink, Shlink, or a plain CSV; up to 50 MB)
          <input
            id="f-file"
            type="file"
            name="file"
            accept=".csv,.ndjson,.json,.jsonl,text/csv,application/x-ndjson"
            aria-invalid={errors.file ? "true" : undefined}
            aria-describedby={errors.file ? "f-file-err" : undefined}
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
          />
          {errors.file && (
            <small id="f-file-err" class="field-error" role="alert">
              {errors.file}
            </small>
          )}
        </label>
        <div class="grid">
          <Select
            label="Format"
            name="format"
            value={format}
            onChange={setFormat}
            options={[
              ["", "Detect from the content"],
              ["edgelink-csv", "edgelink CSV"],
              ["edgelink-ndjson", "edgelink NDJSON"],
              ["sink", "Sink"],
              ["shlink", "Shlink"],
              ["csv", "Plain CSV"],
            ]}
          />
          <Select
            label="When a slug exists"
            name="on_conflict"
            value={onConflict}
            onChange={setOnConflict}
            options={[
              ["skip", "Skip the row"],
              ["overwrite", "Overwrite my link"],
              ["rename", "Import under a new slug"],
            ]}
          />
        </div>
        {admin && (
          <label for="f-owner">
            Owner (admin: a user id or e-mail; empty: you)
            <input
              id="f-owner"
              name="owner"
              value={owner}
              aria-invalid={errors.owner ? "true" : undefined}
              onInput={(e) => setOwner((e.target as HTMLInputElement).value)}
            />
            {errors.owner && (
              <small class="field-error" role="alert">
                {errors.owner}
              </small>
            )}
          </label>
        )}
        <label for="f-dry">
          <input id="f-dry" type="checkbox" checked={dryRun} onChange={(e) => setDryRun((e.target as HTMLInputElement).checked)} />
          Dry run (count what would happen, write nothing)
        </label>
        <FormError errors={errors} />
        <button type="submit" disabled={!!job && job.status !== "done"}>
          Import
        </button>
      </form>
      {job && (
        <section class="job" aria-live="polite" data-status={job.status}>
          <label for="import-progress">
            Import {job.id}: {job.status}, <span class="pct">{pct} %</span>
          </label>
          <progress id="import-progress" max={100} value={pct} />
          <p>
            {job.total} rows: {job.created} created
            {job.overwritten ? ` (${job.overwritten} overwritten)` : ""}
            {job.renamed ? ` (${job.renamed} renamed)` : ""}, {job.skipped} skipped, {job.failed} refused
            {job.dry_run ? " (dry run: nothing written)" : ""}.{" "}
            <a href={job.report} download={`${job.id}-report.csv`}>
              Report (CSV)
            </a>
          </p>
        </section>
      )}
    </article>
  );
}

function Export({ admin }: { admin: boolean }) {
  const [format, setFormat] = useState("csv");
  const [all, setAll] = useState(false);
  const href = `/api/links/export${qs({ format, all: admin && all ? "1" : "" })}`;
  return (
    <article>
      <h2>Export links</h2>
      <Select
        label="Format"
        name="export_format"
        value={format}
        onChange={setFormat}
        options={[
          ["csv", "CSV"],
          ["ndjson", "NDJSON"],
        ]}
      />
      {admin && (
        <label for="f-all">
          <input id="f-all" type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} />
          Every user's links (with their owners)
        </label>
      )}
      <a href={href} download role="button" class="export">
        Download export
      </a>
    </article>
  );
}

export function ImportExport({ admin }: { admin: boolean }) {
  return (
    <section>
      <h1 tabIndex={-1}>Import and export</h1>
      <ImportForm admin={admin} />
      <Export admin={admin} />
    </section>
  );
}
