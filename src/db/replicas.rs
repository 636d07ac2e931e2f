//! Read replicas (`DATABASE_READ_URL`): pools on copies of the primary for the reads that may
//! lag it by the replication delay, so the primary's connections stay free for writes and for
//! the reads that must see them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::r2d2::{ConnectionManager, NopErrorHandler, PoolError};
use prometheus::{IntCounter, Registry};

use super::{
    driver_url, pool_builder, redact, Backend, ConnectionSettings, DbPool, PooledConnection,
};

/// How long a read waits for a replica's connection before the primary serves it: a healthy
/// replica opens one in milliseconds, and a replica that is down costs each read no more
/// than this.
pub const REPLICA_WAIT: Duration = Duration::from_millis(500);

/// A replica down fails every read's wait: one warning a minute says so, the counter counts.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// The replicas' pools, and the count of reads they could not take.
pub struct Replicas {
    pools: Vec<DbPool>,
    /// Which replica the next read tries first, so reads take turns.
    next: AtomicUsize,
    /// Reads the primary served because no replica connection came within `REPLICA_WAIT`.
    fallbacks: IntCounter,
    /// When a fallback was last logged.
    warned: Mutex<Option<Instant>>,
}

impl Replicas {
    /// Read-only pools of `size` connections on each of `urls`, opened without waiting for
    /// any to answer: a replica down at start-up is one more replica down. The fallback
    /// counter goes into `registry`, which `/metrics` serves.
    pub fn open(
        primary_url: &str,
        urls: &[String],
        size: u32,
        registry: &Registry,
    ) -> anyhow::Result<Replicas> {
        let fallbacks = IntCounter::new(
            "incidentdb_replica_fallbacks_total",
            format!(
                "Reads the primary served because no replica connection came within {} ms",
                REPLICA_WAIT.as_millis()
            ),
        )?;
        registry.register(Box::new(fallbacks.clone()))?;
        let pools = urls
            .iter()
            .map(|url| replica_pool(primary_url, url, size))
            .collect::<Result<_, _>>()?;
        Ok(Replicas {
            pools,
            next: AtomicUsize::new(0),
            fallbacks,
            warned: Mutex::new(None),
        })
    }

    /// A connection for a read: a replica's when one comes within `REPLICA_WAIT`, else the
    /// primary's. Without replicas, the primary's.
    pub fn connection(&self, primary: &DbPool) -> Result<PooledConnection, PoolError> {
        if self.pools.is_empty() {
            return primary.get();
        }
        self.replica().or_else(|error| {
            self.fell_back(&error);
            primary.get()
        })
    }

    /// An idle connection of any replica, trying first the one whose turn it is; when none is
    /// idle, that one's within `REPLICA_WAIT`.
    fn replica(&self) -> Result<PooledConnection, PoolError> {
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.pools.len();
        let (before, from_turn) = self.pools.split_at(turn);
        from_turn
            .iter()
            .chain(before)
            .find_map(DbPool::try_get)
            .map_or_else(|| self.pools[turn].get(), Ok)
    }

    fn fell_back(&self, error: &PoolError) {
        self.fallbacks.inc();
        let Ok(mut warned) = self.warned.lock() else {
            return;
        };
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            tracing::warn!(
                %error,
                fallbacks = self.fallbacks.get(),
                "no replica connection within {} ms: the primary serves reads \
                 (logged once a minute at most; incidentdb_replica_fallbacks_total counts all)",
                REPLICA_WAIT.as_millis()
            );
        }
    }

    /// The pools, in `DATABASE_READ_URL` order.
    pub fn pools(&self) -> &[DbPool] {
        &self.pools
    }

    /// Connections the replicas may open together.
    pub fn max_size(&self) -> u32 {
        self.pools.iter().map(DbPool::max_size).sum()
    }
}

fn replica_pool(primary_url: &str, url: &str, size: u32) -> anyhow::Result<DbPool> {
    anyhow::ensure!(
        Backend::of(url) == Backend::of(primary_url),
        "DATABASE_READ_URL {}: a replica is on the primary's backend",
        redact(url)
    );
    Ok(
        pool_builder(url, size, ConnectionSettings { read_only: true })
            .connection_timeout(REPLICA_WAIT)
            // While a replica is down r2d2 retries to connect every REPLICA_WAIT / 2 and would log
            // each failure; `fell_back` reports it instead.
            .error_handler(Box::new(NopErrorHandler))
            .build_unchecked(ConnectionManager::new(driver_url(url))),
    )
}
