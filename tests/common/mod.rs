//! End-to-end harness: one real `wrangler dev` (workerd, local KV and D1) per test binary.
//!
//! `app()` starts the server on first use and shares it, via a `OnceLock`, with every test in the
//! binary. Each binary gets a fresh `--persist-to` directory under `target/e2e/`, free ports, its
//! migrations applied and a random `ADMIN_TOKEN`. Statics never drop, so the server runs in its own
//! process group under a watchdog that kills the whole group once the test process is gone (also
//! after a panic). Tests make their own users and random slugs, so they can run in parallel.
//!
//! Helpers talk HTTP (redirects never followed, 4xx/5xx are ordinary responses), fire cron passes
//! through `/__scheduled`, and reach local D1 and KV through the `wrangler` CLI on the same
//! persist dir (to check the index or to simulate faults). Nothing here sleeps a fixed time to wait
//! for background work: `poll_until` polls a condition to a deadline.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock, RwLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// How long the first start may take (it can include `make -s build`).
const STARTUP_DEADLINE: Duration = Duration::from_secs(180);
/// How long one `wrangler` CLI command may take.
const CLI_DEADLINE: Duration = Duration::from_secs(120);
/// Default deadline for background work (D1 index writes) to show up.
pub const BACKGROUND_DEADLINE: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(100);
/// While a request of the test is in flight, `GET /healthz` (which reads no store) is sent this
/// often. Wrangler's dev proxy (wrangler 4.86, `ProxyWorker.processQueue`) forwards each request
/// over a kept-alive connection to the Worker's runtime; when the runtime resets that connection
/// as a request is written (seen after runs through hundreds of slug objects: ECONNRESET on the
/// proxy's socket, the request unread), the proxy takes it for a reload and parks a GET until the
/// next request arrives (a POST it answers 503 "Your worker restarted mid-request"). A test that
/// waits for its answer sends nothing more and would wait out its socket timeout; the nudge is
/// that next request, and the parked one is sent again on a fresh connection. Upstream:
/// cloudflare/workers-sdk#14641, fixed in the proxy by #15252 (a wrangler newer than ours).
const PROXY_NUDGE_EVERY: Duration = Duration::from_secs(3);
/// What the dev proxy answers a POST it could not deliver (see [`PROXY_NUDGE_EVERY`]).
const PROXY_RESTARTED: &str = "Your worker restarted mid-request";

/// Counts a request in flight for the proxy nudger while it lives.
struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

static APP: OnceLock<Result<TestApp, String>> = OnceLock::new();
/// Held for reading by every request, for writing by a test's direct write into the local
/// stores ([`TestApp::kv_put`], [`TestApp::d1_write`]). The runtime sets no busy timeout: a
/// KV put or D1 write of a request in flight that meets the test's write lock, or whose
/// transaction spans the test's commit, fails at once (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT) and
/// fails that request. Background D1 writes that outlive their response are not covered;
/// those end in a pending marker, as any failed index write does.
static STORE_WRITES: RwLock<()> = RwLock::new(());

/// The shared server with default vars.
pub fn app() -> &'static TestApp {
    app_with_vars(&[])
}

/// The shared server, started with extra `--var NAME:VALUE`s. The first call in a binary wins.
pub fn app_with_vars(vars: &[(&str, &str)]) -> &'static TestApp {
    match APP.get_or_init(|| TestApp::start(vars, "")) {
        Ok(app) => {
            app.keep_proxy_moving();
            app
        }
        Err(message) => panic!("the e2e server did not start: {message}"),
    }
}

static SECOND: OnceLock<Result<TestApp, String>> = OnceLock::new();

/// A second, separate deployment (its own server, stores and ports), for the tests that move
/// data from one deployment into an empty one.
pub fn second_app() -> &'static TestApp {
    match SECOND.get_or_init(|| TestApp::start(&[], "-second")) {
        Ok(app) => {
            app.keep_proxy_moving();
            app
        }
        Err(message) => panic!("the second e2e server did not start: {message}"),
    }
}

pub struct TestApp {
    pub base_url: String,
    pub port: u16,
    root: PathBuf,
    persist_dir: PathBuf,
    log_path: PathBuf,
    admin_token: String,
    agent: ureq::Agent,
    /// The watchdog shell (leader of the server's process group), once spawned.
    server: Mutex<Option<Child>>,
    /// The test's requests in flight, for the proxy nudger ([`PROXY_NUDGE_EVERY`]).
    in_flight: AtomicUsize,
    nudger: Once,
}

/// A user made through the admin API.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub api_key: String,
}

/// A plain HTTP response: 4xx/5xx included, body already read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The body as JSON; panics with the request and body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {} -> {}: body is not JSON ({e}): {:?}",
                self.method, self.path, self.status, self.body
            )
        })
    }

    /// `error.code` of a JSON error envelope, if the body is one.
    pub fn error_code(&self) -> Option<String> {
        let v: Value = serde_json::from_str(&self.body).ok()?;
        v["error"]["code"].as_str().map(str::to_owned)
    }

    /// Asserts the status, with the request and body in the message.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "{} {} -> expected {status}, got {}: {}",
            self.method, self.path, self.status, self.body
        );
        self
    }

    /// Asserts a JSON error envelope `{"error":{"code","message"}}` with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        let described = format!(
            "{} {} -> {}: {}",
            self.method, self.path, self.status, self.body
        );
        assert_eq!(
            (self.status, self.error_code().as_deref()),
            (status, Some(code)),
            "expected {status} {code}; got {described}"
        );
        let v = self.json();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error envelope needs a non-empty message: {described}"
        );
        self
    }
}

