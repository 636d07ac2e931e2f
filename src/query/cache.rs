//! Stats answers kept in memory while the data stays as it was. A stats query that cannot use
//! the month sums reads every matching incident: a facet of the whole database or the cells of
//! a world map take seconds at a million incidents, and every visitor of the browse page asks
//! the same ones. Each answer is kept with the data's generation (`db::history::generation`)
//! at the time it was computed, and given again only while the generation is the same, so a
//! cached answer is always the one the query would compute now. Per instance: each instance
//! fills its own; nothing needs sharing.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::stats::StatsRow;
use crate::db::history::Generation;
use crate::error::AppResult;

/// Most answers kept.
const ANSWERS: usize = 512;
/// Most rows kept in all answers together, which bounds the memory (a row is a few hundred
/// bytes); a larger answer is not kept.
const ROWS: usize = 200_000;
/// Longest query kept (its filter and grouping as text): a filter of hundreds of long values
/// is answered, not kept, so the keys stay within a few megabytes.
const QUERY_BYTES: usize = 4096;

pub struct StatsCache {
    answers: Mutex<Answers>,
}

struct Answers {
    by_query: LruCache<String, Cached>,
    rows: usize,
}

struct Cached {
    generation: Generation,
    rows: Arc<Vec<StatsRow>>,
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
            return Ok(rows.as_ref().clone());
        }
        let rows = compute()?;
        self.keep(query, generation, &rows);
        Ok(rows)
    }

    /// The kept answer, shared: it is copied after the lock is let go.
    fn kept(&self, query: &str, generation: &Generation) -> Option<Arc<Vec<StatsRow>>> {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let cached = answers.by_query.get(query)?;
        (cached.generation == *generation).then(|| Arc::clone(&cached.rows))
    }

    fn keep(&self, query: String, generation: Generation, rows: &[StatsRow]) {
        if rows.len() > ROWS || query.len() > QUERY_BYTES {
            return;
        }
        let rows = Arc::new(rows.to_vec());
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
        answers.by_query.put(query, Cached { generation, rows });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::stats::Totals;

    fn rows(n: usize) -> Vec<StatsRow> {
        let totals = Totals {
            low: None,
            best: None,
            high: None,
            unknown: 0,
        };
        let row = StatsRow {
            group: Default::default(),
            incidents: 1,
            killed: totals,
            injured: totals,
            latitude: None,
            longitude: None,
        };
        vec![row; n]
    }

    fn at(version: i64) -> Generation {
        Generation::Ids {
            incident: Some(1),
            version: Some(version),
        }
    }

    fn answered(cache: &StatsCache, query: &str, generation: Generation, n: usize) -> bool {
        let mut computed = false;
        cache
            .answer(query.to_string(), generation, || {
                computed = true;
                Ok(rows(n))
            })
            .unwrap();
        computed
    }

    #[test]
    fn an_answer_is_kept_for_its_generation_only() {
        let cache = StatsCache::default();
        assert!(answered(&cache, "q", at(1), 3));
        assert!(!answered(&cache, "q", at(1), 3), "kept");
        assert!(answered(&cache, "q", at(2), 3), "the data changed");
    }

    #[test]
    fn rows_answers_and_query_lengths_are_bounded() {
        let cache = StatsCache::default();
        assert!(answered(&cache, "big", at(1), ROWS + 1));
        assert!(
            answered(&cache, "big", at(1), ROWS + 1),
            "too many rows to keep"
        );
        let long = "x".repeat(QUERY_BYTES + 1);
        assert!(answered(&cache, &long, at(1), 1));
        assert!(
            answered(&cache, &long, at(1), 1),
            "too long a query to keep"
        );
        assert!(answered(&cache, "a", at(1), ROWS / 2));
        assert!(answered(&cache, "b", at(1), ROWS / 2 + 1));
        assert!(
            answered(&cache, "a", at(1), ROWS / 2),
            "the oldest went for the rows"
        );
        for n in 0..=ANSWERS {
            answered(&cache, &n.to_string(), at(1), 1);
        }
        assert!(
            answered(&cache, "0", at(1), 1),
            "the oldest went for the count"
        );
        assert!(!answered(&cache, &ANSWERS.to_string(), at(1), 1));
    }
}
