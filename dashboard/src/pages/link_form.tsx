// Create and edit one link. The API's error code puts its message under the field concerned.
import { useEffect, useState } from "preact/hooks";
import { api, enc, get, type Link } from "../api";
import { bodyOf, type Draft, draftOf, EMPTY } from "../logic";
import { errorsFrom, type Errors, Field, FormError, LoadError, navigate, Select } from "../ui";

export function LinkForm({ slug }: { slug?: string }) {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [was, setWas] = useState<Draft | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!slug) return;
    get<Link>(`/api/links/${enc(slug)}`).then((l) => {
      const d = draftOf(l);
      setDraft(d);
      setWas(d);
      setVersion(l.version);
    }, setLoadError);
  }, [slug]);
  const set = (k: keyof Draft) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setBusy(true);
    try {
      const link = slug
        ? await api<Link>("PATCH", `/api/links/${enc(slug)}`, bodyOf(draft, was))
        : await api<Link>("POST", "/api/links", bodyOf(draft, null));
      navigate(`#/links/${enc(link.slug)}`);
    } catch (err) {
      setErrors(errorsFrom(err));
    } finally {
      setBusy(false);
    }
  };

  const heading = <h1 tabIndex={-1}>{slug ? `Edit ${slug}` : "New link"}</h1>;
  if (slug && loadError)
    return (
      <section>
        {heading}
        <LoadError error={loadError} />
      </section>
    );
  // No fields before the link is loaded: typing into them would be overwritten by the load.
  if (slug && version === null)
    return (
      <section aria-busy="true">
        {heading}
      </section>
    );
  return (
    <section>
      {heading}
      <form onSubmit={submit}>
        <Field
          label="Destination URL"
          name="url"
          type="url"
          required
          placeholder="https://example.com/page"
          value={draft.url}
          onInput={set("url")}
          errors={errors}
        />
        {!slug && (
          <Field
            label="Slug (optional)"
            name="slug"
            value={draft.slug}
            onInput={set("slug")}
            errors={errors}
            hint="3–64 of A–Z a–z 0–9 _ -; 7 random characters when empty."
          />
        )}
        <Field label="Title" name="title" value={draft.title} onInput={set("title")} errors={errors} />
        <Field
          label="Tags"
          name="tags"
          value={draft.tags}
          onInput={set("tags")}
          errors={errors}
          hint="Separated by commas or spaces, at most 10."
        />
        <div class="grid">
          <Field
            label="Expires at (optional)"
            name="expires_at"
            type="datetime-local"
            value={draft.expires_at}
            onInput={set("expires_at")}
            errors={errors}
          />
          <Field
            label="Max clicks (optional)"
            name="max_clicks"
            type="number"
            min="1"
            step="1"
            inputMode="numeric"
            value={draft.max_clicks}
            onInput={set("max_clicks")}
            errors={errors}
          />
        </div>
        <div class="grid">
          <Select
            label="Redirect type"
            name="redirect_type"
            value={draft.redirect_type}
            onChange={set("redirect_type")}
            errors={errors}
            options={[
              ["302", "302 Found (temporary, default)"],
              ["307", "307 Temporary Redirect"],
              ["301", "301 Moved Permanently (kept by browsers)"],
              ["308", "308 Permanent Redirect (kept by browsers)"],
            ]}
          />
          {slug && (
            <Select
              label="State"
              name="state"
              value={draft.state}
              onChange={set("state")}
              errors={errors}
              options={
                draft.state === "flagged" || was?.state === "flagged"
                  ? [["flagged", "Flagged (by an admin)"]]
                  : [
                      ["active", "Active"],
                      ["disabled", "Disabled"],
                    ]
              }
            />
          )}
        </div>
        <fieldset>
          <label for="f-forward_query">
            <input
              id="f-forward_query"
              type="checkbox"
              role="switch"
              checked={draft.forward_query}
              onChange={(e) => setDraft({ ...draft, forward_query: (e.target as HTMLInputElement).checked })}
            />
            Forward the visitor's query string to the destination
          </label>
          {slug && (
            <label for="f-archived">
              <input
                id="f-archived"
                type="checkbox"
                checked={draft.archived}
                onChange={(e) => setDraft({ ...draft, archived: (e.target as HTMLInputElement).checked })}
              />
              Archived (hidden from the list, still redirects)
            </label>
          )}
        </fieldset>
        <FormError errors={errors} />
        <div class="buttons">
          <button type="submit" aria-busy={busy} disabled={busy}>
            {slug ? "Save" : "Create link"}
          </button>
          <a href={slug ? `#/links/${enc(slug)}` : "#/links"} role="button" class="secondary">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}
