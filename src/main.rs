//! The `incidentdb` command line: serve, manage keys, print the OpenAPI document.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;

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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Openapi => {
            let document = incidentdb::openapi::document();
            print(&document.to_pretty_json().map_err(|e| e.to_string())?)
        }
        Command::Serve { demo } => serve(Config::from_env()?, demo),
        Command::Import {
            format,
            dataset,
            on_error,
            file,
        } => import_file(
            &Config::from_env()?,
            &file,
            ImportOptions {
                format,
                dataset,
                on_error,
            },
        ),
        Command::Keys { command } => manage_keys(&Config::from_env()?, command),
    }
}

fn serve(config: Config, demo: bool) -> Result<(), String> {
    let listener =
        TcpListener::bind(&config.bind).map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
    tracing::info!(
        bind = %config.bind,
        database = %db::redact(&config.database_url),
        "incidentdb serving; docs at http://{}/docs/",
        config.bind
    );
    let state = incidentdb::state(config)?;
    if demo {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        let loaded = incidentdb::demo::load_if_empty(&mut conn).map_err(|e| e.to_string())?;
        tracing::info!(loaded, "demo data");
    }
    actix_web::rt::System::new()
        .block_on(async { incidentdb::server(state, listener)?.await })
        .map_err(|e| e.to_string())
}

fn import_file(config: &Config, file: &str, options: ImportOptions) -> Result<(), String> {
    let mut conn = db::connect(&config.database_url).map_err(|e| e.to_string())?;
    db::run_migrations(&mut conn)?;
    db::tune_for_bulk_load(&mut conn).map_err(|e| e.to_string())?;
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let opened = File::open(file).map_err(|e| format!("cannot open {file}: {e}"))?;
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
        Err(other) => return Err(other.to_string()),
    };
    print(&serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?)?;
    if failed {
        return Err(format!(
            "{} invalid rows; nothing was written (use --on-error skip to write the valid rows)",
            report.skipped
        ));
    }
    Ok(())
}

/// Writes `text` and a newline to standard output. A reader that stops early (`| head`) is
/// not an error: what it wanted it got.
fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
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

fn manage_keys(config: &Config, command: KeysCommand) -> Result<(), String> {
    let mut conn = db::connect(&config.database_url).map_err(|e| e.to_string())?;
    db::run_migrations(&mut conn)?;
    match command {
        KeysCommand::Create { name, role } => {
            let token = keys::create(&mut conn, &name, role).map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => format!("a key named {name:?} exists"),
                other => other.to_string(),
            })?;
            print(&token)?;
        }
        KeysCommand::List => {
            let listed = keys::list(&mut conn).map_err(|e| e.to_string())?;
            print(&serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?)?;
        }
        KeysCommand::Revoke { name } => {
            if !keys::revoke(&mut conn, &name).map_err(|e| e.to_string())? {
                return Err(format!("no active key named {name:?}"));
            }
            eprintln!("revoked {name}");
        }
    }
    Ok(())
}
