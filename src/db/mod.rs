//! Storage: one connection type over SQLite and PostgreSQL, the pool, and the embedded
//! migrations. Everything backend-specific lives in this module.

pub mod bulk;
pub mod history;
pub mod incidents;
pub mod keys;
pub mod regions;
pub mod releases;
pub mod replicas;
pub mod schema;
pub mod sql;
pub mod time;

use std::time::Duration;

use anyhow::Context;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::{Connection, PgConnection, QueryResult, QueryableByName, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
pub use replicas::Replicas;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;

/// A connection taken from a `DbPool`, given back when dropped.
pub type PooledConnection = diesel::r2d2::PooledConnection<ConnectionManager<DbConnection>>;

/// Runs `$body` with `$c` bound to the concrete connection, for the few statements the
/// multi-backend connection cannot express (multi-row `INSERT … RETURNING`). The body is
/// written once and compiled for each backend.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// The diesel backend of `DbConnection`: queries written against it run on either database.
pub type Db = <DbConnection as Connection>::Backend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database a URL names: `postgres://` / `postgresql://`, else a SQLite file
/// (`sqlite://PATH` or a bare path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The URL as the driver wants it: diesel's SQLite driver takes a plain path.
fn driver_url(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Per-connection settings. SQLite: WAL so readers never wait for the writer, a busy timeout
/// so concurrent writers queue instead of failing with "database is locked", foreign keys on,
/// and reads through an 8 MiB page cache per connection rather than a memory map: the map
/// made the kernel map in the neighbours of every page read, so the server's resident memory
/// grew with the file (126 MB at 1M incidents, against 53 MB with the cache, for 0–10% of the
/// list throughput; the operating system's file cache still holds the rest).
///
/// A replica's connections are read-only besides: a standby refuses writes anyway, and a
/// writable database named in `DATABASE_READ_URL` (the primary itself, a copy of a SQLite
/// file) then refuses them too, so a read that writes by mistake fails alike everywhere.
#[derive(Debug)]
struct ConnectionSettings {
    read_only: bool,
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        match conn {
            // Stats turn dates into text; ISO makes that `YYYY-MM-DD` as on SQLite.
            DbConnection::Postgres(pg) => pg.batch_execute("SET DateStyle = ISO"),
            // Temporary b-trees (a stats grouping over every incident) in files, which the
            // page cache bounds: in memory they grew with the database.
            DbConnection::Sqlite(sqlite) => sqlite.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -8192; PRAGMA mmap_size = 0; \
                 PRAGMA temp_store = FILE;",
            ),
        }
        .and_then(|()| match conn {
            _ if !self.read_only => Ok(()),
            DbConnection::Postgres(pg) => {
                pg.batch_execute("SET default_transaction_read_only = on")
            }
            DbConnection::Sqlite(sqlite) => sqlite.batch_execute("PRAGMA query_only = ON"),
        })
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens a single connection (CLI commands, migrations).
pub fn connect(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    // By the URL's backend: the multi-backend `establish` tries each in turn and reports only
    // the last one's error ("invalid connection url"), whatever failed on the first.
    let mut conn = match Backend::of(url) {
        Backend::Postgres => DbConnection::Postgres(PgConnection::establish(url)?),
        Backend::Sqlite => DbConnection::Sqlite(SqliteConnection::establish(driver_url(url))?),
    };
    ConnectionSettings { read_only: false }
        .on_acquire(&mut conn)
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// Settings for a connection that only bulk-loads (the CLI import). SQLite: a page cache big
/// enough to keep the indexes being filled in memory (256 MiB), no per-row foreign-key lookups
/// (the importer writes parents before children in one transaction), and index builds that
/// sort through temporary files, so memory stays flat however large the file.
///
/// And into an empty SQLite database that no other connection has open, a rollback journal
/// instead of the WAL until `end_bulk_load`: the import is one transaction, and the WAL would
/// hold every page of the new database until its commit, then copy each into the file (twice
/// the writes, and the database's size again on disk: 10M rows outgrew 49 GB free), where the
/// rollback journal of an empty database holds next to nothing. Another connection opening
/// the file meanwhile waits for the import, as for any writer holding its lock.
///
/// PostgreSQL: see `mark_alone_on_an_empty_database`.
pub fn tune_for_bulk_load(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => tune_sqlite_for_bulk_load(sqlite),
        DbConnection::Postgres(pg) => mark_alone_on_an_empty_database(pg),
    }
}

/// SQLite's page cache during a bulk load, in KiB.
const BULK_LOAD_CACHE_KIB: u32 = 262_144;
/// The page cache while the full-text index's rows are sorted, in KiB.
const SORT_CACHE_KIB: u32 = 65_536;

fn tune_sqlite_for_bulk_load(sqlite: &mut SqliteConnection) -> QueryResult<()> {
    sqlite.batch_execute(&format!(
        "PRAGMA cache_size = -{BULK_LOAD_CACHE_KIB}; PRAGMA foreign_keys = OFF; \
         PRAGMA temp_store = FILE;"
    ))?;
    if holds_no_incident(sqlite)? {
        // Leaving the WAL needs the file to itself: with other connections open it stays.
        // FULL: with a rollback journal, NORMAL could lose the commit to a power cut.
        sqlite.batch_execute("PRAGMA busy_timeout = 0")?;
        let _ = sqlite.batch_execute("PRAGMA journal_mode = DELETE");
        sqlite.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL")?;
    }
    Ok(())
}

/// The PostgreSQL session setting by which `defer_indexes` knows its import is alone.
const BULK_LOAD_ALONE: &str = "incidentdb.bulk_load_alone";

/// PostgreSQL: when the database holds no incident and no other client is connected to it,
/// marks this session so that `defer_indexes` drops the secondary indexes inside the import's
/// transaction. Dropping an index locks its table against readers until the commit: where no
/// one is connected, no one waits (a server started meanwhile waits for the commit). Sessions
/// whose type this role may not see count as clients.
fn mark_alone_on_an_empty_database(pg: &mut PgConnection) -> QueryResult<()> {
    use diesel::{dsl::sql, sql_types::Bool, RunQueryDsl};
    let alone: bool = diesel::select(sql::<Bool>(
        "NOT EXISTS (SELECT 1 FROM incidents) AND NOT EXISTS (SELECT 1 FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND coalesce(backend_type, 'client backend') = 'client backend')",
    ))
    .get_result(pg)?;
    if alone {
        pg.batch_execute(&format!("SET {BULK_LOAD_ALONE} = on"))?;
    }
    Ok(())
}

fn holds_no_incident(sqlite: &mut SqliteConnection) -> QueryResult<bool> {
    use diesel::{OptionalExtension, QueryDsl, RunQueryDsl};
    let stored: Option<i64> = schema::incidents::table
        .select(schema::incidents::id)
        .first(sqlite)
        .optional()?;
    Ok(stored.is_none())
}

/// Puts back what `tune_for_bulk_load` changed for other connections: SQLite's WAL.
pub fn end_bulk_load(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            sqlite.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        }
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// Runs `work` in a transaction that takes the write lock at its start. On SQLite that is
/// `BEGIN IMMEDIATE`: a transaction that reads before it writes (every upsert does) then waits
/// its turn under the busy timeout, instead of failing at once when another writer commits
/// between its read and its write. PostgreSQL's row locks need nothing special.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Postgres(_) => conn.transaction(work),
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match work(conn) {
                Ok(value) => {
                    Manager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(error) => {
                    // The error that ended the work is the one to report.
                    let _ = Manager::rollback_transaction(conn);
                    Err(error)
                }
            }
        }
    }
}

