// Create and edit one link. The API's error code puts its message under the field concerned.
// "More options" holds the start, the password and the smart options (docs/api.md).
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc, get, type Link } from "../api";
import {
  bodyOf,
  COUNTRIES_MAX,
  type CountryRow,
  type Draft,
  draftOf,
  EMPTY,
  NEW_VARIANT,
  usesMoreOptions,
  VARIANTS_MAX,
  VARIANTS_MIN,
  type VariantRow,
} from "../logic";
import { errorsFrom, type Errors, Field, FormError, Group, LoadError, navigate, Select } from "../ui";

/// Error keys of the fields inside "More options": an error there opens it, so it is seen.
const MORE_FIELDS = [
  "valid_since",
  "password",
  "targets",
  "ios",
  "android",
  "desktop",
  "countries",
  "variants",
  "preview",
  "preview_title",
  "preview_description",
  "preview_image",
];

/// Rows of inputs (country targets, variants) that the user adds and removes. A new row's first
/// input takes the focus, and a removed row hands it to the add button, so the keyboard never
/// falls back to the top of the page.
function Rows<R>({
  rows,
  max,
  add,
  onChange,
  fresh,
  render,
}: {
  rows: R[];
  max: number;
  add: string;
  onChange: (rows: R[]) => void;
  fresh: R;
  render: (row: R, i: number, set: (patch: Partial<R>) => void, remove: () => void) => JSX.Element;
}) {
  const [focus, setFocus] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focus === null) return;
    const el =
      focus === "add"
        ? box.current?.querySelector<HTMLElement>("button.add")
        : box.current?.querySelectorAll(".row")[Number(focus)]?.querySelector("input");
    el?.focus();
    setFocus(null);
  }, [focus]);
  return (
    <div class="rows" ref={box}>
      {rows.map((row, i) =>
        render(
          row,
          i,
          (patch) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r))),
          () => {
            onChange(rows.filter((_, j) => j !== i));
            setFocus("add");
          },
        ),
      )}
      <button
        type="button"
        class="secondary add"
        disabled={rows.length >= max}
        onClick={() => {
          onChange([...rows, fresh]);
          setFocus(String(rows.length));
        }}
      >
        {add}
      </button>
    </div>
  );
}