impl TestApp {
    fn start(vars: &[(&str, &str)], instance: &str) -> Result<TestApp, String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let wrangler = root.join("node_modules/.bin/wrangler");
        if !wrangler.exists() {
            return Err(format!("{} is missing: run `npm ci`", wrangler.display()));
        }
        let e2e_dir = root.join("target/e2e");
        let name = format!("{}{instance}", binary_name());
        remove_dead_runs(&e2e_dir, &name);
        let persist_dir = e2e_dir.join(format!("{name}-{}", std::process::id()));
        if persist_dir.exists() {
            fs::remove_dir_all(&persist_dir)
                .map_err(|e| format!("remove {}: {e}", persist_dir.display()))?;
        }
        fs::create_dir_all(&persist_dir)
            .map_err(|e| format!("create {}: {e}", persist_dir.display()))?;
        let log_path = persist_dir.join("wrangler.log");
        let admin_token = format!("e2e-admin-{}", random_alnum(32));
        let port = free_port()?;
        let inspector_port = free_port()?;
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build();

        let mut app = TestApp {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            root,
            persist_dir,
            log_path,
            admin_token,
            agent,
            server: Mutex::new(None),
            in_flight: AtomicUsize::new(0),
            nudger: Once::new(),
        };

        app.wrangler_cli(&["d1", "migrations", "apply", "DB", "--local"])
            .map_err(|e| format!("applying D1 migrations failed: {e}"))?;

        let mut dev_args: Vec<String> = [
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--inspector-port",
            &inspector_port.to_string(),
            "--persist-to",
            &app.persist_dir.to_string_lossy(),
            "--test-scheduled",
            "--show-interactive-dev-session=false",
            "--var",
            &format!("ADMIN_TOKEN:{}", app.admin_token),
            "--var",
            "ANALYTICS_SALT:e2e-salt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // The API's rate limit (600 a minute per key, wrangler.toml) is off unless a binary asks
        // for it: suites that make a thousand links with one key in seconds test other things.
        // tests/rate_limits.rs runs with the shipped limit.
        if !vars.iter().any(|(name, _)| *name == "API_RATE_LIMIT") {
            dev_args.push("--var".into());
            dev_args.push("API_RATE_LIMIT:off".into());
        }
        for (name, value) in vars {
            dev_args.push("--var".into());
            dev_args.push(format!("{name}:{value}"));
        }

        // The watchdog: start wrangler in the background, then wait until either the test
        // process or wrangler is gone, then kill the whole process group (wrangler, workerd and
        // their children). `$$` is the group leader because of `process_group(0)`. TERM is
        // ignored by the watchdog only after wrangler started, so wrangler does not inherit it.
        let script = r#"
            "$@" </dev/null >>"$EL_LOG" 2>&1 &
            child=$!
            trap '' TERM
            while kill -0 "$EL_TEST_PID" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
                sleep 0.5
            done
            kill -TERM -$$ 2>/dev/null
            sleep 3
            kill -KILL -$$ 2>/dev/null
        "#;
        let log = fs::File::create(&app.log_path).map_err(|e| format!("create log: {e}"))?;
        drop(log);
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("edgelink-e2e-watchdog")
            .arg(app.root.join("node_modules/.bin/wrangler"))
            .args(&dev_args)
            .current_dir(&app.root)
            .envs(wrangler_env())
            .env("EL_LOG", &app.log_path)
            .env("EL_TEST_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn wrangler dev: {e}"))?;
        *app.server.get_mut().unwrap() = Some(child);

