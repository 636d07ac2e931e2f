//! The `incidentdb` command line: serve, import, export, migrate, manage keys, print the
//! OpenAPI document and shell completions.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use incidentdb::config::Config;
use incidentdb::db::{self, keys};
use incidentdb::error::AppError;
use incidentdb::import::writer::{
    import, search_vectors, ImportOptions, ImportReport, OnConflict, OnError, Vectorize,
};
use incidentdb::import::Format;
use incidentdb::model::wire::WireName;
use incidentdb::query;
use incidentdb::query::export::{self, Format as ExportFormat, ListRequest, Writer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where every command finds its settings.
const ENVIRONMENT: &str = "\
Environment (or a .env file):
  DATABASE_URL       sqlite://PATH, a bare path, or postgres://user:pass@host/db
                     (default sqlite://incidents.db)
  DATABASE_READ_URL  read replicas of the primary, comma-separated (serve)
  BIND               address to serve on (default 127.0.0.1:8080)
  RUST_LOG, LOG_FORMAT=json, INCIDENTDB_*: see the README's configuration table";

#[derive(Parser)]
#[command(
    version,
    about = "A conflict-incident database with a documented REST API",
    after_help = ENVIRONMENT
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on BIND (default 127.0.0.1:8080), after running pending migrations.
    #[command(after_help = ENVIRONMENT)]
    Serve {
        /// Load the bundled UCDP GED sample and the Kabul report into an empty database.
        #[arg(long)]
        demo: bool,
    },
    /// Import a dataset file (`-` reads standard input); prints the report as JSON.
    Import {
        #[arg(long, value_enum)]
        format: Format,
        /// The dataset the rows belong to (default: the format's name; for NDJSON each row's own).
        #[arg(long)]
        dataset: Option<String>,
        #[arg(long, value_enum, default_value = "abort")]
        on_error: OnError,
        /// Rows whose incident was changed through the API since it was imported: `keep` those
        /// changes (listed under `conflicts`), or `overwrite` them with the source's values.
        #[arg(long, value_enum, default_value = "keep")]
        on_conflict: OnConflict,
        /// Why: recorded in the history of every incident the import writes (whose writer is
        /// `import:<dataset>`).
        #[arg(long)]
        reason: Option<String>,
        file: String,
    },
    /// Export incidents as `GET /v1/incidents` does, without a server: the API's parameters
    /// as options, e.g. `export --format csv --country AF --from 2020-11`.
    #[command(after_help = ENVIRONMENT)]
    Export {
        /// `--format csv|geojson|ndjson` and any parameter of `GET /v1/incidents`, as
        /// `--name value` or `--name=value`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--PARAMETER VALUE"
        )]
        parameters: Vec<String>,
    },
    /// Run the pending migrations (serve and every other command also do, first).
    Migrate,
    /// Give every incident the full-text search text of this version's rules (rows stored by
    /// an older version keep theirs until written); prints how many changed, and the ids of
    /// any whose stored document it could not read. Safe while the service runs: a thousand
    /// incidents a statement, no new versions, an incident written meanwhile left as written.
    Reindex,
    /// Draft an incident from a news report in FILE (`-` reads standard input); prints the
    /// draft, its evidence and warnings as JSON, as `POST /v1/drafts` answers. Stores nothing.
    Draft {
        file: String,
        /// The day the report was published (YYYY-MM-DD): weekdays and "yesterday" count from it.
        #[arg(long)]
        published_on: Option<chrono::NaiveDate>,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print a completion script for a shell (e.g. `incidentdb completions bash`).
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print its token (shown only this once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "editor")]
        role: keys::Role,
    },
    /// List the keys (never their tokens) as a table.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key; it stops working at once.
    Revoke { name: String },
}