function MoreOptions({
  draft,
  setDraft,
  editing,
  errors,
  open,
}: {
  draft: Draft;
  setDraft: (f: (d: Draft) => Draft) => void;
  editing: boolean;
  errors: Errors;
  open: boolean;
}) {
  const box = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    if (box.current && Object.keys(errors).some((k) => MORE_FIELDS.includes(k))) box.current.open = true;
  }, [errors]);
  const set = (k: keyof Draft) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const replacing = editing && draft.has_password;
  // A new link's password is one field; an edit says whether one is set and can remove it.
  const passwordControls = (
    <>
        {replacing && (
          <p class="muted" id="f-password-state">
            Visitors must give a password. It is never shown: type a new one to replace it.
          </p>
        )}
        {editing && !draft.has_password && <p class="muted">No password: the link redirects at once.</p>}
        <Field
          label={replacing ? "New password (optional)" : "Password (optional)"}
          name="password"
          type="password"
          autocomplete="new-password"
          value={draft.password}
          onInput={set("password")}
          errors={errors}
          disabled={draft.remove_password}
          hint="8–256 characters. Visitors must give it before the redirect; only a hash of it is kept."
        />
        {replacing && (
          <label for="f-remove_password">
            <input
              id="f-remove_password"
              type="checkbox"
              checked={draft.remove_password}
              onChange={(e) => setDraft((d) => ({ ...d, remove_password: (e.target as HTMLInputElement).checked }))}
            />
            Remove the password
          </label>
        )}
    </>
  );
  return (
    <details class="more" ref={box} open={open}>
      <summary>More options</summary>
      <Field
        label="Starts at (optional)"
        name="valid_since"
        type="datetime-local"
        value={draft.valid_since}
        onInput={set("valid_since")}
        errors={errors}
        hint="Before then the link answers 404, as if it did not exist."
      />
      {editing ? (
        <Group legend="Password" name="password_group">
          {passwordControls}
        </Group>
      ) : (
        passwordControls
      )}
      <Group
        legend="Targets by device"
        name="targets"
        errors={errors}
        hint="Visitors on that device go there instead of the destination."
      >
        <Field label="iOS URL" name="ios" type="url" value={draft.ios} onInput={set("ios")} errors={errors} />
        <Field label="Android URL" name="android" type="url" value={draft.android} onInput={set("android")} errors={errors} />
        <Field label="Desktop URL" name="desktop" type="url" value={draft.desktop} onInput={set("desktop")} errors={errors} />
      </Group>
      <Group
        legend="Targets by country"
        name="countries"
        errors={errors}
        hint={`Two-letter country codes (DE, FR, …), at most ${COUNTRIES_MAX}; a country target wins over a device target.`}
      >
        <Rows<CountryRow>
          rows={draft.countries}
          max={COUNTRIES_MAX}
          add="Add a country"
          fresh={{ code: "", url: "" }}
          onChange={(countries) => setDraft((d) => ({ ...d, countries }))}
          render={(row, i, setRow, remove) => (
            <div class="row" key={i}>
              <Field
                class="short"
                label={`Country ${i + 1} code`}
                name={`country_code_${i}`}
                maxLength={2}
                placeholder="DE"
                value={row.code}
                onInput={(code) => setRow({ code })}
              />
              <Field
                label={`Country ${i + 1} URL`}
                name={`country_url_${i}`}
                type="url"
                value={row.url}
                onInput={(url) => setRow({ url })}
              />
              <button type="button" class="secondary" aria-label={`Remove country ${i + 1}`} onClick={remove}>
                Remove
              </button>
            </div>
          )}
        />
      </Group>
      <Group
        legend="A/B variants"
        name="variants"
        errors={errors}
        hint={
          `${VARIANTS_MIN} to ${VARIANTS_MAX} destinations that replace the destination; ` +
          "each visitor gets one by weight (1–100) and keeps it for the day."
        }
      >
        <Rows<VariantRow>
          rows={draft.variants}
          max={VARIANTS_MAX}
          add="Add a variant"
          fresh={NEW_VARIANT}
          onChange={(variants) => setDraft((d) => ({ ...d, variants }))}
          render={(row, i, setRow, remove) => (
            <div class="row" key={i}>
              <Field
                label={`Variant ${i + 1} URL`}
                name={`variant_url_${i}`}
                type="url"
                value={row.url}
                onInput={(url) => setRow({ url })}
              />
              <Field
                class="short"
                label={`Variant ${i + 1} weight`}
                name={`variant_weight_${i}`}
                type="number"
                inputMode="numeric"
                step="1"
                value={row.weight}
                onInput={(weight) => setRow({ weight })}
              />
              <button type="button" class="secondary" aria-label={`Remove variant ${i + 1}`} onClick={remove}>
                Remove
              </button>
            </div>
          )}
        />
      </Group>
      <Group
        legend="Social preview"
        name="preview"
        errors={errors}
        hint="What chat apps and social sites show for the link; people still go straight to the destination."
      >
        <Field
          label="Preview title"
          name="preview_title"
          value={draft.preview_title}
          onInput={set("preview_title")}
          errors={errors}
        />
        <Field
          label="Preview description"
          name="preview_description"
          value={draft.preview_description}
          onInput={set("preview_description")}
          errors={errors}
        />
        <Field
          label="Preview image URL"
          name="preview_image"
          type="url"
          placeholder="https://example.com/card.png"
          value={draft.preview_image}
          onInput={set("preview_image")}
          errors={errors}
          hint="An https URL."
        />
      </Group>
    </details>
  );
}

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
    const body = bodyOf(draft, slug ? was : null);
    try {
      const link = slug
        ? await api<Link>("PATCH", `/api/links/${enc(slug)}`, body)
        : await api<Link>("POST", "/api/links", body);
      // A new link's page opens with its short link to copy.
      navigate(`#/links/${enc(link.slug)}${slug ? "" : "?created"}`);
    } catch (err) {
      setErrors(errorsFrom(err, body));
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
        <MoreOptions draft={draft} setDraft={setDraft} editing={!!slug} errors={errors} open={usesMoreOptions(was ?? EMPTY)} />
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