        app.wait_ready()?;
        Ok(app)
    }

    fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(resp) = self.agent.get(&self.url("/healthz")).call() {
                if resp.status() == 200 {
                    eprintln!(
                        "e2e: wrangler dev ready on {} after {:.1}s (log: {})",
                        self.base_url,
                        started.elapsed().as_secs_f64(),
                        self.log_path.display()
                    );
                    return Ok(());
                }
            }
            let exited = self
                .server
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(format!(
                    "wrangler dev exited ({status}) before GET /healthz answered 200.\n\
                     log: {}\n--- log tail ---\n{}",
                    self.log_path.display(),
                    self.log_tail(60)
                ));
            }
            if started.elapsed() > STARTUP_DEADLINE {
                return Err(format!(
                    "GET /healthz did not answer 200 within {STARTUP_DEADLINE:?}.\n\
                     log: {}\n--- log tail ---\n{}",
                    self.log_path.display(),
                    self.log_tail(60)
                ));
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last `n` lines of the wrangler log.
    pub fn log_tail(&self, n: usize) -> String {
        let Ok(file) = fs::File::open(&self.log_path) else {
            return String::from("(no log)");
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn persist_dir(&self) -> &Path {
        &self.persist_dir
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Runs `call` (requests made with an agent of the test's own) as a request in flight, so
    /// the proxy nudger keeps the dev proxy moving while it waits (see [`PROXY_NUDGE_EVERY`]).
    pub fn nudged<T>(&self, call: impl FnOnce() -> T) -> T {
        let _busy = self.busy();
        call()
    }

    fn busy(&self) -> Busy<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(&self.in_flight)
    }

    /// Starts, once, the thread that sends `GET /healthz` every [`PROXY_NUDGE_EVERY`] while a
    /// request of the test is in flight.
    fn keep_proxy_moving(&'static self) {
        self.nudger.call_once(|| {
            thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                loop {
                    thread::sleep(PROXY_NUDGE_EVERY);
                    if self.in_flight.load(Ordering::SeqCst) > 0 {
                        // Its answer does not matter: only that the proxy sees a request.
                        let _ = agent.get(&self.url("/healthz")).call();
                    }
                }
            });
        });
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// `<scheme>://<host>/<slug>` as the Worker should build it for our requests.
    pub fn short_url(&self, slug: &str) -> String {
        format!("{}/{}", self.base_url, slug)
    }

    // ---- HTTP ------------------------------------------------------------------------------

    /// Any request; `body` is sent as `application/json` when given.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Resp {
        let _in_flight = STORE_WRITES.read().unwrap_or_else(|e| e.into_inner());
        let _busy = self.busy();
        let mut req = self.agent.request(method, &self.url(path));
        if let Some(token) = token {
            req = req.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(body) => req
                .set("Content-Type", "application/json")
                .send_string(body),
            None => req.call(),
        };
        self.to_resp(method, path, result)
    }

    /// A request with raw headers (for malformed `Authorization` and the like).
    pub fn request_with_headers(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let _in_flight = STORE_WRITES.read().unwrap_or_else(|e| e.into_inner());
        let _busy = self.busy();
        let mut req = self.agent.request(method, &self.url(path));
        for (name, value) in headers {
            req = req.set(name, value);
        }
        let result = match body {
            Some(body) => req.send_string(body),
            None => req.call(),
        };
        self.to_resp(method, path, result)
    }

    fn to_resp(
        &self,
        method: &str,
        path: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Resp {
        let resp = match result {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(e)) => panic!(
                "{method} {path}: transport error: {e}\n--- wrangler log tail ({}) ---\n{}",
                self.log_path.display(),
                self.log_tail(40)
            ),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                let value = resp.header(&name)?.to_owned();
                Some((name, value))
            })
            .collect();
        let body = resp
            .into_string()
            .unwrap_or_else(|e| panic!("{method} {path}: reading body: {e}"));
        Resp {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request("GET", path, token, None)
    }

    /// GET without credentials; redirects are never followed.
    pub fn get_no_redirect(&self, path: &str) -> Resp {
        self.request("GET", path, None, None)
    }

    pub fn head(&self, path: &str) -> Resp {
        self.request("HEAD", path, None, None)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        self.request("POST", path, token, Some(body))
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        self.request("PATCH", path, token, Some(body))
    }

    /// PATCHes a link as `user`, asserting 200; the updated link.
    #[track_caller]
    pub fn patch_link_ok(&self, user: &User, slug: &str, body: Value) -> Value {
        let resp = self.patch(
            &format!("/api/links/{slug}"),
            Some(&user.api_key),
            &body.to_string(),
        );
        resp.assert_status(200);
        resp.json()
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request("DELETE", path, token, None)
    }

    // ---- API helpers -----------------------------------------------------------------------

    /// A fresh user with a unique random email, made by the admin.
    #[track_caller]
    pub fn new_user(&self) -> User {
        let email = random_email();
        let resp = self.post(
            "/api/admin/users",
            Some(&self.admin_token),
            &json!({ "email": email }).to_string(),
        );
        resp.assert_status(201);
        let v = resp.json();
        let field = |name: &str| {
            v[name]
                .as_str()
                .unwrap_or_else(|| panic!("new user: `{name}` missing in {v}"))
                .to_owned()
        };
        User {
            id: field("id"),
            email: field("email"),
            api_key: field("api_key"),
        }
    }

    /// `POST /api/links` as `user`.
    pub fn create_link(&self, user: &User, body: &Value) -> Resp {
        self.post("/api/links", Some(&user.api_key), &body.to_string())
    }

    /// Creates a link and returns its JSON, asserting 201.
    ///
    /// Wrangler's dev proxy (see [`PROXY_NUDGE_EVERY`]) can answer a POST itself, 503 "Your
    /// worker restarted mid-request", when the runtime reset its connection: the Worker's answer,
    /// if it gave one, is lost. The create is sent again, as the proxy asks; when the first one
    /// had landed, the slug is then this user's link, which is read back.
    #[track_caller]
    pub fn create_link_ok(&self, user: &User, body: &Value) -> Value {
        let mut resp = self.create_link(user, body);
        if resp.status == 503 && resp.body.contains(PROXY_RESTARTED) {
            eprintln!(
                "e2e: the dev proxy dropped a create ({}); sending it again",
                resp.body
            );
            resp = self.create_link(user, body);
            if let (409, Some(slug)) = (resp.status, body["slug"].as_str()) {
                let mine = self.get(&format!("/api/links/{slug}"), Some(&user.api_key));
                if mine.status == 200 {
                    return mine.json();
                }
            }
        }
        resp.assert_status(201);
        resp.json()
    }

    /// Creates a link at a random slug, to `https://example.com/<slug>`; its slug.
    #[track_caller]
    pub fn new_link(&self, user: &User) -> String {
        let slug = random_slug();
        self.create_link_ok(
            user,
            &json!({ "url": format!("https://example.com/{slug}"), "slug": slug }),
        );
        slug
    }

    /// Asserts that `slug` holds no link: 404 to `user`'s API and to visitors.
    #[track_caller]
    pub fn assert_no_link(&self, user: &User, slug: &str) {
        self.get(&format!("/api/links/{slug}"), Some(&user.api_key))
            .assert_error(404, "not_found");
        self.get_no_redirect(&format!("/{slug}")).assert_status(404);
    }

    /// `GET /api/links?…` as `token`; the page's JSON, asserting 200.
    #[track_caller]
    pub fn list_links(&self, token: &str, query: &str) -> Value {
        let path = if query.is_empty() {
            "/api/links".to_owned()
        } else {
            format!("/api/links?{query}")
        };
        let resp = self.get(&path, Some(token));
        resp.assert_status(200);
        resp.json()
    }

    /// Every slug of the caller's list, paging with `next_cursor`.
    #[track_caller]
    pub fn list_all_slugs(&self, token: &str) -> Vec<String> {
        let mut slugs = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let query = match &cursor {
                Some(c) => format!("limit=100&cursor={}", url_encode(c)),
                None => "limit=100".to_owned(),
            };
            let page = self.list_links(token, &query);
            for link in page["links"].as_array().expect("links array") {
                slugs.push(link["slug"].as_str().expect("slug").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return slugs,
            }
        }
        panic!("list did not end after 1000 pages");
    }

    /// Fires the cron handler as `wrangler dev --test-scheduled` does; asserts 200.
    #[track_caller]
    pub fn run_cron(&self, expr: &str) {
        let path = format!("/__scheduled?cron={}", expr.replace(' ', "+"));
        let resp = self.get(&path, None);
        assert_eq!(
            resp.status,
            200,
            "GET {path} -> {}: {}\n--- wrangler log tail ---\n{}",
            resp.status,
            resp.body,
            self.log_tail(30)
        );
    }

    /// `POST /api/admin/reconcile` as the admin: one bounded reconcile pass; its summary JSON.
    #[track_caller]
    pub fn admin_reconcile(&self) -> Value {
        let resp = self.request(
            "POST",
            "/api/admin/reconcile",
            Some(&self.admin_token),
            None,
        );
        resp.assert_status(200);
        resp.json()
    }

    /// `GET /api/admin/consistency` as the admin; its JSON.
    #[track_caller]
    pub fn consistency(&self) -> Value {
        let resp = self.get("/api/admin/consistency", Some(&self.admin_token));
        resp.assert_status(200);
        resp.json()
    }

    // ---- local D1 and KV through the wrangler CLI ------------------------------------------

    /// Rows of one read-only SQL statement against local D1, as JSON objects keyed by column.
    ///
    /// Read straight from the SQLite file the running Worker's D1 uses (opened read-only, WAL
    /// mode, so it never blocks the Worker). `wrangler d1 execute --local` would start a second
    /// workerd on the same file: seconds per call, and the Worker's own queries meet SQLITE_BUSY
    /// while it opens it (measured: 2 failed API reads in 3 CLI calls, 0 in 165 direct reads).
    #[track_caller]
    pub fn d1_query(&self, sql: &str) -> Vec<Value> {
        let conn = open_sqlite(&self.d1_file());
        let mut stmt = conn
            .prepare(sql)
            .unwrap_or_else(|e| panic!("d1 query failed: {sql}\n{e}"));
        let names: Vec<String> = stmt.column_names().map(|n| n.to_string()).collect();
        let rows = stmt
            .query_map([], |row| {
                let mut obj = serde_json::Map::new();
                for (i, name) in names.iter().enumerate() {
                    use rusqlite::types::ValueRef;
                    let v = match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => json!(n),
                        ValueRef::Real(f) => json!(f),
                        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        ValueRef::Blob(b) => json!(b),
                    };
                    obj.insert(name.clone(), v);
                }
                Ok(Value::Object(obj))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .unwrap_or_else(|e| panic!("d1 query failed: {sql}\n{e}"));
        rows
    }

    /// The SQLite file behind local D1.
    fn d1_file(&self) -> PathBuf {
        durable_object_database(&self.persist_dir.join("v3/d1/miniflare-D1DatabaseObject"))
    }

    /// Writes test data straight into the SQLite file of local D1, in one transaction: rows the
    /// API cannot make (old history, a roll-up of past days, a D1 row ahead of KV). For binaries
    /// whose other tests run meanwhile: [`Self::d1_exec`] starts a second workerd on the same
    /// file, and while it opens it the running Worker's own queries meet SQLITE_BUSY (a CI run
    /// failed so). A direct write holds the file's write lock for these statements alone, and
    /// the Worker's reads never wait on it (WAL); see [`write_alone`].
    #[track_caller]
    pub fn d1_write(&self, sql: &str) {
        write_alone(&self.d1_file(), |conn| conn.execute_batch(sql))
            .unwrap_or_else(|e| panic!("d1 write failed: {sql}\n{e}"));
    }

    /// Makes `slug`'s link `days` old, as KV (the truth, which reads and the stats go by) and D1
    /// would hold a link created then: the only way a test gets a link with a past, short of
    /// waiting.
    #[track_caller]
    pub fn backdate_link(&self, slug: &str, days: u64) {
        let key = format!("link:{slug}");
        let raw = self.kv_get(&key).expect("the link's KV value");
        let mut link: Value = serde_json::from_str(&raw).expect("a JSON link");
        let created = rfc3339_ms(now_ms() - days * 86_400_000);
        link["created_at"] = json!(created);
        self.kv_put(&key, &link.to_string());
        self.d1_write(&format!(
            "UPDATE links SET created_at = {} WHERE slug = {}",
            sql_str(&created),
            sql_str(slug)
        ));
    }

    /// Runs a statement against local D1 through `wrangler d1 execute --local`, as a user
    /// would (the outage tests rename tables this way). Retried while the database is locked:
    /// the running Worker holds the same file, and a command that meets SQLITE_BUSY has not run.
    #[track_caller]
    pub fn d1_exec(&self, sql: &str) {
        let args = ["d1", "execute", "DB", "--local", "--json", "--command", sql];
        let mut last = String::new();
        for attempt in 0..20 {
            if attempt > 0 {
                thread::sleep(Duration::from_millis(250));
            }
            match self.wrangler_cli(&args) {
                Ok(out) => {
                    assert!(
                        !out.contains("\"success\": false"),
                        "d1 statement failed: {sql}: {out}"
                    );
                    return;
                }
                Err(e) if e.contains("SQLITE_BUSY") || e.contains("database is locked") => last = e,
                Err(e) => panic!("d1 statement failed: {sql}\n{e}"),
            }
        }
        panic!("d1 stayed locked for 20 attempts: {sql}\n{last}");
    }

    /// Writes a raw KV value under the `LINKS` binding, without expiration or metadata (to
    /// simulate states the API cannot set). Written into the local KV simulator's store the
    /// way it writes one (a new blob file, then its index row in one transaction) and not
    /// through `wrangler kv key put --local`, for the SQLITE_BUSY of [`Self::kv_get`].
    #[track_caller]
    pub fn kv_put(&self, key: &str, value: &str) {
        let blob_id = format!("{}{:016x}", random_from(b"0123456789abcdef", 64), now_ms());
        let blob = self.kv_blob_dir().join(&blob_id);
        fs::write(&blob, value).unwrap_or_else(|e| panic!("write {}: {e}", blob.display()));
        let db = self.kv_file();
        write_alone(&db, |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO _mf_entries (key, blob_id, expiration, metadata) \
                 VALUES (?1, ?2, NULL, NULL)",
                rusqlite::params![key, blob_id],
            )
            .map(drop)
        })
        .unwrap_or_else(|e| panic!("kv put {key} into {}: {e}", db.display()));
    }

    /// [`Self::kv_put`] of many entries in one transaction (thousands a second): each
    /// `{"key","value"}` with optional `"metadata"` (any JSON) and `"expiration"` (Unix
    /// seconds), as `wrangler kv bulk put` reads them, for fixtures too large for the CLI.
    /// Like [`Self::kv_put`], after the Worker's first KV write (which creates the store).
    #[track_caller]
    pub fn kv_put_many(&self, entries: &[Value]) {
        let dir = self.kv_blob_dir();
        let rows: Vec<(String, String, Option<i64>, Option<String>)> = entries
            .iter()
            .map(|e| {
                let key = e["key"].as_str().expect("entry key").to_owned();
                let value = e["value"].as_str().expect("entry value");
                let blob_id = format!("{}{:016x}", random_from(b"0123456789abcdef", 64), now_ms());
                let blob = dir.join(&blob_id);
                fs::write(&blob, value).unwrap_or_else(|e| panic!("write {}: {e}", blob.display()));
                // The simulator keeps expirations in milliseconds.
                let expiration = e["expiration"].as_i64().map(|s| s * 1000);
                let metadata = e
                    .get("metadata")
                    .filter(|m| !m.is_null())
                    .map(Value::to_string);
                (key, blob_id, expiration, metadata)
            })
            .collect();
        let db = self.kv_file();
        write_alone(&db, |conn| {
            let mut put = conn.prepare(
                "INSERT OR REPLACE INTO _mf_entries (key, blob_id, expiration, metadata) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (key, blob_id, expiration, metadata) in &rows {
                put.execute(rusqlite::params![key, blob_id, expiration, metadata])?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| {
            panic!(
                "kv put of {} entries into {}: {e}",
                rows.len(),
                db.display()
            )
        });
    }

    /// Deletes a raw KV key under the `LINKS` binding (its index row; the blob stays behind,
    /// as after the simulator's own deletes), e.g. to disarm a test fault.
    #[track_caller]
    pub fn kv_delete(&self, key: &str) {
        let db = self.kv_file();
        write_alone(&db, |conn| {
            conn.execute(
                "DELETE FROM _mf_entries WHERE key = ?1",
                rusqlite::params![key],
            )
            .map(drop)
        })
        .unwrap_or_else(|e| panic!("kv delete {key} from {}: {e}", db.display()));
    }

    /// Reads a raw KV value under the `LINKS` binding; `None` when the key is absent or expired.
    ///
    /// Read straight from the local KV simulator's store (its SQLite index, opened read-only,
    /// and the value's blob file), as [`Self::d1_query`] reads D1: `wrangler kv key get
    /// --local` starts a second workerd whose start-up creates the store's tables if missing,
    /// and that write lock made a running Worker's KV put fail with SQLITE_BUSY (a 500 in a
    /// `make test` run).
    #[track_caller]
    pub fn kv_get(&self, key: &str) -> Option<String> {
        // A delete removes the entry before its blob: an entry whose blob is gone was deleted
        // between the two reads, and the next lookup says so.
        for _ in 0..5 {
            let blob_id = self.kv_index(|conn, now| {
                conn.query_row(
                    "SELECT blob_id FROM _mf_entries \
                     WHERE key = ?1 AND (expiration IS NULL OR expiration > ?2)",
                    rusqlite::params![key, now],
                    |row| row.get::<_, String>(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })
            })?;
            let blob = self.kv_blob_dir().join(&blob_id);
            match fs::read(&blob) {
                Ok(bytes) => return Some(String::from_utf8_lossy(&bytes).into_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("read {}: {e}", blob.display()),
            }
        }
        panic!("kv get {key}: its blob kept disappearing")
    }

    /// Writes many raw entries under the `LINKS` binding with one `wrangler kv bulk put`; each
    /// entry is `{"key","value"}` plus an optional `"metadata"` object, as the CLI reads them.
    /// Local bulk put writes one key at a time (about 100 keys a second here), so the deadline
    /// grows with the number of entries.
    #[track_caller]
    pub fn kv_bulk_put(&self, entries: &[Value]) {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = self.persist_dir.join(format!("kv-bulk-{n}.json"));
        fs::write(&path, Value::from(entries.to_vec()).to_string())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        let path_arg = path.to_string_lossy().into_owned();
        let deadline = CLI_DEADLINE + Duration::from_millis(30 * entries.len() as u64);
        self.wrangler_cli_with_deadline(
            &[
                "kv",
                "bulk",
                "put",
                "--binding",
                "LINKS",
                "--preview",
                "false",
                "--local",
                &path_arg,
            ],
            deadline,
        )
        .unwrap_or_else(|e| panic!("kv bulk put of {} entries failed: {e}", entries.len()));
        let _ = fs::remove_file(&path);
    }

    /// What `wrangler kv key list --prefix` shows: the first (at most 1000) live keys under
    /// `prefix` in key order, each `{"name"[,"expiration"][,"metadata"]}` (expiration in
    /// seconds); unlike `kv_get`, this shows key metadata. Read directly, as [`Self::kv_get`].
    #[track_caller]
    pub fn kv_list(&self, prefix: &str) -> Vec<Value> {
        self.kv_index(|conn, now| {
            let mut stmt = conn.prepare(
                "SELECT key, expiration, metadata FROM _mf_entries \
                 WHERE substr(key, 1, length(?1)) = ?1 \
                   AND (expiration IS NULL OR expiration >= ?2) \
                 ORDER BY key LIMIT 1000",
            )?;
            let rows = stmt.query_map(rusqlite::params![prefix, now], |row| {
                let mut key = json!({ "name": row.get::<_, String>(0)? });
                if let Some(ms) = row.get::<_, Option<i64>>(1)? {
                    key["expiration"] = json!(ms.div_euclid(1000));
                }
                if let Some(text) = row.get::<_, Option<String>>(2)? {
                    key["metadata"] = serde_json::from_str(&text).unwrap_or(Value::String(text));
                }
                Ok(key)
            })?;
            rows.collect()
        })
    }

    /// Runs `read` on a read-only connection to the local KV simulator's index of `LINKS`,
    /// with the current time in milliseconds (the simulator's unit for expirations).
    #[track_caller]
    fn kv_index<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection, i64) -> rusqlite::Result<T>,
    ) -> T {
        let db = self.kv_file();
        let conn = open_sqlite(&db);
        read(&conn, now_ms() as i64)
            .unwrap_or_else(|e| panic!("read KV store {}: {e}", db.display()))
    }

    /// The SQLite index of the local KV simulator's `LINKS` namespace.
    fn kv_file(&self) -> PathBuf {
        durable_object_database(&self.persist_dir.join("v3/kv/miniflare-KVNamespaceObject"))
    }

    /// Where the local KV simulator keeps the values of `LINKS` (one file per blob id): the
    /// directory named after the namespace id, the only one beside the simulator's own.
    fn kv_blob_dir(&self) -> PathBuf {
        let dir = self.persist_dir.join("v3/kv");
        fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n != "miniflare-KVNamespaceObject")
            })
            .map(|namespace| namespace.join("blobs"))
            .unwrap_or_else(|| panic!("no KV namespace in {}", dir.display()))
    }

    /// Names of the pending markers (failed index writes) of the link `slug`.
    #[track_caller]
    pub fn pending_markers_of(&self, slug: &str) -> Vec<String> {
        self.kv_list_names(PENDING_PREFIX)
            .into_iter()
            .filter(|name| is_pending_marker_of(name, slug))
            .collect()
    }

    /// Names of the KV keys under `prefix` (the first 1000).
    #[track_caller]
    pub fn kv_list_names(&self, prefix: &str) -> Vec<String> {
        self.kv_list(prefix)
            .iter()
            .filter_map(|k| k["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// `(present, expiration)` of the KV key `name` as `wrangler kv key list` shows it:
    /// `None` when the key is not listed, `Some(None)` when it has no `expiration`.
    #[track_caller]
    pub fn kv_expiration(&self, name: &str) -> Option<Option<u64>> {
        self.kv_list(name)
            .into_iter()
            .find(|k| k["name"].as_str() == Some(name))
            .map(|k| match &k["expiration"] {
                Value::Null => None,
                e => Some(
                    e.as_u64()
                        .or_else(|| e.as_f64().map(|f| f as u64))
                        .unwrap_or_else(|| panic!("expiration of {name} is not a number: {k}")),
                ),
            })
    }

    /// `GET /api/links/{slug}/history?…` as `token` (no assertion).
    pub fn history(&self, token: &str, slug: &str, query: &str) -> Resp {
        let path = if query.is_empty() {
            format!("/api/links/{slug}/history")
        } else {
            format!("/api/links/{slug}/history?{query}")
        };
        self.get(&path, Some(token))
    }

    /// Every history row of `slug` visible to `token`, newest first, following `next_cursor`
    /// with pages of `limit`; also the size of each page. Asserts 200 and the envelope's shape.
    #[track_caller]
    pub fn history_all(&self, token: &str, slug: &str, limit: usize) -> (Vec<Value>, Vec<usize>) {
        let mut rows = Vec::new();
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let query = match &cursor {
                Some(c) => format!("limit={limit}&cursor={}", url_encode(c)),
                None => format!("limit={limit}"),
            };
            let resp = self.history(token, slug, &query);
            resp.assert_status(200);
            let page = resp.json();
            let items = page["history"]
                .as_array()
                .unwrap_or_else(|| panic!("`history` is not an array: {page}"));
            assert!(
                items.len() <= limit,
                "page larger than limit {limit}: {page}"
            );
            pages.push(items.len());
            rows.extend(items.iter().cloned());
            match &page["next_cursor"] {
                Value::Null => return (rows, pages),
                Value::String(c) => cursor = Some(c.clone()),
                other => panic!("next_cursor must be a string or null, got {other}: {page}"),
            }
        }
        panic!("history of {slug} did not end after 100 pages");
    }

    /// Runs `wrangler <args> --persist-to <dir>` in the repo root; stdout on success.
    pub fn wrangler_cli(&self, args: &[&str]) -> Result<String, String> {
        self.wrangler_cli_with_deadline(args, CLI_DEADLINE)
    }

    /// [`TestApp::wrangler_cli`] for a command that may take up to `deadline`.
    pub fn wrangler_cli_with_deadline(
        &self,
        args: &[&str],
        deadline: Duration,
    ) -> Result<String, String> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let out_path = self.persist_dir.join(format!("cli-{n}.out"));
        let err_path = self.persist_dir.join(format!("cli-{n}.err"));
        let stdout = fs::File::create(&out_path).map_err(|e| e.to_string())?;
        let stderr = fs::File::create(&err_path).map_err(|e| e.to_string())?;
        let mut child = Command::new(self.root.join("node_modules/.bin/wrangler"))
            .args(args)
            .arg("--persist-to")
            .arg(&self.persist_dir)
            .current_dir(&self.root)
            .envs(wrangler_env())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn wrangler {args:?}: {e}"))?;
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("wrangler {args:?} took longer than {deadline:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let out = fs::read_to_string(&out_path).unwrap_or_default();
        let err = fs::read_to_string(&err_path).unwrap_or_default();
        let _ = fs::remove_file(&out_path);
        let _ = fs::remove_file(&err_path);
        if status.success() {
            Ok(out)
        } else {
            Err(format!(
                "wrangler {args:?} exited with {status}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
            ))
        }
    }
}

fn wrangler_env() -> [(&'static str, &'static str); 3] {
    [
        ("CI", "true"),
        ("WRANGLER_SEND_METRICS", "false"),
        ("NO_COLOR", "1"),
    ]
}

/// The test binary's name without cargo's `-<hash>` suffix.
fn binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "e2e".to_owned());
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}

