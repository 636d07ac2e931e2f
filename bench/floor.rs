//! The bare floor of the HTTP benchmark (bench/run.sh): the same questions through our own
//! storage code with no HTTP — parse the query string, run `query::list` on a pooled
//! connection, serialise the page to JSON bytes — on THREADS threads (default 2), for
//! SECONDS each.
//!
//!   cargo bench --bench floor -- DATABASE_URL SECONDS [THREADS]
//!   FLOOR_QUESTIONS=a,e cargo bench --bench floor -- DATABASE_URL SECONDS   # only these
//!
//! Prints one line a question on standard output, `floor NAME QUERIES_PER_SECOND`; the page
//! size of each question goes to standard error. Question e's named region is created (or
//! replaced) first, as bench/run.sh does.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use incidentdb::api::incidents::page_body;
use incidentdb::api::stats::Stats;
use incidentdb::db::{self, regions, DbPool};
use incidentdb::query::cache::StatsCache;
use incidentdb::query::filter::FilterParams;
use incidentdb::query::page::PageParams;
use incidentdb::query::stats::{Grouping, StatsParams};
use incidentdb::query::{self, stats, Filter, Page, Params};

const DEFAULT_THREADS: usize = 2;

/// The five questions of ../shared/bench/README.md: name, resource and query string.
const QUESTIONS: &[(&str, Resource, &str)] = &[
    (
        "a_country_month",
        Resource::Incidents,
        "country=AF&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on",
    ),
    (
        "b_year_all",
        Resource::Incidents,
        "from=2020-01-01&to=2020-12-31&limit=100&sort=-occurred_on",
    ),
    (
        "c_agg_year",
        Resource::Stats,
        "group_by=country&from=2020-01-01&to=2020-12-31",
    ),
    (
        "d_bbox",
        Resource::Incidents,
        "bbox=68.9,34.3,69.5,34.8&limit=100&sort=-occurred_on",
    ),
    (
        "e_region_month",
        Resource::Incidents,
        "region=Middle%20East&from=2020-11-01&to=2020-11-30&limit=100&sort=-occurred_on",
    ),
];

/// The named region question e uses, as bench/run.sh creates it.
const MIDDLE_EAST: [&str; 9] = [
    "SYR", "YEM", "IRQ", "PSE", "ISR", "LBN", "TUR", "IRN", "SAU",
];

#[derive(Clone, Copy)]
enum Resource {
    Incidents,
    Stats,
}

/// What the handler of `resource` does for one request, minus HTTP: the body's JSON bytes
/// and the number of rows in it.
fn answer(
    pool: &DbPool,
    resource: Resource,
    query_string: &str,
) -> Result<(Vec<u8>, usize), String> {
    match resource {
        Resource::Incidents => list_page(pool, query_string),
        Resource::Stats => stats_page(pool, query_string),
    }
}

/// `GET /v1/incidents` minus HTTP.
fn list_page(pool: &DbPool, query_string: &str) -> Result<(Vec<u8>, usize), String> {
    let mut params = Params::parse(query_string).map_err(|e| e.to_string())?;
    let mut filter = params
        .read::<FilterParams>()
        .and_then(Filter::try_from)
        .map_err(|e| e.to_string())?;
    let page = params
        .read::<PageParams>()
        .and_then(Page::try_from)
        .map_err(|e| e.to_string())?;
    params.finish().map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    filter.resolve(&mut conn).map_err(|e| e.to_string())?;
    let listing = query::list(&mut conn, &filter, &page).map_err(|e| e.to_string())?;
    drop(conn);
    let rows = listing.incidents.len();
    let next_cursor = listing.next_cursor.as_ref().map(|c| page.encode(c));
    let body = page_body(&listing, next_cursor.as_deref()).into_bytes();
    Ok((body, rows))
}