fn main() -> ExitCode {
    keep_freed_memory();
    init_logs();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}`: the error with its causes, `outer: inner: ...`.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            let document = incidentdb::openapi::document();
            print(&document.to_pretty_json()?)
        }
        Command::Serve { demo } => serve(config()?, demo),
        Command::Import {
            format,
            dataset,
            on_error,
            on_conflict,
            reason,
            file,
        } => import_file(
            &config()?,
            &file,
            ImportOptions {
                by: format!(
                    "import:{}",
                    dataset.as_deref().unwrap_or(format.default_dataset())
                ),
                format,
                dataset,
                on_error,
                on_conflict,
                reason,
            },
        ),
        Command::Draft { file, published_on } => draft_file(&file, published_on),
        Command::Keys { command } => manage_keys(&config()?, command),
        Command::Export { parameters } => export(&config()?, &parameters),
        Command::Migrate => {
            open(&config()?)?;
            eprintln!("migrated");
            Ok(())
        }
        Command::Reindex => {
            let mut conn = open(&config()?)?;
            let done = db::incidents::reindex_search(&mut conn, |id| {
                tracing::debug!(id, "reindexed up to");
            })
            .context("cannot reindex")?;
            print(&serde_json::to_string(&done)?)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "incidentdb", &mut script);
            print(String::from_utf8_lossy(&script).trim_end())
        }
    }
}

/// glibc hands every freed block over 128 KiB back to the kernel, and a page of incidents is
/// about 140 KB, built on a blocking thread and freed on an HTTP worker: every list response
/// paid for zeroing fresh pages (6% of a request's time). Blocks up to 4 MiB now come from
/// the heap, which keeps up to 16 MiB free for the next response.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two allocator thresholds; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
}

/// Logs on standard error, filtered by `RUST_LOG` (default: `info`, with the HTTP layer's
/// own error lines only for 5xx, since `log_request` logs every request once): JSON lines
/// with `LOG_FORMAT=json`, else text, coloured only on a terminal.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tracing_actix_web=error".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|format| format == "json") {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// The configuration from the environment and `.env`.
fn config() -> anyhow::Result<Config> {
    Config::from_env()
        .map_err(anyhow::Error::msg)
        .context("reading the configuration")
}

/// A connection to the configured database, migrated.
fn open(config: &Config) -> anyhow::Result<db::DbConnection> {
    let mut conn = db::connect(&config.database_url)
        .with_context(|| format!("cannot open {}", db::redact(&config.database_url)))?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(&config.bind).with_context(|| format!("cannot bind {}", config.bind))?;
    tracing::info!(
        bind = %config.bind,
        database = %db::redact(&config.database_url),
        "incidentdb serving; docs at http://{}/docs/",
        config.bind
    );
    let state = incidentdb::state(config)?;
    if demo {
        let mut conn = state.pool.get().context("no database connection")?;
        let loaded = incidentdb::demo::load_if_empty(&mut conn).context("loading the demo data")?;
        tracing::info!(loaded, "demo data");
    }
    actix_web::rt::System::new()
        .block_on(async { incidentdb::server(state, listener)?.await })
        .context("serving")
}

/// PostgreSQL: a second connection that computes the rows' full-text vectors beside the
/// writer. Without one (it cannot be opened, or it fails once), the database computes them as
/// it writes the rows.
fn vector_connection(config: &Config, conn: &db::DbConnection) -> Option<Vectorize<'static>> {
    if !db::bulk::stages_imports(conn) {
        return None;
    }
    let mut vector_conn = open(config)
        .inspect_err(|error| tracing::warn!(%error, "no second connection for the vectors"))
        .ok()?;
    let mut failed = false;
    Some(Box::new(move |texts| {
        if failed {
            return None;
        }
        let vectors = search_vectors(&mut vector_conn, texts);
        failed = vectors.is_none();
        vectors
    }))
}

fn import_file(config: &Config, file: &str, options: ImportOptions) -> anyhow::Result<()> {
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let opened = File::open(file).with_context(|| format!("cannot open {file}"))?;
        let size = opened.metadata().ok().map(|m| m.len());
        (Box::new(opened), size)
    };
    let mut conn = open(config)?;
    db::tune_for_bulk_load(&mut conn).context("tuning the connection for a bulk load")?;
    let bar = progress_bar(size);
    let input = BufReader::with_capacity(1 << 20, bar.wrap_read(input));
    let vectorize = vector_connection(config, &conn);
    let outcome = import(
        || Ok(&mut conn),
        vectorize,
        input,
        &options,
        |rows| {
            let per_second = rows as f64 / bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!("{rows} rows, {per_second:.0} rows/s"));
        },
    );
    bar.finish_and_clear();
    if let Err(error) = db::end_bulk_load(&mut conn) {
        tracing::warn!(%error, "ending the bulk load (the next connection puts the WAL back)");
    }
    let (report, failed) = match outcome {
        Ok(report) => (report, false),
        Err(AppError::InvalidRows(errors)) => (
            ImportReport {
                skipped: errors.rows,
                error_count: errors.count,
                errors: errors.first,
                ..ImportReport::default()
            },
            true,
        ),
        Err(other) => return Err(other).context("importing"),
    };
    print(&serde_json::to_string_pretty(&report)?)?;
    if failed {
        anyhow::bail!(
            "{} invalid rows; nothing was written (use --on-error skip to write the valid rows)",
            report.skipped
        );
    }
    Ok(())
}

/// The keys as a table: name, role, created, revoked.
fn keys_table(listed: &[keys::ApiKey]) -> String {
    let width = listed
        .iter()
        .map(|k| k.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let time = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut lines = vec![format!(
        "{:width$}  {:6}  {:19}  REVOKED",
        "NAME", "ROLE", "CREATED"
    )];
    for key in listed {
        lines.push(format!(
            "{:width$}  {:6}  {:19}  {}",
            key.name,
            key.role.wire_name(),
            time(key.created_at),
            key.revoked_at.map(time).unwrap_or_else(|| "-".into()),
        ));
    }
    lines.join("\n")
}

/// `export`: the API's export of the incidents the parameters select, on standard output.
fn export(config: &Config, parameters: &[String]) -> anyhow::Result<()> {
    let request = ListRequest::parse(&query_string(parameters)?)?;
    let Some(format) = request.format.filter(|f| *f != ExportFormat::Json) else {
        anyhow::bail!("give --format csv, geojson or ndjson");
    };
    let pool = db::open_pool(&config.database_url, 1)?;
    let mut filter = request.filter;
    let omitted = {
        let mut conn = pool.get().context("no database connection")?;
        filter.resolve(&mut conn)?;
        match format {
            ExportFormat::Geojson => query::count_without_coordinates(&mut conn, &filter)?,
            _ => 0,
        }
    };
    let writer = Writer {
        format,
        shape: request.shape,
    };
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    let send = |bytes: Vec<u8>| match out.write_all(&bytes) {
        Ok(()) => true,
        Err(error) => {
            // A reader that stops early (`| head`) got what it wanted.
            failed = Some(error).filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe);
            false
        }
    };
    let connect = || Ok(pool.get()?);
    export::write_all(connect, &filter, request.page, writer, omitted, send)?;
    match failed {
        Some(error) => Err(error).context("writing the export"),
        None => Ok(()),
    }
}

/// `--name value` and `--name=value` pairs as a query string.
fn query_string(parameters: &[String]) -> anyhow::Result<String> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut rest = parameters.iter();
    while let Some(argument) = rest.next() {
        let Some(name) = argument.strip_prefix("--") else {
            anyhow::bail!("expected --PARAMETER VALUE, got {argument:?}");
        };
        match name.split_once('=') {
            Some((name, value)) => query.append_pair(name, value),
            None => {
                let value = rest
                    .next()
                    .with_context(|| format!("--{name} needs a value"))?;
                query.append_pair(name, value)
            }
        };
    }
    Ok(query.finish())
}

/// Prints the draft of the report in `file`; needs no database.
fn draft_file(file: &str, published_on: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        File::open(file)
            .and_then(|mut opened| opened.read_to_string(&mut text))
            .with_context(|| format!("cannot read {file}"))?;
    }
    let request = incidentdb::draft::DraftRequest {
        text,
        published_on,
        url: None,
        title: None,
        publisher: None,
    };
    print(&serde_json::to_string_pretty(&incidentdb::draft::draft(
        &request,
    ))?)
}

/// Writes `text` and a newline to standard output. A reader that stops early (`| head`) is
/// not an error: what it wanted it got.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing output"),
        _ => Ok(()),
    }
}

/// Bytes, rows and speed on standard error; hidden when it is not a terminal.
fn progress_bar(size: Option<u64>) -> ProgressBar {
    let bar = match size {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg} ({elapsed}, ETA {eta})",
            )
            .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec} {msg} ({elapsed})")
                .expect("a valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

fn manage_keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let mut conn = open(config)?;
    match command {
        KeysCommand::Create { name, role } => {
            let token = keys::create(&mut conn, &name, role).map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => anyhow::anyhow!("a key named {name:?} exists"),
                other => anyhow::Error::new(other).context("creating the key"),
            })?;
            print(&token)?;
        }
        KeysCommand::List { json } => {
            let listed = keys::list(&mut conn).context("listing the keys")?;
            if json {
                print(&serde_json::to_string_pretty(&listed)?)?;
            } else {
                print(&keys_table(&listed))?;
            }
        }
        KeysCommand::Revoke { name } => {
            if !keys::revoke(&mut conn, &name).context("revoking the key")? {
                anyhow::bail!("no active key named {name:?}");
            }
            eprintln!("revoked {name}");
        }
    }
    Ok(())
}