/// Removes `<dir>/<name>-<pid>` persist dirs of earlier runs whose process is gone.
fn remove_dead_runs(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|pid| !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind port 0: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    drop(listener);
    Ok(port)
}

// ---- randomness, polling, small utilities --------------------------------------------------

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A fresh 64-bit seed from the clock, the pid and a counter.
fn next_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    splitmix64(nanos ^ (u64::from(std::process::id()) << 40) ^ splitmix64(n))
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut state = next_seed();
    (0..len)
        .map(|_| {
            state = splitmix64(state);
            alphabet[(state % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// `len` random ASCII letters and digits.
pub fn random_alnum(len: usize) -> String {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        len,
    )
}

/// A random valid slug: "t" + 10 alphanumerics.
pub fn random_slug() -> String {
    format!("t{}", random_alnum(10))
}

/// A unique email address.
pub fn random_email() -> String {
    format!(
        "e2e-{}@example.com",
        random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
    )
}

/// Calls `f` every 100 ms until it returns `Some`, or panics after `deadline` naming `what`.
#[track_caller]
pub fn poll_until<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        if started.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for: {what}");
        }
        thread::sleep(POLL_EVERY);
    }
}

/// Like `poll_until`, but gives up with `None` after `deadline` so the caller can show a diff.
pub fn poll_for<T>(deadline: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if started.elapsed() > deadline {
            return None;
        }
        thread::sleep(POLL_EVERY);
    }
}

