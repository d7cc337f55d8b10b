// The caller's deleted links (`GET /api/deleted-links`), newest first, each brought back as it
// was by Restore (`POST /api/links/{slug}/restore` with the version the list gives).
import { useState } from "preact/hooks";
import { api, enc, get, type Link, messageOf, qs } from "../api";
import { ConfirmButton, fmtDate, LoadError, Notice, Pager, useLoad } from "../ui";

interface DeletedPage {
  deleted: { slug: string; version: number; deleted_at: string; deleted_by: string; link: Link | null }[];
  next_cursor: string | null;
}

export function DeletedLinks() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => get<DeletedPage>(`/api/deleted-links${qs({ limit: "20", cursor: cursor ?? undefined })}`), [cursor]);
  const [restored, setRestored] = useState("");
  const [error, setError] = useState("");
  const restore = async (slug: string, version: number) => {
    setError("");
    try {
      await api("POST", `/api/links/${enc(slug)}/restore`, { version });
      setRestored(slug);
      page.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const rows = page.data?.deleted ?? [];
  return (
    <section>
      <hgroup>
        <h1 tabIndex={-1}>Recently deleted</h1>
        <p>Your deleted links, newest first. Restore brings one back as it was; its clicks count anew.</p>
      </hgroup>
      {restored && (
        <Notice>
          Restored <a href={`#/links/${enc(restored)}`}>{restored}</a>.
        </Notice>
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <LoadError error={page.error} />
      <div class="overflow-auto" aria-busy={page.loading ? "true" : undefined}>
        <table class="deleted">
          <thead>
            <tr>
              <th scope="col">Slug</th>
              <th scope="col">Destination</th>
              <th scope="col">Title</th>
              <th scope="col">Deleted</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.slug} data-slug={d.slug}>
                <td>{d.slug}</td>
                <td class="url">{d.link?.url ?? "—"}</td>
                <td>{d.link?.title ?? "—"}</td>
                <td>{fmtDate(d.deleted_at)}</td>
                <td>
                  <ConfirmButton label="Restore" name={`Restore ${d.slug}`} question={`Bring ${d.slug} back?`} onConfirm={() => restore(d.slug, d.version)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {page.data && rows.length === 0 && <p>No deleted links.</p>}
      </div>
      <Pager cursors={cursors} next={page.data?.next_cursor} onChange={setCursors} />
    </section>
  );
}