/// An index as its table's catalog defines it.
#[derive(QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

/// Inside an all-or-nothing import into an empty database: drops the secondary (non-unique)
/// indexes of the incident tables and returns the statements that build them again, so the
/// rows go in without a million random index inserts and `restore_indexes` builds each index
/// once from sorted data before the commit. SQLite: whenever the database is empty (readers
/// read the last commit meanwhile), and the full-text index is deferred too. PostgreSQL: only
/// for a command-line import alone on an empty database (`tune_for_bulk_load`), as its
/// readers would wait; the full-text GIN index is among the secondary ones, and the
/// perpetrators' index by incident stays (a key repeated in the file updates its incident,
/// whose history trigger and perpetrator replacement look the incident's rows up by it).
/// Anywhere else: nothing to do.
pub fn defer_indexes(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    match conn {
        DbConnection::Sqlite(sqlite) => defer_sqlite_indexes(sqlite),
        DbConnection::Postgres(pg) => defer_postgres_indexes(pg),
    }
}

fn defer_sqlite_indexes(sqlite: &mut SqliteConnection) -> QueryResult<Vec<String>> {
    use diesel::RunQueryDsl;
    if !holds_no_incident(sqlite)? {
        return Ok(Vec::new());
    }
    let definitions: Vec<IndexDefinition> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN ('incidents', 'incident_perpetrators') \
         AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'",
    )
    .load(sqlite)?;
    for definition in &definitions {
        sqlite.batch_execute(&format!("DROP INDEX \"{}\"", definition.name))?;
    }
    // The full-text index too: filled once, in key order (FTS5 starts a segment at every key
    // lower than the last). Sorted from one pass over the table, not read in date order
    // through the date index: that fetches the rows in random order, from disk once the
    // table outgrows the page cache.
    sqlite.batch_execute(&format!(
        "CREATE TEMP TABLE {SEARCH_DEFERRED} (unused INTEGER)"
    ))?;
    let mut statements: Vec<String> = definitions.into_iter().map(|d| d.sql).collect();
    // FTS5 writes a segment each time its pending terms pass `hashsize` (1 MiB by default):
    // 64 MiB while it takes every incident at once makes fewer segments to merge. The sort
    // holds as much as the page cache in memory before it spills to files: a smaller cache
    // meanwhile keeps the import's memory where it was.
    statements.push(format!(
        "DROP TABLE temp.{SEARCH_DEFERRED}; \
         INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', 67108864); \
         PRAGMA cache_size = -{SORT_CACHE_KIB}; \
         INSERT INTO incident_search (rowid, search_text) \
         SELECT {SEARCH_KEY}, search_text FROM incidents ORDER BY 1; \
         PRAGMA cache_size = -{BULK_LOAD_CACHE_KIB}; \
         INSERT INTO incident_search (incident_search, rank) VALUES ('hashsize', 1048576)"
    ));
    Ok(statements)
}