/// A SQL string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Percent-encodes everything but unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// True for RFC 3339 UTC with milliseconds and `Z`, e.g. `2026-11-25T12:34:56.789Z`.
pub fn is_rfc3339_ms_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Asserts the public "Link unavailable" page: 410, HTML, no `Location`, the reason word in it.
#[track_caller]
pub fn assert_link_unavailable(resp: &Resp, reason: &str) {
    let described = format!(
        "{} {} -> {} {:?}: {}",
        resp.method, resp.path, resp.status, resp.headers, resp.body
    );
    assert_eq!(resp.status, 410, "expected 410: {described}");
    assert_eq!(resp.location(), None, "no redirect: {described}");
    assert!(
        resp.content_type()
            .is_some_and(|ct| ct.starts_with("text/html")),
        "HTML page: {described}"
    );
    if resp.method != "HEAD" {
        assert!(
            resp.body.contains("<title>Link unavailable</title>"),
            "titled \"Link unavailable\": {described}"
        );
        assert!(
            resp.body.to_lowercase().contains(reason),
            "the page names the reason {reason:?}: {described}"
        );
    }
}

/// The columns of a D1 `links` row that must mirror a link, in `expected_d1_row`'s shape.
pub const D1_LINK_COLUMNS: &str = "slug, url, user_id, title, state, flag_reason, created_at, \
     updated_at, version, expires_at, archived, redirect_type, forward_query";

