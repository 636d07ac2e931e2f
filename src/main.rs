//! The `incidentdb` command line: serve, manage keys, print the OpenAPI document.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use incidentdb::config::Config;
use incidentdb::db::{self, keys};
use incidentdb::error::AppError;
use incidentdb::import::writer::{import, ImportOptions, ImportReport, OnError};
use incidentdb::import::Format;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser)]
#[command(
    version,
    about = "A conflict-incident database with a documented REST API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on BIND (default 127.0.0.1:8080), after running pending migrations.
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
        file: String,
    },
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
    /// List the keys (never their tokens).
    List,
    /// Revoke a key; it stops working at once.
    Revoke { name: String },
}

fn main() -> ExitCode {
    keep_freed_memory();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            file,
        } => import_file(
            &config()?,
            &file,
            ImportOptions {
                format,
                dataset,
                on_error,
            },
        ),
        Command::Draft { file, published_on } => draft_file(&file, published_on),
        Command::Keys { command } => manage_keys(&config()?, command),
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

fn import_file(config: &Config, file: &str, options: ImportOptions) -> anyhow::Result<()> {
    let mut conn = open(config)?;
    db::tune_for_bulk_load(&mut conn).context("tuning the connection for a bulk load")?;
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let opened = File::open(file).with_context(|| format!("cannot open {file}"))?;
        let size = opened.metadata().ok().map(|m| m.len());
        (Box::new(opened), size)
    };
    let bar = progress_bar(size);
    let input = BufReader::with_capacity(1 << 20, bar.wrap_read(input));
    let outcome = import(
        || Ok(&mut conn),
        input,
        &options,
        |rows| {
            let per_second = rows as f64 / bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!("{rows} rows, {per_second:.0} rows/s"));
        },
    );
    bar.finish_and_clear();
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
        KeysCommand::List => {
            let listed = keys::list(&mut conn).context("listing the keys")?;
            print(&serde_json::to_string_pretty(&listed)?)?;
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