fn defer_postgres_indexes(pg: &mut PgConnection) -> QueryResult<Vec<String>> {
    use diesel::{dsl::sql, sql_types::Bool, RunQueryDsl};
    let alone: bool = diesel::select(sql::<Bool>(&format!(
        "coalesce(current_setting('{BULK_LOAD_ALONE}', true), '') = 'on' \
         AND NOT EXISTS (SELECT 1 FROM incidents)"
    )))
    .get_result(pg)?;
    if !alone {
        return Ok(Vec::new());
    }
    let definitions: Vec<IndexDefinition> = diesel::sql_query(
        "SELECT indexname AS name, indexdef AS sql FROM pg_indexes \
         WHERE schemaname = current_schema() \
         AND tablename IN ('incidents', 'incident_perpetrators') \
         AND indexdef NOT LIKE 'CREATE UNIQUE%' \
         AND indexname <> 'incident_perpetrators_incident'",
    )
    .load(pg)?;
    if definitions.is_empty() {
        return Ok(Vec::new());
    }
    for definition in &definitions {
        pg.batch_execute(&format!("DROP INDEX \"{}\"", definition.name))?;
    }
    // Memory for the builds (the GIN index's above all), for this transaction only.
    let memory = "SET LOCAL maintenance_work_mem = '256MB'".to_string();
    Ok(std::iter::once(memory)
        .chain(definitions.into_iter().map(|d| d.sql))
        .collect())
}

/// While this temporary table exists (inside a deferred import, whose rollback drops it),
/// new incidents are not added to the full-text index one batch at a time (see
/// `incidents::index_search`).
pub const SEARCH_DEFERRED: &str = "search_deferred";

/// The full-text index's key of a row, `query::search::search_key` in SQL.
pub const SEARCH_KEY: &str = "(CAST(julianday(occurred_on) + 0.5 AS INTEGER) << 40) + id";

/// Builds the indexes `defer_indexes` dropped, logging each: on a large import the rows are
/// all in when its progress bar ends, and the builds still take a while.
pub fn restore_indexes(conn: &mut DbConnection, definitions: &[String]) -> QueryResult<()> {
    for definition in definitions {
        let started = std::time::Instant::now();
        conn.batch_execute(definition)?;
        tracing::info!(elapsed = ?started.elapsed(), "after the rows: {definition}");
    }
    Ok(())
}

/// Tidies up after a bulk load: on PostgreSQL, `VACUUM (ANALYZE)` gives the planner its
/// statistics (it chooses between the date and country indexes from them) and clears the dead
/// row versions that the per-month sums leave behind (every incident written updates one),
/// which autovacuum would only get to later, or never where it is off. SQLite needs neither.
pub fn refresh_statistics(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgres(pg) => {
            pg.batch_execute("VACUUM (ANALYZE) incidents, incident_perpetrators, incident_months")
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Runs the pending migrations of the connection's backend. After any ran, PostgreSQL's
/// statistics are refreshed and dead rows cleared: a migration that rewrites every incident
/// (as adding `search_vector` did) leaves as many dead rows as live ones, and index-only
/// scans read the table again until a vacuum.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let migrations = match conn {
        DbConnection::Postgres(_) => POSTGRES_MIGRATIONS,
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    };
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| anyhow::anyhow!(e))
        .context("running the migrations")?;
    if !applied.is_empty() {
        refresh_statistics(conn).context("refreshing statistics after the migrations")?;
    }
    Ok(())
}

/// Migrates the database, then opens a pool of `size` connections.
pub fn open_pool(url: &str, size: u32) -> anyhow::Result<DbPool> {
    let mut conn = connect(url).with_context(|| format!("cannot open {}", redact(url)))?;
    run_migrations(&mut conn)?;
    pool_builder(url, size, ConnectionSettings { read_only: false })
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::new(driver_url(url)))
        .with_context(|| format!("cannot open a pool on {}", redact(url)))
}

/// What the primary's and the replicas' pools have in common.
fn pool_builder(
    url: &str,
    size: u32,
    settings: ConnectionSettings,
) -> diesel::r2d2::Builder<ConnectionManager<DbConnection>> {
    Pool::builder()
        .max_size(size)
        // A checkout test runs a statement before every request's work: PostgreSQL needs it,
        // since its connections go stale when the server restarts; a SQLite file cannot.
        .test_on_check_out(Backend::of(url) == Backend::Postgres)
        .connection_customizer(Box::new(settings))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
