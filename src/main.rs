//! The `incidentdb` command line: serve, manage keys, print the OpenAPI document.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use incidentdb::config::Config;
use incidentdb::db::{self, keys};

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
    Serve,
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
            println!("{}", document.to_pretty_json().map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Serve => serve(Config::from_env()?),
        Command::Keys { command } => manage_keys(&Config::from_env()?, command),
    }
}

fn serve(config: Config) -> Result<(), String> {
    let listener =
        TcpListener::bind(&config.bind).map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
    tracing::info!(
        bind = %config.bind,
        database = %db::redact(&config.database_url),
        "incidentdb serving; docs at http://{}/docs/",
        config.bind
    );
    let state = incidentdb::state(config)?;
    actix_web::rt::System::new()
        .block_on(async { incidentdb::server(state, listener)?.await })
        .map_err(|e| e.to_string())
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
            println!("{token}");
        }
        KeysCommand::List => {
            let listed = keys::list(&mut conn).map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&listed).map_err(|e| e.to_string())?
            );
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
