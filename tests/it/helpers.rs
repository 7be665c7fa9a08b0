//! Test harness: fresh databases and the whole app on port 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::config::get_configuration;
use sqlx::{Connection, PgConnection};
use tsudoi::server::config::Config;
use tsudoi::server::state::AppState;
use tsudoi::server::store::DynStore;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The server the PostgreSQL tests create their databases on (a database to connect to
/// for `CREATE DATABASE`); `TSUDOI_TEST_PG_URL` overrides it.
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Test databases are named `tsudoi_t_<pid>_<n>`: the pid tells leftovers of finished
/// runs (dropped at the first use in a process) from databases of running tests.
const PG_PREFIX: &str = "tsudoi_t_";

/// A throw-away database: a SQLite file (removed with its WAL files) or a PostgreSQL
/// database (dropped), when dropped.
pub struct TempDb {
    kind: Kind,
}

enum Kind {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TempDb {
    /// A fresh SQLite file name (the file is created on connect).
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("tsudoi-test-{}-{n}.db", std::process::id()));
        let db = TempDb { kind: Kind::Sqlite(path) };
        db.cleanup();
        db
    }

    /// A fresh, empty PostgreSQL database. PostgreSQL is a required component on the
    /// machines these tests run on: when it cannot be reached this panics with the reason,
    /// it never skips.
    pub async fn postgres() -> Self {
        let admin_url = std::env::var("TSUDOI_TEST_PG_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PG_URL.to_string());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required by the store tests but {admin_url} cannot be reached ({e}). \
                 Start PostgreSQL (trust auth for postgres@127.0.0.1) or point TSUDOI_TEST_PG_URL at a server \
                 where this user may create databases."
            )
        });
        drop_leftovers(&mut admin).await;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{PG_PREFIX}{}_{n}", std::process::id());
        sqlx::query(drop_database(&name))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("dropping a stale {name}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin_url}: {e}"));
        let _ = admin.close().await;
        TempDb { kind: Kind::Postgres { admin_url, name } }
    }

    pub fn url(&self) -> String {
        match &self.kind {
            Kind::Sqlite(path) => format!("sqlite://{}", path.display()),
            Kind::Postgres { admin_url, name } => with_database(admin_url, name),
        }
    }

    fn cleanup(&self) {
        match &self.kind {
            Kind::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Kind::Postgres { admin_url, name } => {
                // Drop is synchronous and may run inside a runtime: the DROP runs on its own
                // thread with its own runtime, and we wait for it so no database outlives
                // the test. WITH (FORCE) closes the store's pooled connections.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let done = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        let mut admin = PgConnection::connect(&admin_url).await?;
                        sqlx::query(drop_database(&name)).execute(&mut admin).await?;
                        admin.close().await?;
                        Ok::<_, anyhow::Error>(())
                    })?;
                    Ok::<_, anyhow::Error>(())
                })
                .join();
                match done {
                    Ok(Ok(())) => {}
                    // The next run drops it as a leftover.
                    Ok(Err(e)) => eprintln!("could not drop a test database: {e}"),
                    Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
                }
            }
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// `DROP DATABASE` of a test database. Names are ours (`tsudoi_t_<pid>_<n>`) or leftovers
/// of that shape; anything else is refused rather than quoted.
fn drop_database(name: &str) -> sqlx::AssertSqlSafe<String> {
    assert!(
        name.starts_with(PG_PREFIX) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "not a test database name: {name:?}"
    );
    sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
}

/// `url` (of any database on the server) with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Drops test databases of processes that are gone (crashed or killed runs), once per
/// process. Databases of running test processes (other nextest processes) are left alone.
async fn drop_leftovers(admin: &mut PgConnection) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'tsudoi\\_t\\_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    for (name,) in names {
        let pid =
            name.strip_prefix(PG_PREFIX).and_then(|rest| rest.split('_').next()).and_then(|p| p.parse::<u32>().ok());
        let alive =
            pid.is_some_and(|p| p == std::process::id() || std::path::Path::new(&format!("/proc/{p}")).exists());
        let ours = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ours && !alive {
            let _ = sqlx::query(drop_database(&name)).execute(&mut *admin).await;
        }
    }
}

