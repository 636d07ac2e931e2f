//! Stats answers kept in memory while the data stays as it was. A stats query that cannot use
//! the month sums reads every matching incident: a facet of the whole database or the cells of
//! a world map take seconds at a million incidents, and every visitor of the browse page asks
//! the same ones. Each answer is kept with the data's generation (`db::history::generation`)
//! at the time it was computed, and given again only while the generation is the same, so a
//! cached answer is always the one the query would compute now. Per instance: each instance
//! fills its own; nothing needs sharing.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use super::stats::StatsRow;
use crate::db::history::Generation;
use crate::error::AppResult;

/// Most answers kept.
const ANSWERS: usize = 512;
/// Most rows kept in all answers together, which bounds the memory (a row is a few hundred
/// bytes); a larger answer is not kept.
const ROWS: usize = 200_000;

pub struct StatsCache {
    answers: Mutex<Answers>,
}

struct Answers {
    by_query: LruCache<String, Cached>,
    rows: usize,
}

struct Cached {
    generation: Generation,
    rows: Vec<StatsRow>,
}

impl Default for StatsCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(ANSWERS).expect("a positive capacity");
        StatsCache {
            answers: Mutex::new(Answers {
                by_query: LruCache::new(capacity),
                rows: 0,
            }),
        }
    }
}

impl StatsCache {
    /// The answer to `query` at `generation`: the kept one, or `compute`'s, then kept.
    pub fn answer(
        &self,
        query: String,
        generation: Generation,
        compute: impl FnOnce() -> AppResult<Vec<StatsRow>>,
    ) -> AppResult<Vec<StatsRow>> {
        if let Some(rows) = self.kept(&query, &generation) {
            return Ok(rows);
        }
        let rows = compute()?;
        self.keep(query, generation, &rows);
        Ok(rows)
    }

    fn kept(&self, query: &str, generation: &Generation) -> Option<Vec<StatsRow>> {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let cached = answers.by_query.get(query)?;
        (cached.generation == *generation).then(|| cached.rows.clone())
    }

    fn keep(&self, query: String, generation: Generation, rows: &[StatsRow]) {
        if rows.len() > ROWS {
            return;
        }
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let answers = &mut *answers;
        if let Some(old) = answers.by_query.pop(&query) {
            answers.rows -= old.rows.len();
        }
        while answers.rows + rows.len() > ROWS || answers.by_query.len() >= ANSWERS {
            match answers.by_query.pop_lru() {
                Some((_, old)) => answers.rows -= old.rows.len(),
                None => break,
            }
        }
        answers.rows += rows.len();
        let rows = rows.to_vec();
        answers.by_query.put(query, Cached { generation, rows });
    }
}
