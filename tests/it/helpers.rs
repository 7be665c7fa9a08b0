//! Test harness: fresh databases and the whole app on port 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::config::get_configuration;
use tsudoi::server::config::Config;
use tsudoi::server::state::AppState;
use tsudoi::server::store::DynStore;
use tsudoi::server::store::sqlite::SqliteStore;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database file that is removed (with its WAL files) when dropped.
pub struct TempDb {
    pub path: PathBuf,
}

impl TempDb {
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("tsudoi-test-{}-{n}.db", std::process::id()));
        let db = TempDb { path };
        db.cleanup();
        db
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn cleanup(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A fresh, migrated, empty SQLite store.
pub async fn fresh_sqlite() -> (Arc<SqliteStore>, TempDb) {
    let db = TempDb::new();
    let store = SqliteStore::connect(&db.url()).await.expect("fresh sqlite store");
    (Arc::new(store), db)
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
