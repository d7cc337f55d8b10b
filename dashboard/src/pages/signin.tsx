import { useState } from "preact/hooks";
import { api, type Session } from "../api";
import { errorsFrom, type Errors, Field, FormError } from "../ui";

/// The key or admin token is sent once and exchanged for an HttpOnly session cookie; it is never
/// stored by the page (the field is cleared at once).
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const s = await api<Session>("POST", "/api/session", { key });
      setKey("");
      onSignedIn(s);
    } catch (err) {
      const e = errorsFrom(err);
      setErrors({ key: e._form ?? Object.values(e)[0] });
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="container narrow">
      <article>
        <h1 tabIndex={-1}>Sign in to edgelink</h1>
        <form onSubmit={submit}>
          <Field
            label="API key or admin token"
            name="key"
            type="password"
            autocomplete="off"
            required
            value={key}
            onInput={setKey}
            errors={errors}
            hint="Paste it once: the server gives this browser a session instead, and the page never keeps the key."
          />
          <FormError errors={errors} />
          <button type="submit" aria-busy={busy} disabled={busy}>
            Sign in
          </button>
        </form>
      </article>
    </main>
  );
}