/// A link's state as D1 indexes it: the API's derived `state` when the link carries it, else
/// derived as the Worker does (`is_active`, then `flag_reason`).
pub fn link_state(link: &Value) -> &'static str {
    match link["state"].as_str() {
        Some("active") => "active",
        Some("disabled") => "disabled",
        Some("flagged") => "flagged",
        _ => match (link["is_active"].as_bool(), link["flag_reason"].is_null()) {
            (Some(false), false) => "flagged",
            (Some(false), true) => "disabled",
            _ => "active",
        },
    }
}

/// What the D1 row (columns [`D1_LINK_COLUMNS`]) of `link` (a link JSON from the API or KV)
/// must hold. Fields an older KV value lacks take the column defaults.
pub fn expected_d1_row(link: &Value) -> Value {
    json!({
        "slug": link["slug"],
        "url": link["url"],
        "user_id": link["owner"],
        "title": link["title"],
        "state": link_state(link),
        "flag_reason": link["flag_reason"],
        "created_at": link["created_at"],
        "updated_at": link["updated_at"],
        "version": link["version"],
        "expires_at": link["expires_at"],
        "archived": i64::from(link["archived"] == json!(true)),
        "redirect_type": link["redirect_type"].as_u64().unwrap_or(302),
        "forward_query": i64::from(link["forward_query"] != json!(false)),
    })
}