/// A fresh, migrated, empty SQLite store.
pub async fn fresh_sqlite() -> (DynStore, TempDb) {
    let db = TempDb::new();
    let store = tsudoi::server::store::sqlite::connect(&db.url()).await.expect("fresh sqlite store");
    (Arc::new(store), db)
}

/// A fresh, migrated, empty PostgreSQL store on its own database (see [`TempDb::postgres`]).
pub async fn fresh_pg() -> (DynStore, TempDb) {
    let db = TempDb::postgres().await;
    let store = tsudoi::server::store::pg::connect(&db.url()).await.expect("fresh postgres store (migrations)");
    (Arc::new(store), db)
}

/// Every backend under test, each on a fresh database: the store, registration and search
/// suites run the same cases against each.
pub async fn backends() -> Vec<(&'static str, DynStore, TempDb)> {
    let (sqlite, sqlite_db) = fresh_sqlite().await;
    let (pg, pg_db) = fresh_pg().await;
    vec![("sqlite", sqlite, sqlite_db), ("postgres", pg, pg_db)]
}

/// The whole application on 127.0.0.1:0 with a fresh database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    _db: TempDb,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn store(&self) -> &DynStore {
        &self.state.store
    }

    /// GET a page, returning status and body. Leptos' hydration markers between adjacent
    /// text nodes (`<!>`) are removed so assertions read like the rendered text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self.client.get(self.url(path)).send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body").replace("<!>", ""))
    }
}

/// Accounts that can sign in with `password` (e-mail `{nick}@example.com`); their ids in order.
pub async fn users_with_password(app: &TestApp, nicks: &[&str], password: &str) -> Vec<i64> {
    let hash = tsudoi::server::password::hash(password.into()).await.unwrap();
    let users: Vec<tsudoi::server::store::NewUser> = nicks
        .iter()
        .map(|nick| tsudoi::server::store::NewUser {
            email: Some(format!("{nick}@example.com")),
            password_hash: Some(hash.clone()),
            ..tsudoi::server::store::NewUser::attendee(nick)
        })
        .collect();
    app.store().insert_users(&users).await.unwrap()
}

/// A client signed in as `nick` (it keeps the session cookie); asserts the login worked.
pub async fn signed_in(app: &TestApp, nick: &str, password: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = c
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("login", nick), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{nick} logs in");
    c
}

/// Starts Tsudoi on port 0 with a fresh database, with or without demo data.
pub async fn spawn_app(demo: bool) -> TestApp {
    let db = TempDb::new();
    let mut config = Config::for_tests(db.url());
    config.demo = demo;
    spawn_with(config, db).await
}

/// Starts Tsudoi with a given configuration on a given database.
pub async fn spawn_with(config: Config, db: TempDb) -> TestApp {
    let mut options = get_configuration(None).expect("leptos configuration").leptos_options;
    options.site_root = "target/site".into();
    let (router, state) = tsudoi::server::startup::build(config, options).await.expect("app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
    });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { addr, client, state, _db: db }
}

/// The whole application on a fresh PostgreSQL database (see [`TempDb::postgres`]).
pub async fn spawn_pg_app() -> TestApp {
    let db = TempDb::postgres().await;
    spawn_with(Config::for_tests(db.url()), db).await
}

/// Runs each named scenario (`async fn name(app: TestApp)`) on both backends, as
/// `<module>::sqlite::name` on a fresh SQLite file and `<module>::postgres::name` on a fresh
/// PostgreSQL database (dropped afterwards).
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::helpers::spawn_app(false).await).await
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::helpers::spawn_pg_app().await).await
                }
            )*
        }
    };
}

/// A fresh ticket for the sign-up form (`GET /api/auth/form-ticket`): what the form carries
/// as `form_ticket`. Test apps accept it at once (`form_min_fill_secs` is 0 in tests).
pub async fn form_ticket(app: &TestApp, c: &reqwest::Client) -> String {
    let res = c.get(app.url("/api/auth/form-ticket")).header("accept", "application/json").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    serde_json::from_str(&res.text().await.unwrap()).expect("a ticket")
}

/// `form` as sign-up sends it: with a ticket when the path is the sign-up's.
pub async fn as_sent<'a>(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&'a str, &'a str)],
) -> Vec<(&'a str, String)> {
    let mut sent: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.to_string())).collect();
    if path == "/api/auth/signup" {
        sent.push(("form_ticket", form_ticket(app, c).await));
    }
    sent
}
