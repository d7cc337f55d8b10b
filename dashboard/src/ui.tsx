// Small shared pieces: form fields that show the API error next to the field it concerns, an
// inline two-step confirmation, a copy button, and a loader hook. No inline style attributes
// anywhere (CSP).
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { fieldOf, messageOf } from "./api";

export type Errors = Record<string, string>;

/// An API error as form errors: under its field when the code names one, else for the form.
/// `sent`, the request's body, tells which destination a `blocked_destination` concerns.
export function errorsFrom(err: unknown, sent?: Record<string, unknown>): Errors {
  return { [fieldOf(err, sent) ?? "_form"]: messageOf(err) };
}

type InputProps = {
  type?: "text" | "url" | "email" | "password" | "number" | "datetime-local" | "date" | "search";
  required?: boolean;
  placeholder?: string;
  autocomplete?: string;
  min?: string;
  step?: string;
  inputMode?: "numeric" | "text";
  maxLength?: number;
  disabled?: boolean;
  /// Added to the wrapper's `field` class (the rows of "More options" size their fields by it).
  class?: string;
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  errors?: Errors;
  hint?: string;
};

export function Field({ label, name, value, onInput, errors, hint, type, class: cls, ...rest }: InputProps) {
  const err = errors?.[name];
  const id = `f-${name}`;
  const described = err ? `${id}-err` : hint ? `${id}-hint` : undefined;
  // Label and control are siblings (not nested), so the control's name is the label alone.
  return (
    <div class={cls ? `field ${cls}` : "field"}>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={(type ?? "text") as "text"}
        value={value}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        aria-invalid={err ? "true" : undefined}
        aria-describedby={described}
        {...rest}
      />
      {err ? (
        <small id={`${id}-err`} class="field-error" role="alert">
          {err}
        </small>
      ) : hint ? (
        <small id={`${id}-hint`}>{hint}</small>
      ) : null}
    </div>
  );
}

export function Select({
  label,
  name,
  value,
  onChange,
  options,
  errors,
}: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  options: [string, string][];
  errors?: Errors;
}) {
  const err = errors?.[name];
  const id = `f-${name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
        aria-invalid={err ? "true" : undefined}
        aria-describedby={err ? `${id}-err` : undefined}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      {err && (
        <small id={`${id}-err`} class="field-error" role="alert">
          {err}
        </small>
      )}
    </div>
  );
}

/// Related controls under one legend, with the API's error for the group (its `name`) below
/// them; the error also describes the group, so a screen reader reads it on entering.
export function Group({
  legend,
  name,
  errors,
  hint,
  children,
}: {
  legend: string;
  name: string;
  errors?: Errors;
  hint?: string;
  children: ComponentChildren;
}) {
  const err = errors?.[name];
  const id = `f-${name}`;
  return (
    <fieldset
      id={id}
      class="group"
      aria-invalid={err ? "true" : undefined}
      aria-describedby={err ? `${id}-err` : hint ? `${id}-hint` : undefined}
    >
      <legend>{legend}</legend>
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {children}
      {err && (
        <small id={`${id}-err`} class="field-error" role="alert">
          {err}
        </small>
      )}
    </fieldset>
  );
}

export function FormError({ errors }: { errors: Errors }) {
  return errors._form ? (
    <p class="form-error" role="alert">
      {errors._form}
    </p>
  ) : null;
}

/// Keyset paging: the cursors of the pages up to the one shown (`[null]` on the first), and
/// the next page's cursor, when there is one.
export function Pager({
  cursors,
  next,
  onChange,
}: {
  cursors: (string | null)[];
  next: string | null | undefined;
  onChange: (cursors: (string | null)[]) => void;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => onChange(cursors.slice(0, -1))}>
        Previous page
      </button>
      <span>Page {cursors.length}</span>
      <button type="button" class="secondary" disabled={!next} onClick={() => next && onChange([...cursors, next])}>
        Next page
      </button>
    </nav>
  );
}

/// A link just deleted, which an Undo brings back (`POST /api/links/{slug}/restore` of the
/// version it had).
export interface Deleted {
  slug: string;
  version: number;
}

/// What a page says to the page it goes to (a delete on a link's page, shown by the list it
/// returns to): set before navigating, taken once by the next page.
let nextNotice: { text: string; deleted?: Deleted } | null = null;
export function noticeForNextPage(n: { text: string; deleted?: Deleted }) {
  nextNotice = n;
}
export function takeNotice(): { text: string; deleted?: Deleted } | null {
  const n = nextNotice;
  nextNotice = null;
  return n;
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/// A destructive action in two steps, both reachable by keyboard: the first press asks, the
/// second does it; the question takes the focus so a screen reader announces it.
/// `name`: the first button's accessible name where its label alone is ambiguous (one per row).
export function ConfirmButton({
  label,
  question,
  onConfirm,
  class: cls,
  name,
}: {
  label: string;
  question: string;
  onConfirm: () => Promise<void> | void;
  class?: string;
  name?: string;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class={cls ?? "secondary"} aria-label={name} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>{" "}
      <button type="button" class="danger" ref={yes} onClick={() => void onConfirm()}>
        Yes, {label.toLowerCase()}
      </button>{" "}
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/// Puts `text` on the clipboard, or says why it could not: `navigator.clipboard` exists only in
/// a secure context (https, or localhost), and the browser may refuse the permission.
export async function copyText(text: string): Promise<"copied" | "no_clipboard" | "refused"> {
  if (!navigator.clipboard?.writeText) return "no_clipboard";
  try {
    await navigator.clipboard.writeText(text);
    return "copied";
  } catch {
    return "refused";
  }
}

const COPY_SAID = {
  idle: "",
  copied: "Copied",
  no_clipboard: "This page cannot use the clipboard (it needs https): copy it from the field below.",
  refused: "The browser refused to copy: copy it from the field below.",
};

/// A "Copy" button for one value (a short link, a new key). "Copied" shows beside it in a live
/// region, so a screen reader says it too; where the clipboard cannot be used, the value appears
/// in a field, focused and selected, to be copied by hand.
export function CopyButton({ text, name }: { text: string; name: string }) {
  const [state, setState] = useState<keyof typeof COPY_SAID>("idle");
  const field = useRef<HTMLInputElement>(null);
  const failed = state === "no_clipboard" || state === "refused";
  useEffect(() => {
    if (failed) {
      field.current?.focus();
      field.current?.select();
    }
    if (state !== "copied") return;
    const t = setTimeout(() => setState("idle"), 4000);
    return () => clearTimeout(t);
  }, [state]);
  const copy = async () => {
    // Empty first, so a second copy is announced again.
    setState("idle");
    setState(await copyText(text));
  };
  return (
    <span class="copy">
      <button type="button" class="secondary outline" aria-label={`Copy ${name}`} onClick={copy}>
        Copy
      </button>
      <span role="status" class={failed ? "copy-status field-error" : "copy-status"}>
        {COPY_SAID[state]}
      </span>
      {failed && <input class="copy-by-hand" readOnly value={text} ref={field} aria-label={`${name}, to copy`} />}
    </span>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/// Loads `fn()` whenever `deps` change; a late answer for older deps is dropped.
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function LoadError({ error }: { error: unknown }) {
  return error ? (
    <p class="form-error" role="alert">
      {messageOf(error)}
    </p>
  ) : null;
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function navigate(hash: string) {
  location.hash = hash;
}