/// A short description of how `actual` differs from `want` (first few slugs of each kind).
pub fn describe_diff(
    want: &std::collections::BTreeMap<String, Value>,
    actual: &std::collections::BTreeMap<String, Value>,
) -> String {
    let missing: Vec<&String> = want.keys().filter(|k| !actual.contains_key(*k)).collect();
    let extra: Vec<&String> = actual.keys().filter(|k| !want.contains_key(*k)).collect();
    let differing: Vec<String> = want
        .iter()
        .filter_map(|(k, w)| {
            let a = actual.get(k)?;
            (a != w).then(|| format!("{k}: want {w}, got {a}"))
        })
        .collect();
    format!(
        "{} missing {:?}; {} extra {:?}; {} differing {:?}",
        missing.len(),
        &missing[..missing.len().min(10)],
        extra.len(),
        &extra[..extra.len().min(10)],
        differing.len(),
        &differing[..differing.len().min(5)]
    )
}

/// The `slug` of a link JSON.
pub fn slug_of(link: &Value) -> String {
    link["slug"].as_str().expect("slug").to_owned()
}

/// Opens, read-only, a SQLite file the running Worker's runtime has open too. Both sides use
/// WAL, so a reader never blocks the runtime.
#[track_caller]
fn open_sqlite(db: &Path) -> rusqlite::Connection {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    conn.busy_timeout(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("busy_timeout: {e}"));
    conn
}

