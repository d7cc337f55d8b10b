// The dashboard: one page, hash-routed (`/dashboard/#/links/abc`) so the Worker needs no
// single-page fallback and every other path stays a short link.
import "@picocss/pico/css/pico.min.css";
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Session, setSignedOutHandler } from "./api";
import { SignIn } from "./pages/signin";
import { LinkList } from "./pages/links";
import { LinkForm } from "./pages/link_form";
import { LinkPage } from "./pages/link";
import { ImportExport } from "./pages/imports";
import { Keys, UserKeys } from "./pages/keys";
import { AdminUsers, AdminLinks, Blocklist, Consistency } from "./pages/admin";
import { TagsPage } from "./pages/tags";
import { Overview } from "./pages/overview";
import { DeletedLinks } from "./pages/deleted";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function route(hash: string, session: Session) {
  const [path, query] = (hash.replace(/^#/, "") || "/links").split("?");
  const params = new URLSearchParams(query ?? "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const admin = session.role === "admin";
  switch (parts[0]) {
    case "links":
      if (parts.length === 1) return <LinkList key={`list-${params.get("tag") ?? ""}`} tag={params.get("tag") ?? ""} />;
      if (parts[1] === "new" && parts.length === 2) return <LinkForm key="new" />;
      if (parts.length === 2) return <LinkPage key={parts[1]} slug={parts[1]} admin={admin} created={params.has("created")} params={params} />;
      if (parts[2] === "edit") return <LinkForm key={`edit-${parts[1]}`} slug={parts[1]} />;
      break;
    case "overview":
      if (parts.length === 1) return <Overview params={params} admin={admin} />;
      break;
    case "tags":
      if (parts.length === 1 && session.user) return <TagsPage />;
      break;
    case "deleted":
      if (parts.length === 1) return <DeletedLinks />;
      break;
    case "import":
      return <ImportExport admin={admin} />;
    case "keys":
      return <Keys session={session} />;
    case "admin":
      if (!admin) break;
      if (parts[1] === "users" && parts.length === 2) return <AdminUsers />;
      if (parts[1] === "users" && parts[3] === "keys" && parts.length === 4) {
        return <UserKeys key={parts[2]} id={parts[2]} email={params.get("email") ?? ""} />;
      }
      if (parts[1] === "links") return <AdminLinks key={params.get("owner") ?? ""} owner={params.get("owner") ?? ""} />;
      if (parts[1] === "blocklist") return <Blocklist />;
      if (parts[1] === "consistency") return <Consistency />;
      break;
  }
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{hash}</code>. <a href="#/links">Back to the links</a>.
      </p>
    </section>
  );
}

function Nav({ session, hash, onSignOut }: { session: Session; hash: string; onSignOut: () => void }) {
  const here = (h: string) => (hash.startsWith(h) ? "page" : undefined);
  return (
    <nav class="top">
      <ul>
        <li>
          <strong>edgelink</strong>
        </li>
      </ul>
      <ul class="menu">
        <li>
          <a href="#/links" aria-current={here("#/links")}>Links</a>
        </li>
        <li>
          <a href="#/overview" aria-current={here("#/overview")}>Overview</a>
        </li>
        {session.user && (
          <li>
            <a href="#/tags" aria-current={here("#/tags")}>Tags</a>
          </li>
        )}
        <li>
          <a href="#/import" aria-current={here("#/import")}>Import/export</a>
        </li>
        {session.user && (
          <li>
            <a href="#/keys" aria-current={here("#/keys")}>Keys</a>
          </li>
        )}
        {session.role === "admin" && (
          <>
            <li>
              <a href="#/admin/users" aria-current={here("#/admin/users")}>Users</a>
            </li>
            <li>
              <a href="#/admin/links" aria-current={here("#/admin/links")}>All links</a>
            </li>
            <li>
              <a href="#/admin/blocklist" aria-current={here("#/admin/blocklist")}>Blocklist</a>
            </li>
            <li>
              <a href="#/admin/consistency" aria-current={here("#/admin/consistency")}>Consistency</a>
            </li>
          </>
        )}
        <li>
          <a href="openapi">API</a>
        </li>
        <li>
          <button type="button" class="secondary outline" onClick={onSignOut}>
            Sign out {session.user ? `(${session.user.email})` : "(admin)"}
          </button>
        </li>
      </ul>
    </nav>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string>("");
  const hash = useHash();
  useEffect(() => {
    setSignedOutHandler(() => setSession(null));
    api<Session>("GET", "/api/session").then(setSession, (e) => {
      if (e instanceof ApiError && e.status === 401) setSession(null);
      else setLoadError(String(e.message ?? e));
    });
  }, []);
  // Move the focus to the new page's heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [hash, session]);

  if (loadError)
    return (
      <main class="container">
        <p class="form-error" role="alert">
          {loadError}
        </p>
      </main>
    );
  if (session === undefined) return <main class="container" aria-busy="true" />;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    try {
      await api("DELETE", "/api/session");
    } finally {
      setSession(null);
      location.hash = "";
    }
  };
  return (
    <>
      <header class="container">
        <Nav session={session} hash={hash || "#/links"} onSignOut={signOut} />
      </header>
      <main class="container">{route(hash, session)}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
