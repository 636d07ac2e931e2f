//! Faults: an import killed with SIGKILL half-way leaves no half-written incident, and
//! re-running it ends with exactly the file's incidents; writers during an import wait their
//! turn instead of failing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bare_database, generated_ndjson, incident, ndjson_import, TestApp};
use diesel::prelude::*;
use incidentdb::db::bulk::stages_imports;
use incidentdb::db::schema::{incident_perpetrators, incident_versions, incidents};
use incidentdb::import::writer::{search_vectors, Vectorize};
use serde_json::Value;

/// Incidents in the file: enough that the import is still running when it is killed.
const ROWS: usize = 40_000;

struct ImportFile(PathBuf);

impl ImportFile {
    fn new() -> ImportFile {
        ImportFile::with(generated_ndjson(ROWS), "new")
    }

    /// The same incidents, the second group's denial now an attribution: every row an update.
    fn changed() -> ImportFile {
        let text = String::from_utf8(generated_ndjson(ROWS)).unwrap();
        let changed = text.replace(r#""claim":"denied""#, r#""claim":"attributed""#);
        ImportFile::with(changed.into_bytes(), "changed")
    }

    fn with(content: Vec<u8>, kind: &str) -> ImportFile {
        let path = std::env::temp_dir().join(format!(
            "idb_fault_{}_{kind}_{}.ndjson",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        std::fs::write(&path, content).unwrap();
        ImportFile(path)
    }
}

impl Drop for ImportFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn start_import(app: &TestApp, file: &ImportFile, on_error: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_incidentdb"))
        .args(["import", "--format", "ndjson", "--on-error", on_error])
        .arg(&file.0)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the CLI starts")
}

/// (incidents, perpetrator rows) as stored.
fn stored(app: &TestApp) -> (i64, i64) {
    let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
    let incidents: i64 = incidents::table.count().get_result(&mut conn).unwrap();
    let perpetrators: i64 = incident_perpetrators::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    (incidents, perpetrators)
}

/// Waits until `ready` holds, then kills the import with SIGKILL; false if it had finished.
fn kill_when(import: &mut Child, ready: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() && Instant::now() < deadline {
        if import.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = import.try_wait().unwrap().is_none();
    import.kill().unwrap();
    import.wait().unwrap();
    killed
}

fn finish(import: Child) -> Value {
    let output = import.wait_with_output().unwrap();
    assert!(output.status.success(), "the import succeeds");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every incident is whole: `imported` of them with their two perpetrators each, plus
/// `posted` without any; all of them served.
fn assert_whole(app: &TestApp, imported: i64, posted: i64) {
    let expected = imported + posted;
    let (incidents, perpetrators) = stored(app);
    assert_eq!(incidents, expected);
    assert_eq!(
        perpetrators,
        2 * imported,
        "no incident without its perpetrators"
    );
    let total = app.get_json("/v1/incidents?count=true&limit=1")["total"].clone();
    assert_eq!(total, expected);
}

#[test]
fn a_killed_all_or_nothing_import_leaves_nothing_and_reruns_exactly() {
    let app = TestApp::start();
    let file = ImportFile::new();
    let mut import = start_import(&app, &file, "abort");
    let started = Instant::now();
    let killed = kill_when(&mut import, || {
        started.elapsed() > Duration::from_millis(1500)
    });
    assert!(killed, "the import was still running when killed");
    eprintln!(
        "abort import killed after {:?}: stored {:?}",
        started.elapsed(),
        stored(&app)
    );
    assert_whole(&app, 0, 0);
    let report = finish(start_import(&app, &file, "abort"));
    eprintln!("re-run: {report}; stored {:?}", stored(&app));
    assert_eq!(report["inserted"], ROWS);
    assert_whole(&app, ROWS as i64, 0);
}

/// A first import into a SQLite file no server has open runs with a rollback journal (see
/// `db::tune_for_bulk_load`): killed half-way, the file holds nothing and opens again; the
/// re-run writes every row and leaves the file in WAL mode, where the server's readers need it.
#[test]
fn a_killed_first_import_into_a_file_of_its_own_leaves_it_empty_and_reruns_in_wal() {
    let dir = std::env::temp_dir().join(format!("idb_journal_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("first.db").display());
    let file = ImportFile::new();
    let run = |url: &str| {
        Command::new(env!("CARGO_BIN_EXE_incidentdb"))
            .args(["import", "--format", "ndjson"])
            .arg(&file.0)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the CLI starts")
    };
    let count = |url: &str| -> i64 {
        let mut conn = incidentdb::db::connect(url).unwrap();
        incidents::table.count().get_result(&mut conn).unwrap()
    };
    let mut import = run(&url);
    let started = Instant::now();
    let killed = kill_when(&mut import, || {
        started.elapsed() > Duration::from_millis(1500)
    });
    assert!(killed, "the import was still running when killed");
    assert_eq!(count(&url), 0);
    assert_eq!(finish(run(&url))["inserted"], ROWS);
    // Read by a bare connection first: the server's own connections ask for the WAL.
    let raw = diesel::SqliteConnection::establish(url.trim_start_matches("sqlite://"));
    let mode: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "(SELECT journal_mode FROM pragma_journal_mode)",
    ))
    .get_result(&mut raw.unwrap())
    .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(count(&url), ROWS as i64);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A command-line import into an empty database builds its secondary indexes once, after the
/// rows (`db::defer_indexes`), and leaves the indexes the migrations made. On PostgreSQL only
/// when no other client is connected: dropping an index would make its readers wait.
#[test]
fn a_first_command_line_import_builds_the_indexes_after_the_rows_where_no_reader_waits() {
    let file = ImportFile::new();
    let import = |url: &str| -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_incidentdb"))
            .args(["import", "--format", "ndjson"])
            .arg(&file.0)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "incidentdb=info")
            .output()
            .expect("the CLI runs");
        assert!(output.status.success(), "the import succeeds");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let deferred = |log: &str| log.contains("indexes built after the rows");
    let (_alone_database, alone) = bare_database();
    assert!(deferred(&import(&alone)), "alone on an empty database");

    let (_watched_database, watched) = bare_database();
    let mut reader = incidentdb::db::connect(&watched).unwrap();
    incidentdb::db::run_migrations(&mut reader).unwrap();
    let migrated = index_names(&mut reader);
    let on_postgres = matches!(reader, incidentdb::db::DbConnection::Postgres(_));
    assert_eq!(
        deferred(&import(&watched)),
        !on_postgres,
        "with a reader connected"
    );

    let mut imported = incidentdb::db::connect(&alone).unwrap();
    assert_eq!(index_names(&mut imported), migrated);
    for conn in [&mut imported, &mut reader] {
        let count: i64 = incidents::table.count().get_result(conn).unwrap();
        assert_eq!(count, ROWS as i64);
    }
}

/// The names of the incident tables' indexes, as the backend's catalog lists them.
fn index_names(conn: &mut incidentdb::db::DbConnection) -> Vec<String> {
    let catalog = match conn {
        incidentdb::db::DbConnection::Postgres(_) => {
            "SELECT indexname AS name FROM pg_indexes \
             WHERE tablename IN ('incidents', 'incident_perpetrators') ORDER BY 1"
        }
        incidentdb::db::DbConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('incidents', 'incident_perpetrators') ORDER BY 1"
        }
    };
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let indexes: Vec<Index> = diesel::sql_query(catalog).load(conn).unwrap();
    indexes.into_iter().map(|index| index.name).collect()
}

#[test]
fn a_killed_batched_import_keeps_whole_batches_and_reruns_exactly() {
    let app = TestApp::start();
    let file = ImportFile::new();
    let mut import = start_import(&app, &file, "skip");
    let killed = kill_when(&mut import, || stored(&app).0 >= 2_000);
    assert!(killed, "the import was still running when killed");
    let (before, perpetrators) = stored(&app);
    eprintln!("batched import killed: stored {before} incidents, {perpetrators} perpetrators");
    assert!(before > 0 && before < ROWS as i64, "{before}");
    assert_eq!(perpetrators, 2 * before, "batches are whole");
    let rerun = start_import(&app, &file, "skip");
    let during: Vec<u16> = (0..10)
        .map(|n| {
            let date = format!("2021-01-{:02}", n + 1);
            app.post("/v1/incidents", &incident("AF", &date))
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(during, [201; 10], "writers wait for the import's batches");
    let report = finish(rerun);
    eprintln!("re-run: {report}; stored {:?}", stored(&app));
    assert_eq!(
        report["inserted"].as_i64().unwrap() + report["unchanged"].as_i64().unwrap(),
        ROWS as i64
    );
    assert_eq!(
        report["unchanged"], before,
        "what was written is found, not duplicated"
    );
    assert_whole(&app, ROWS as i64, 10);
}

/// Archived versions, and incidents past their first version.
fn history(app: &TestApp) -> (i64, i64) {
    let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
    let archived: i64 = incident_versions::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let changed: i64 = incidents::table
        .filter(incidents::version.gt(1))
        .count()
        .get_result(&mut conn)
        .unwrap();
    (archived, changed)
}

#[test]
fn a_killed_re_import_leaves_no_version_without_its_history() {
    let app = TestApp::start();
    let report = finish(start_import(&app, &ImportFile::new(), "abort"));
    assert_eq!(report["inserted"], ROWS);
    let changed = ImportFile::changed();
    let mut import = start_import(&app, &changed, "skip");
    let killed = kill_when(&mut import, || history(&app).1 >= 2_000);
    assert!(killed, "the re-import was still running when killed");
    let (archived, bumped) = history(&app);
    eprintln!("re-import killed: {bumped} incidents changed, {archived} versions archived");
    assert!(bumped > 0 && bumped < ROWS as i64, "{bumped}");
    assert_eq!(
        archived, bumped,
        "every new version archived the one it replaced"
    );
    let report = finish(start_import(&app, &changed, "skip"));
    assert_eq!(report["updated"].as_i64().unwrap(), ROWS as i64 - bumped);
    assert_eq!(history(&app), (ROWS as i64, ROWS as i64));
    assert_whole(&app, ROWS as i64, 0);
}

/// An input whose reading fails half-way by a panic (a reader bug), after more than a batch
/// of good rows: an abort import must write nothing of what it had read.
#[test]
fn a_reader_that_dies_half_way_commits_nothing() {
    struct DiesHalfWay(std::io::Cursor<Vec<u8>>);
    impl std::io::Read for DiesHalfWay {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => panic!("the reader dies before the end of its input"),
                read => Ok(read),
            }
        }
    }
    let app = TestApp::start();
    let options = ndjson_import();
    let url = app.database_url.clone();
    let input = DiesHalfWay(std::io::Cursor::new(generated_ndjson(1200)));
    // PostgreSQL: with the full-text vectors computed ahead, as the CLI does.
    let mut vector_conn = incidentdb::db::connect(&url).expect("a connection");
    let vectorize: Option<Vectorize> = stages_imports(&vector_conn)
        .then(|| Box::new(move |texts: &[String]| search_vectors(&mut vector_conn, texts)) as _);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        incidentdb::import::writer::import(
            || {
                Ok(Box::new(
                    incidentdb::db::connect(&url).expect("a connection"),
                ))
            },
            vectorize,
            input,
            &options,
            |_| {},
        )
    }));
    assert!(!matches!(outcome, Ok(Ok(_))), "the import did not succeed");
    let mut conn = incidentdb::db::connect(&app.database_url).unwrap();
    let stored: i64 = incidents::table.count().get_result(&mut conn).unwrap();
    assert_eq!(
        stored, 0,
        "nothing of the rows read before the reader died is kept"
    );
}
