//! Writing an import: validate every row, upsert by dataset + external_id in batches, and
//! report what happened. `abort` writes the whole file in one transaction, so any bad row
//! leaves the database as it was; `skip` commits batch by batch and reports the bad rows.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::mpsc::Receiver;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Format, Row, RowError};
use crate::db::incidents as store;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::incident::NewIncident;
use crate::model::validate::{validate, ValidIncident};

/// Rows looked up and written together.
const BATCH: usize = 500;

/// What to do with invalid rows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Write nothing if any row is invalid; report every bad row.
    #[default]
    Abort,
    /// Write the valid rows; report the bad ones.
    Skip,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"inserted": 198, "updated": 1, "unchanged": 0, "skipped": 1,
    "errors": [{"line": 7, "field": "event_date", "message": "not a date: \"31-Feb-20\""}]}))]
pub struct ImportReport {
    /// New incidents.
    pub inserted: u64,
    /// Incidents that existed (same dataset and external_id) and changed; their version is bumped.
    pub updated: u64,
    /// Incidents that existed and were identical.
    pub unchanged: u64,
    /// Invalid rows not written (`skip`), or every row when an `abort` import failed.
    pub skipped: u64,
    /// Every invalid row, with its line, field and reason.
    pub errors: Vec<RowError>,
}

/// How an import is run.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// Overrides the dataset of every row; else the row's own, else the format's default.
    pub dataset: Option<String>,
    pub on_error: OnError,
}

/// Imports `input`; `progress` is told the number of rows read after every batch.
/// An `abort` import with invalid rows writes nothing and fails with every bad row.
///
/// Reading and validating run on a thread of their own, a couple of batches ahead of the
/// writer, so parsing and writing use both cores; the bounded channel keeps memory flat.
pub fn import<R: Read + Send>(
    conn: &mut DbConnection,
    input: R,
    options: &ImportOptions,
    mut progress: impl FnMut(u64),
) -> AppResult<ImportReport> {
    std::thread::scope(|scope| {
        let (sender, batches) = std::sync::mpsc::sync_channel::<Parsed>(2);
        scope.spawn(move || {
            let mut rows = options.format.rows(input);
            loop {
                let parsed = next_batch(&mut rows, options);
                let last = !parsed.more;
                if sender.send(parsed).is_err() || last {
                    return;
                }
            }
        });
        write_all(conn, batches, options, &mut progress)
    })
    .and_then(|report| {
        if report.inserted + report.updated >= BULK {
            crate::db::refresh_statistics(conn)?;
        }
        Ok(report)
    })
}

/// Imports writing at least this many rows refresh the planner's statistics.
const BULK: u64 = 10_000;

/// Writes the parsed batches as they arrive: `abort` in one transaction, `skip` in one per
/// batch.
fn write_all(
    conn: &mut DbConnection,
    batches: Receiver<Parsed>,
    options: &ImportOptions,
    progress: &mut impl FnMut(u64),
) -> AppResult<ImportReport> {
    let mut report = ImportReport::default();
    let mut read = 0u64;
    let mut run = |conn: &mut DbConnection, report: &mut ImportReport| -> AppResult<bool> {
        let Ok(parsed) = batches.recv() else {
            return Ok(false);
        };
        read += parsed.consumed;
        report.errors.extend(parsed.errors);
        if report.errors.is_empty() || options.on_error == OnError::Skip {
            write_batch(conn, parsed.valid, report)?;
        }
        progress(read);
        Ok(parsed.more)
    };
    match options.on_error {
        OnError::Abort => write_transaction(conn, |conn| {
            let deferred = crate::db::defer_indexes(conn)?;
            while run(conn, &mut report)? {}
            if report.errors.is_empty() {
                Ok(crate::db::restore_indexes(conn, &deferred)?)
            } else {
                Err(AppError::InvalidRows(report.errors.clone()))
            }
        })?,
        OnError::Skip => while write_transaction(conn, |conn| run(conn, &mut report))? {},
    }
    report.skipped = report.errors.len() as u64;
    Ok(report)
}

/// A batch of rows read and validated.
struct Parsed {
    valid: Vec<(u64, ValidIncident)>,
    errors: Vec<RowError>,
    /// Rows read for this batch, valid or not.
    consumed: u64,
    /// Whether rows may follow.
    more: bool,
}