/// `GET /v1/stats` minus HTTP.
fn stats_page(pool: &DbPool, query_string: &str) -> Result<(Vec<u8>, usize), String> {
    let mut params = Params::parse(query_string).map_err(|e| e.to_string())?;
    let mut filter = params
        .read::<FilterParams>()
        .and_then(Filter::try_from)
        .map_err(|e| e.to_string())?;
    let grouping = params
        .read::<StatsParams>()
        .and_then(|stats| Grouping::parse(stats.group_by, stats.cell))
        .map_err(|e| e.to_string())?;
    params.finish().map_err(|e| e.to_string())?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    filter.resolve(&mut conn).map_err(|e| e.to_string())?;
    // A cache of its own each time: the floor is the storage's work, never a kept answer.
    let no_answers_kept = StatsCache::default();
    let data =
        stats::stats(&mut conn, &filter, &grouping, &no_answers_kept).map_err(|e| e.to_string())?;
    drop(conn);
    let rows = data.len();
    let group_by = grouping.keys;
    let body = serde_json::to_vec(&Stats {
        group_by,
        data,
        as_of: None,
    })
    .map_err(|e| e.to_string())?;
    Ok((body, rows))
}

/// Runs `query_string` on each of `threads` threads for `warmup` (not counted), then for
/// `duration`; answers the queries per second over all threads.
fn measure(
    pool: &DbPool,
    resource: Resource,
    query_string: &str,
    threads: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<f64, String> {
    let results: Vec<Result<(u64, Duration), String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let warm_until = Instant::now() + warmup;
                    while Instant::now() < warm_until {
                        std::hint::black_box(answer(pool, resource, query_string)?);
                    }
                    let start = Instant::now();
                    let deadline = start + duration;
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        std::hint::black_box(answer(pool, resource, query_string)?);
                        done += 1;
                    }
                    Ok((done, start.elapsed()))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a floor thread panicked"))
            .collect()
    });
    let mut per_second = 0.0;
    for result in results {
        let (done, elapsed) = result?;
        per_second += done as f64 / elapsed.as_secs_f64();
    }
    Ok(per_second)
}

fn run(url: &str, seconds: f64, threads: usize) -> Result<(), String> {
    let pool = db::open_pool(url, threads as u32).map_err(|e| format!("{e:#}"))?;
    let duration = Duration::from_secs_f64(seconds);
    let warmup = Duration::from_secs_f64((seconds / 10.0).min(1.0));
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let codes = MIDDLE_EAST.map(String::from);
    regions::put(&mut conn, "Middle East", &codes).map_err(|e| e.to_string())?;
    drop(conn);
    let only = std::env::var("FLOOR_QUESTIONS").unwrap_or_default();
    let chosen = |name: &str| only.is_empty() || only.split(',').any(|o| name.starts_with(o));
    for &(name, resource, query_string) in QUESTIONS.iter().filter(|q| chosen(q.0)) {
        let (body, rows) =
            answer(&pool, resource, query_string).map_err(|e| format!("{name}: {e}"))?;
        eprintln!("floor {name}: {rows} rows, {} bytes a page", body.len());
        let per_second = measure(&pool, resource, query_string, threads, warmup, duration)
            .map_err(|e| format!("{name}: {e}"))?;
        println!("floor {name} {per_second:.1}");
    }
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`; flags are not ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let usage = "usage: cargo bench --bench floor -- DATABASE_URL SECONDS [THREADS]";
    let (url, seconds, threads) = match args.as_slice() {
        [url, seconds] => (url, seconds.as_str(), None),
        [url, seconds, threads] => (url, seconds.as_str(), Some(threads.as_str())),
        _ => {
            eprintln!("{usage}");
            return ExitCode::FAILURE;
        }
    };
    let Some(seconds) = seconds
        .trim_end_matches('s')
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
    else {
        eprintln!("floor: SECONDS must be a positive number, got {seconds:?}\n{usage}");
        return ExitCode::FAILURE;
    };
    let Some(threads) = threads.map_or(Some(DEFAULT_THREADS), |t| {
        t.parse::<usize>().ok().filter(|t| (1..=256).contains(t))
    }) else {
        eprintln!("floor: THREADS must be an integer from 1 to 256\n{usage}");
        return ExitCode::FAILURE;
    };
    match run(url, seconds, threads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("floor: {message}");
            ExitCode::FAILURE
        }
    }
}
