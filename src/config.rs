//! The service configuration, read once from the environment (and `.env`).

use std::env;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://PATH`, a bare SQLite path, or `postgres://...`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Whether reads need an API key too.
    pub read_requires_key: bool,
    /// Database connections in the pool.
    pub pool_size: u32,
    /// HTTP worker threads.
    pub workers: usize,
    /// Largest accepted import body, in bytes.
    pub max_import_bytes: usize,
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> Result<Config, String> {
        dotenvy::dotenv().ok();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Config {
            database_url: var("DATABASE_URL").unwrap_or_else(|| "sqlite://incidents.db".into()),
            bind: var("BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            read_requires_key: parse("INCIDENTDB_READ_REQUIRES_KEY", false)?,
            pool_size: parse("INCIDENTDB_POOL_SIZE", (cores * 2) as u32)?,
            workers: parse("INCIDENTDB_WORKERS", cores)?,
            max_import_bytes: parse("INCIDENTDB_MAX_IMPORT_BYTES", 2 << 30)?,
        })
    }

    /// A configuration for `database_url` with every other setting at its default.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_string(),
            bind: "127.0.0.1:0".into(),
            read_requires_key: false,
            pool_size: 4,
            workers: 1,
            max_import_bytes: 2 << 30,
        }
    }
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name}: cannot read {text:?}")),
    }
}