/// Reads rows until `BATCH` of them are valid or the input ends.
fn next_batch(rows: &mut dyn Iterator<Item = Row>, options: &ImportOptions) -> Parsed {
    let default_dataset = options.format.default_dataset();
    let mut parsed = Parsed {
        valid: Vec::with_capacity(BATCH),
        errors: Vec::new(),
        consumed: 0,
        more: false,
    };
    for row in rows {
        parsed.consumed += 1;
        match row {
            Err(error) => parsed.errors.push(error),
            Ok((line, mut input)) => {
                if let Some(dataset) = &options.dataset {
                    input.dataset = Some(dataset.clone());
                }
                match validate(input, default_dataset) {
                    Ok(valid) => parsed.valid.push((line, valid)),
                    Err(errors) => parsed.errors.extend(errors.into_iter().map(|e| RowError {
                        line,
                        field: e.field,
                        message: e.message,
                    })),
                }
            }
        }
        if parsed.valid.len() == BATCH {
            parsed.more = true;
            break;
        }
    }
    parsed
}

/// Upserts one batch: rows with an external_id already stored are compared and replaced
/// only when they differ.
fn write_batch(
    conn: &mut DbConnection,
    batch: Vec<(u64, ValidIncident)>,
    report: &mut ImportReport,
) -> AppResult<()> {
    let keys: Vec<(String, String)> = batch
        .iter()
        .filter_map(|(_, v)| Some((v.dataset.clone(), v.input.external_id.clone()?)))
        .collect();
    let mut stored: Stored = store::find_by_keys(conn, &keys)?
        .into_iter()
        .map(|incident| {
            let key = (
                incident.dataset.clone(),
                incident.external_id.clone().unwrap_or_default(),
            );
            let row = StoredRow {
                id: incident.id,
                version: incident.version,
                input: Some(incident.to_input()),
            };
            (key, row)
        })
        .collect();
    let mut pending: Vec<ValidIncident> = Vec::with_capacity(batch.len());
    let mut pending_keys: HashSet<(String, String)> = HashSet::new();
    for (_, valid) in batch {
        let key = valid
            .input
            .external_id
            .clone()
            .map(|id| (valid.dataset.clone(), id));
        if let Some(key) = &key {
            if !pending_keys.insert(key.clone()) {
                // The file repeats a key: write what came before, so this row replaces it.
                insert_pending(conn, &mut pending, &mut stored, report)?;
                pending_keys.clear();
                pending_keys.insert(key.clone());
            }
        }
        match key.as_ref().and_then(|k| stored.get(k)) {
            Some(row) if row.input.as_ref() == Some(&valid.input) => report.unchanged += 1,
            Some(&StoredRow { id, version, .. }) => {
                let version = store::replace(conn, id, version, &valid)?.ok_or_else(|| {
                    AppError::Conflict(format!("incident {id} changed during the import"))
                })?;
                report.updated += 1;
                remember(&mut stored, key, id, version);
            }
            None => pending.push(valid),
        }
    }
    insert_pending(conn, &mut pending, &mut stored, report)
}

/// Inserts the new rows gathered so far in one go.
fn insert_pending(
    conn: &mut DbConnection,
    pending: &mut Vec<ValidIncident>,
    stored: &mut Stored,
    report: &mut ImportReport,
) -> AppResult<()> {
    let rows: Vec<&ValidIncident> = pending.iter().collect();
    let ids = store::insert_many(conn, &rows)?;
    report.inserted += ids.len() as u64;
    for (valid, id) in pending.drain(..).zip(ids) {
        let key = valid.input.external_id.map(|id| (valid.dataset, id));
        remember(stored, key, id, 1);
    }
    Ok(())
}

/// Incidents of the batch's keys as stored: the database's, then those written by the batch.
type Stored = HashMap<(String, String), StoredRow>;

struct StoredRow {
    id: i64,
    version: i32,
    /// The stored content, to tell unchanged rows; `None` for rows written by this batch.
    input: Option<NewIncident>,
}

/// Records a row written in this batch, so a later row with the same key replaces it.
fn remember(stored: &mut Stored, key: Option<(String, String)>, id: i64, version: i32) {
    if let Some(key) = key {
        stored.insert(
            key,
            StoredRow {
                id,
                version,
                input: None,
            },
        );
    }
}