/// Runs `write` on `db` in one immediate transaction while none of the binary's requests is in
/// flight ([`STORE_WRITES`]). The connection skips the checkpoint on close, which would take
/// the whole file from the runtime.
fn write_alone(
    db: &Path,
    write: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    use rusqlite::OpenFlags;
    let _alone = STORE_WRITES.write().unwrap_or_else(|e| e.into_inner());
    let conn = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    write(&conn)?;
    conn.execute_batch("COMMIT")
}

/// The database of the one object in a miniflare Durable Object directory (D1 and KV are
/// objects there): the `.sqlite` file that is not miniflare's `metadata.sqlite`.
#[track_caller]
fn durable_object_database(dir: &Path) -> PathBuf {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_name().is_some_and(|n| n != "metadata.sqlite")
        })
        .unwrap_or_else(|| panic!("no database in {}", dir.display()))
}

/// Where failed index writes leave their markers in KV.
pub const PENDING_PREFIX: &str = "sync:pending:";

/// Whether the KV key `name` is a pending marker of the link `slug`:
/// `sync:pending:<ms>:link:<slug>` or `sync:pending:<ms>:link:<slug>:<version>`.
pub fn is_pending_marker_of(name: &str, slug: &str) -> bool {
    let Some((_at, target)) = name
        .strip_prefix(PENDING_PREFIX)
        .and_then(|rest| rest.split_once(':'))
    else {
        return false;
    };
    match target
        .strip_prefix("link:")
        .and_then(|id| id.strip_prefix(slug))
    {
        Some(rest) => rest.is_empty() || rest.starts_with(':'),
        None => false,
    }
}

/// The `version` of a link JSON.
#[track_caller]
pub fn version_of(link: &Value) -> u64 {
    link["version"]
        .as_u64()
        .unwrap_or_else(|| panic!("version is not an integer: {link}"))
}

/// `expires_at` of a link JSON in Unix ms (panics when null).
#[track_caller]
pub fn expires_ms(link: &Value) -> u64 {
    parse_rfc3339_ms(
        link["expires_at"]
            .as_str()
            .unwrap_or_else(|| panic!("expires_at should be set: {link}")),
    )
}

/// A stats answer's `groups` in order, as (key, clicks).
pub fn group_list(stats: &Value) -> Vec<(String, u64)> {
    stats["groups"]
        .as_array()
        .expect("groups array")
        .iter()
        .map(|g| {
            (
                g["key"].as_str().expect("key").to_owned(),
                g["clicks"].as_u64().expect("clicks"),
            )
        })
        .collect()
}

/// A link's stored fields: without the derived `short_url`, `state`, `expired`, `has_password`
/// (KV keeps the hash, never shown) and `clicks` (reads add the roll-up's count), and without
/// null fields (older KV values leave out absent
/// optional fields; the API shows them as null).
pub fn stored_form(link: &Value) -> Value {
    let mut stored = link.clone();
    let fields = stored.as_object_mut().expect("link is an object");
    for derived in ["short_url", "state", "expired", "has_password", "clicks"] {
        fields.remove(derived);
    }
    fields.retain(|_, v| !v.is_null());
    stored
}

// ---- time ----------------------------------------------------------------------------------

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix milliseconds as the Worker writes timestamps: `2026-11-25T12:34:56.789Z`.
pub fn rfc3339_ms(ms: u64) -> String {
    let ms = ms as i64;
    let (days, rest) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// Unix milliseconds of a timestamp in the Worker's one format; panics on anything else.
#[track_caller]
pub fn parse_rfc3339_ms(s: &str) -> u64 {
    assert!(is_rfc3339_ms_utc(s), "not RFC 3339 UTC with ms: {s:?}");
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().expect("digits");
    let days = days_from_civil(n(0, 4), n(5, 7), n(8, 10));
    let ms = days * 86_400_000
        + n(11, 13) * 3_600_000
        + n(14, 16) * 60_000
        + n(17, 19) * 1000
        + n(20, 23);
    u64::try_from(ms).expect("after 1970")
}

/// A day count since 1970-01-01 as `YYYY-MM-DD`.
fn date_of_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's UTC date shifted by `days` (negative: the past), as `YYYY-MM-DD`.
pub fn utc_date(days: i64) -> String {
    date_of_days((now_ms() / 86_400_000) as i64 + days)
}

/// A `YYYY-MM-DD` date shifted by `days`.
pub fn shift_date(date: &str, days: i64) -> String {
    let part = |r: std::ops::Range<usize>| -> i64 {
        date.get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a YYYY-MM-DD date: {date}"))
    };
    date_of_days(days_from_civil(part(0..4), part(5..7), part(8..10)) + days)
}

/// Waits, if need be, until the wall-clock minute (the windows the local rate limiting binding
/// counts in) has at least `left` seconds to run, so that a test's requests all fall into one
/// window. At most one wait of under a minute.
pub fn early_in_a_rate_window(left: u64) {
    let deadline = Instant::now() + Duration::from_secs(62);
    loop {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() % 60);
        if secs + left <= 60 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the clock did not reach a new minute"
        );
        thread::sleep(Duration::from_millis(250));
    }
}
