//! The service configuration, read once from the environment (and `.env`).

use std::env;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://PATH`, a bare SQLite path, or `postgres://...`: the primary, which takes
    /// every write.
    pub database_url: String,
    /// Read replicas of the primary, on its backend; empty: the primary serves every read.
    pub database_read_urls: Vec<String>,
    /// Read-only mode, for maintenance of the primary: every write is refused with 503.
    pub read_only: bool,
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
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests a second each client (API key, else IP address) may make on average; 0 turns
    /// rate limiting off.
    pub rate_limit_per_second: u32,
    /// Requests a client may make at once before the rate applies.
    pub rate_limit_burst: u32,
    /// Origins browsers may call the API from (`*`: any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// Imports that may run at once; more are answered 503.
    pub max_imports: usize,
    /// How long an import body may send nothing before it is dropped (408).
    pub import_idle_timeout: std::time::Duration,
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> anyhow::Result<Config> {
        dotenvy::dotenv().ok();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let database_url = var("DATABASE_URL").unwrap_or_else(|| "sqlite://incidents.db".into());
        let defaults = Config::for_database(&database_url);
        Ok(Config {
            bind: var("BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            read_requires_key: parse("INCIDENTDB_READ_REQUIRES_KEY", defaults.read_requires_key)?,
            pool_size: at_least_one("INCIDENTDB_POOL_SIZE", (cores * 2) as u32)?,
            workers: at_least_one("INCIDENTDB_WORKERS", cores)?,
            max_import_bytes: parse("INCIDENTDB_MAX_IMPORT_BYTES", defaults.max_import_bytes)?,
            max_body_bytes: parse("INCIDENTDB_MAX_BODY_BYTES", defaults.max_body_bytes)?,
            rate_limit_per_second: parse("INCIDENTDB_RATE_LIMIT", 100)?,
            rate_limit_burst: parse("INCIDENTDB_RATE_LIMIT_BURST", 200)?,
            cors_origins: list("INCIDENTDB_CORS_ORIGINS"),
            max_imports: at_least_one("INCIDENTDB_MAX_IMPORTS", defaults.max_imports)?,
            import_idle_timeout: std::time::Duration::from_secs(at_least_one(
                "INCIDENTDB_IMPORT_IDLE_SECONDS",
                defaults.import_idle_timeout.as_secs(),
            )?),
            database_read_urls: list("DATABASE_READ_URL"),
            read_only: parse("INCIDENTDB_READ_ONLY", defaults.read_only)?,
            database_url,
        })
    }

    /// A configuration for `database_url` with every other setting at its default, and no
    /// rate limit (tests and embedded use).
    pub fn for_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_string(),
            database_read_urls: Vec::new(),
            read_only: false,
            bind: "127.0.0.1:0".into(),
            read_requires_key: false,
            pool_size: 4,
            workers: 1,
            max_import_bytes: 2 << 30,
            max_body_bytes: 1 << 20,
            rate_limit_per_second: 0,
            rate_limit_burst: 0,
            cors_origins: Vec::new(),
            max_imports: 2,
            import_idle_timeout: std::time::Duration::from_secs(30),
        }
    }
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A comma-separated list; unset: empty.
fn list(name: &str) -> Vec<String> {
    var(name)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}: cannot read {text:?}")),
    }
}

fn at_least_one<T: std::str::FromStr + PartialOrd + From<u8>>(
    name: &str,
    default: T,
) -> anyhow::Result<T> {
    let value = parse(name, default)?;
    anyhow::ensure!(value >= T::from(1), "{name}: must be at least 1");
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_worker_counts_must_be_at_least_one() {
        let name = "INCIDENTDB_TEST_AT_LEAST_ONE";
        env::set_var(name, "0");
        let refused = at_least_one::<u32>(name, 4).unwrap_err().to_string();
        assert!(refused.contains(name), "{refused}");
        env::set_var(name, " 3 ");
        assert_eq!(at_least_one::<usize>(name, 4).unwrap(), 3);
        env::remove_var(name);
        assert_eq!(at_least_one::<u32>(name, 4).unwrap(), 4);
    }
}
