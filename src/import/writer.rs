//! Writing an import: validate every row, upsert by dataset + external_id in batches, and
//! report what happened. `abort` writes the whole file in one transaction, so any bad row
//! leaves the database as it was; `skip` commits batch by batch and reports the bad rows.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::DerefMut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::corrections;
use super::{Format, Row, RowError};
use crate::db::history;
use crate::db::incidents as store;
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult};
use crate::model::history::{Change, ChangeKind};
use crate::model::incident::IncidentBody;
use crate::model::validate::{validate, ValidIncident};

/// Rows looked up and written together.
const BATCH: usize = 500;

/// Rows staged and written together where the database stages imports (PostgreSQL): enough
/// that a statement's fixed costs vanish, few enough to keep memory flat.
const CHUNK: usize = 5000;

/// Chunks whose month sums a staged all-or-nothing import merges at a time: each merge
/// updates the months touched once more, so fewer merges keep their row versions few, and
/// more rows wait in between.
const CHUNKS_A_MONTH_SUMS_MERGE: u64 = 50;

/// Batches the reader of a staged import may have ready before the writer takes them: a
/// chunk's worth and two, so that while a chunk is written the next is read (with two, the
/// database waited for the reader after every chunk). Other imports keep two.
const BATCHES_AHEAD: usize = CHUNK / BATCH + 2;

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

/// What to do with a row whose incident an analyst has changed since it was imported.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Keep the fields changed through the API, take the source's others; report the row
    /// under `conflicts`.
    #[default]
    Keep,
    /// Take the source row as it is.
    Overwrite,
}

/// The most invalid rows an import reports; `error_count` counts them all.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Longest error message kept, in characters (a message may quote the value at fault).
const MAX_MESSAGE_CHARS: usize = 300;

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"inserted": 198, "updated": 1, "unchanged": 0, "skipped": 1, "error_count": 1,
    "errors": [{"line": 7, "field": "event_date", "message": "not a date: \"31-Feb-20\""}],
    "warning_count": 0, "warnings": [], "conflict_count": 1,
    "conflicts": [{"line": 12, "id": 1042, "fields": ["casualties.killed"]}]}))]
pub struct ImportReport {
    /// New incidents.
    pub inserted: u64,
    /// Incidents that existed (same dataset and external_id) and changed; their version is bumped.
    pub updated: u64,
    /// Incidents that existed and were identical.
    pub unchanged: u64,
    /// Invalid rows not written (`skip`).
    pub skipped: u64,
    /// Every problem found, of which `errors` lists the first 1000.
    pub error_count: u64,
    /// The first 1000 problems, each with its line, field and reason.
    pub errors: Vec<RowError>,
    /// Rows written with a caveat, such as a country no code is known for (kept as the source
    /// names it, outside every region): how many in all.
    pub warning_count: u64,
    /// The first 1000 of those caveats.
    pub warnings: Vec<RowError>,
    /// Rows whose incident was changed through the API since it was imported, and whose
    /// source values differ from those changes: how many in all.
    pub conflict_count: u64,
    /// The first 1000 of them, each with the fields that kept the analyst's value
    /// (`on_conflict=keep`) or took the source's (`overwrite`).
    pub conflicts: Vec<ImportConflict>,
}

/// A source row that disagrees with corrections made through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportConflict {
    /// The row's line in the file.
    #[schema(example = 7)]
    pub line: u64,
    /// The incident.
    #[schema(example = 1042)]
    pub id: i64,
    /// The fields changed through the API whose source value differs, as JSON paths.
    #[schema(example = json!(["casualties.killed"]))]
    pub fields: Vec<String>,
}

impl ImportReport {
    /// Counts a conflict, keeping it while fewer than `MAX_REPORTED_ERRORS` are kept.
    fn push_conflict(&mut self, line: u64, id: i64, fields: Vec<String>) {
        self.conflict_count += 1;
        if self.conflicts.len() < MAX_REPORTED_ERRORS {
            self.conflicts.push(ImportConflict { line, id, fields });
        }
    }
}

/// Invalid rows as an import reports them: the first `MAX_REPORTED_ERRORS`, and how many in all.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RowErrors {
    pub first: Vec<RowError>,
    pub count: u64,
    /// Rows with at least one problem.
    pub rows: u64,
}

impl RowErrors {
    /// Counts `error`, keeping it while fewer than `MAX_REPORTED_ERRORS` are kept.
    fn push(&mut self, mut error: RowError) {
        self.count += 1;
        if self.first.len() < MAX_REPORTED_ERRORS {
            if error.message.chars().count() > MAX_MESSAGE_CHARS {
                error.message = error.message.chars().take(MAX_MESSAGE_CHARS).collect();
                error.message.push('…');
            }
            self.first.push(error);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

// Logs show the count and the first problem, never the whole list.
impl std::fmt::Debug for RowErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} invalid rows, {} problems", self.rows, self.count)?;
        match self.first.first() {
            Some(first) => write!(f, ", first: {first:?}"),
            None => Ok(()),
        }
    }
}

/// How an import is run.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// Overrides the dataset of every row; else the row's own, else the format's default.
    pub dataset: Option<String>,
    pub on_error: OnError,
    pub on_conflict: OnConflict,
    /// Who imports: the API key's name, or `import:<dataset>` from the command line.
    pub by: String,
    /// Why, for the history.
    pub reason: Option<String>,
}

/// Computes the full-text vectors of texts on a connection other than the import's (see
/// `db::bulk::search_vectors`); `None` when it has none free or fails, and the writing
/// connection's database computes them as it writes.
pub type Vectorize<'a> = Box<dyn FnMut(&[String]) -> Option<Vec<String>> + Send + 'a>;

/// Imports `input`; `progress` is told the number of rows read after every batch. `connect`
/// is called once the first batch is read and validated, so a slow upload holds no database
/// connection until it has rows to write. An `abort` import with invalid rows writes nothing
/// and fails with them.
///
/// Reading and validating run on a thread of their own, a few batches ahead of the writer
/// (`BATCHES_AHEAD`), so parsing and writing use both cores; the bounded channel keeps memory
/// flat. On PostgreSQL, that thread also has each batch's full-text vectors computed by
/// `vectorize`.
pub fn import<R: Read + Send, C: DerefMut<Target = DbConnection>>(
    connect: impl FnOnce() -> AppResult<C>,
    mut vectorize: Option<Vectorize>,
    input: R,
    options: &ImportOptions,
    mut progress: impl FnMut(u64),
) -> AppResult<ImportReport> {
    // Whether the last chunk written wrote most of its rows: a re-import of rows mostly
    // unchanged writes no vectors, and computing them slowed it by 70%.
    let vectors_wanted = AtomicBool::new(true);
    std::thread::scope(|scope| {
        // Staged imports (those that compute vectors ahead) read up to a chunk ahead.
        let ahead = if vectorize.is_some() {
            BATCHES_AHEAD
        } else {
            2
        };
        let (sender, batches) = std::sync::mpsc::sync_channel::<Parsed>(ahead);
        let wanted = &vectors_wanted;
        scope.spawn(move || {
            let mut rows = options.format.rows(input);
            let mut kept = 0;
            loop {
                let mut parsed = next_batch(&mut rows, options, &mut kept);
                // An `abort` import with a bad row writes nothing: no vectors from then on.
                if kept > 0 && options.on_error == OnError::Abort {
                    vectorize = None;
                }
                match vectorize.as_mut() {
                    Some(vectorize) if wanted.load(Ordering::Relaxed) => {
                        parsed.vectorize(vectorize)
                    }
                    _ => {}
                }
                let last = !parsed.more;
                if sender.send(parsed).is_err() || last {
                    return;
                }
            }
        });
        let Ok(first) = batches.recv() else {
            return Ok(ImportReport::default());
        };
        let mut conn = connect()?;
        let report = write_all(&mut conn, first, batches, options, wanted, &mut progress)?;
        if report.inserted + report.updated >= BULK {
            crate::db::refresh_statistics(&mut conn)?;
        }
        Ok(report)
    })
}

/// Imports writing at least this many rows refresh the planner's statistics.
const BULK: u64 = 10_000;

/// Writes the parsed batches as they arrive, `first` first: `abort` in one transaction,
/// `skip` in one per batch.
fn write_all(
    conn: &mut DbConnection,
    first: Parsed,
    batches: Receiver<Parsed>,
    options: &ImportOptions,
    vectors_wanted: &AtomicBool,
    progress: &mut impl FnMut(u64),
) -> AppResult<ImportReport> {
    let mut report = ImportReport::default();
    let mut errors = RowErrors::default();
    let mut warnings = RowErrors::default();
    let mut read = 0u64;
    let mut first = Some(first);
    let staged = crate::db::bulk::stages_imports(conn);
    let mut chunk: Vec<StagedRow> = Vec::new();
    let mut chunks_written = 0u64;
    let mut run = |conn: &mut DbConnection,
                   report: &mut ImportReport,
                   errors: &mut RowErrors|
     -> AppResult<bool> {
        // Another batch is asked for only when the last said more may follow: a reader gone
        // before its last batch failed (it panicked), and what it read must not be committed.
        let parsed = match first.take() {
            Some(parsed) => parsed,
            None => batches.recv().map_err(|_| {
                AppError::internal("the import's reader stopped before the end of its input")
            })?,
        };
        read += parsed.consumed;
        errors.rows += parsed.errors.rows;
        errors.count += parsed.errors.count;
        errors.first.extend(parsed.errors.first);
        // The batch's count of caveats beyond those it kept, then each kept one.
        warnings.count += parsed.warnings.count - parsed.warnings.first.len() as u64;
        for warning in parsed.warnings.first {
            warnings.push(warning);
        }
        if errors.is_empty() || options.on_error == OnError::Skip {
            if staged {
                // Rows gather into chunks, each staged and written in a few statements; in
                // skip mode each batch is its own chunk, as each is its own transaction.
                chunk.extend(with_vectors(parsed.valid, parsed.vectors));
                let flush = chunk.len() >= CHUNK || options.on_error == OnError::Skip;
                if flush || !parsed.more {
                    let (rows, before) = (chunk.len() as u64, report.inserted + report.updated);
                    write_chunk(conn, std::mem::take(&mut chunk), options, report)?;
                    chunks_written += 1;
                    if chunks_written.is_multiple_of(CHUNKS_A_MONTH_SUMS_MERGE) {
                        crate::db::bulk::merge_month_sums(conn)?;
                    }
                    let written = report.inserted + report.updated - before;
                    vectors_wanted.store(2 * written >= rows, Ordering::Relaxed);
                }
            } else {
                write_batch(conn, parsed.valid, options, report)?;
            }
        }
        progress(read);
        Ok(parsed.more)
    };
    match options.on_error {
        OnError::Abort => write_transaction(conn, |conn| {
            let deferred = crate::db::defer_indexes(conn)?;
            if !deferred.is_empty() {
                tracing::info!("an import into an empty database: indexes built after the rows");
            }
            if staged {
                crate::db::bulk::defer_month_sums(conn)?;
            }
            while run(conn, &mut report, &mut errors)? {}
            if errors.is_empty() {
                if staged {
                    crate::db::bulk::merge_month_sums(conn)?;
                }
                if !deferred.is_empty() {
                    tracing::info!("every row written: building the indexes");
                }
                Ok(crate::db::restore_indexes(conn, &deferred)?)
            } else {
                Err(AppError::InvalidRows(std::mem::take(&mut errors)))
            }
        })?,
        OnError::Skip => {
            while write_transaction(conn, |conn| run(conn, &mut report, &mut errors))? {}
        }
    }
    report.skipped = errors.rows;
    report.error_count = errors.count;
    report.errors = errors.first;
    report.warning_count = warnings.count;
    report.warnings = warnings.first;
    Ok(report)
}

/// A batch of rows read and validated.
struct Parsed {
    valid: Vec<(u64, ValidIncident)>,
    /// The full-text vectors of `valid`, in order, when computed ahead; else empty.
    vectors: Vec<String>,
    /// The batch's problems; only those within the import's budget are kept.
    errors: RowErrors,
    /// The batch's caveats on rows written, kept the same way.
    warnings: RowErrors,
    /// Rows read for this batch, valid or not.
    consumed: u64,
    /// Whether rows may follow.
    more: bool,
}

impl Parsed {
    fn vectorize(&mut self, vectorize: &mut Vectorize) {
        let texts: Vec<String> = self
            .valid
            .iter()
            .map(|(_, valid)| store::search_text(valid.body()))
            .collect();
        self.vectors = vectorize(&texts)
            .filter(|vectors| vectors.len() == texts.len())
            .unwrap_or_default();
    }
}

/// The valid rows, each with its full-text vector when computed ahead (`vectors` in order, or
/// none).
fn with_vectors(
    valid: Vec<(u64, ValidIncident)>,
    vectors: Vec<String>,
) -> impl Iterator<Item = StagedRow> {
    let mut vectors = vectors.into_iter();
    valid
        .into_iter()
        .map(move |(line, valid)| (line, valid, vectors.next()))
}

/// The full-text vectors of `texts` computed on `conn` (PostgreSQL), or `None` (logged): the
/// writing connection's database then computes them itself.
pub fn search_vectors(conn: &mut DbConnection, texts: &[String]) -> Option<Vec<String>> {
    crate::db::bulk::search_vectors(conn, texts)
        .inspect_err(|error| tracing::warn!(%error, "computing full-text vectors ahead"))
        .ok()
}

/// A valid row on its way to the staging table: its line, the incident, its full-text vector.
type StagedRow = (u64, ValidIncident, Option<String>);

/// Reads rows until `BATCH` of them are valid, `4 * BATCH` were read or the input ends. `kept`
/// counts the problems kept by every batch so far, so the whole import keeps at most
/// `MAX_REPORTED_ERRORS`.
fn next_batch(
    rows: &mut dyn Iterator<Item = Row>,
    options: &ImportOptions,
    kept: &mut usize,
) -> Parsed {
    let default_dataset = options.format.default_dataset();
    let mut parsed = Parsed {
        valid: Vec::with_capacity(BATCH),
        vectors: Vec::new(),
        errors: RowErrors::default(),
        warnings: RowErrors::default(),
        consumed: 0,
        more: false,
    };
    let budget_used = *kept;
    for row in rows {
        parsed.consumed += 1;
        let problems = match row {
            Err(error) => vec![error],
            Ok((line, mut input)) => {
                if let Some(dataset) = &options.dataset {
                    input.dataset = Some(dataset.clone());
                }
                match validate(input, default_dataset) {
                    Ok(valid) => {
                        if let Some(warning) = caveat(line, &valid) {
                            parsed.warnings.push(warning);
                        }
                        parsed.valid.push((line, valid));
                        Vec::new()
                    }
                    Err(errors) => errors
                        .into_iter()
                        .map(|e| RowError {
                            line,
                            field: e.field,
                            message: e.message,
                        })
                        .collect(),
                }
            }
        };
        if !problems.is_empty() {
            parsed.errors.rows += 1;
            for problem in problems {
                if budget_used + parsed.errors.first.len() < MAX_REPORTED_ERRORS {
                    parsed.errors.push(problem);
                } else {
                    parsed.errors.count += 1;
                }
            }
        }
        if parsed.valid.len() == BATCH || parsed.consumed == 4 * BATCH as u64 {
            parsed.more = true;
            break;
        }
    }
    *kept += parsed.errors.first.len();
    parsed
}

/// What a reader of the report should know about a row written as it is.
fn caveat(line: u64, valid: &ValidIncident) -> Option<RowError> {
    let location = &valid.body().location;
    if location.country_code.is_some() {
        return None;
    }
    let name = location.country.as_deref().unwrap_or_default();
    Some(RowError {
        line,
        field: "country".into(),
        message: format!("no country code is known for {name:?}: kept as named, in no region"),
    })
}

/// Upserts one batch: rows with an external_id already stored are compared and replaced
/// only when they differ; an analyst's corrections since the last import stay unless the
/// import says `overwrite`.
fn write_batch(
    conn: &mut DbConnection,
    batch: Vec<(u64, ValidIncident)>,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> AppResult<()> {
    let change = Change {
        kind: ChangeKind::Import,
        by: options.by.clone(),
        reason: options.reason.clone(),
    };
    let keys: Vec<(String, String)> = batch
        .iter()
        .filter_map(|(_, v)| Some((v.dataset().to_string(), v.body().external_id.clone()?)))
        .collect();
    let mut stored: Stored = store::find_by_keys(conn, &keys)?
        .into_iter()
        .map(|(incident, change)| {
            let key = (
                incident.body.dataset.clone().unwrap_or_default(),
                incident.body.external_id.clone().unwrap_or_default(),
            );
            let row = StoredRow {
                id: incident.id,
                version: incident.version,
                current: Some((incident.body, change)),
            };
            (key, row)
        })
        .collect();
    let mut pending: Vec<ValidIncident> = Vec::with_capacity(batch.len());
    let mut pending_keys: HashSet<(String, String)> = HashSet::new();
    for (line, valid) in batch {
        let key = valid
            .body()
            .external_id
            .clone()
            .map(|id| (valid.dataset().to_string(), id));
        if let Some(key) = &key {
            if !pending_keys.insert(key.clone()) {
                // The file repeats a key: write what came before, so this row replaces it.
                insert_pending(conn, &mut pending, &mut stored, &change, report)?;
                pending_keys.clear();
                pending_keys.insert(key.clone());
            }
        }
        let Some(row) = key.as_ref().and_then(|k| stored.get(k)) else {
            pending.push(valid);
            continue;
        };
        let (id, version) = (row.id, row.version);
        let version = match &row.current {
            Some((body, _)) if body == valid.body() => {
                report.unchanged += 1;
                continue;
            }
            Some((body, kind)) if *kind != ChangeKind::Import => {
                let current = body.clone();
                let at = (line, id, version);
                match correct(conn, at, current, &valid, &change, options, report)? {
                    Some(version) => version,
                    None => continue,
                }
            }
            _ => replace(conn, id, version, &valid, &change)?,
        };
        report.updated += 1;
        remember(&mut stored, key, id, version);
    }
    insert_pending(conn, &mut pending, &mut stored, &change, report)
}

/// Writes the source row `valid` (line, id and version `at`) over an incident whose current
/// version was written through the API: keeps the fields changed there (`on_conflict=keep`)
/// or takes the source's, and reports them. Returns the new version, or `None` when nothing
/// changes (counted as unchanged).
fn correct(
    conn: &mut DbConnection,
    (line, id, version): (u64, i64, i32),
    current: IncidentBody,
    valid: &ValidIncident,
    change: &Change,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> AppResult<Option<i32>> {
    let reconciled = reconcile(conn, id, &current, valid, options.on_conflict)?;
    if !reconciled.fields.is_empty() {
        report.push_conflict(line, id, reconciled.fields.clone());
    }
    let version = match reconciled.kept {
        Some(kept) if kept.body() == &current => {
            report.unchanged += 1;
            return Ok(None);
        }
        Some(kept) => {
            // The source's version first, then the corrections on top: the
            // history shows both, and the next import compares with the source.
            let version = replace(conn, id, version, valid, change)?;
            let keeping = Change {
                kind: ChangeKind::Update,
                by: change.by.clone(),
                reason: Some(format!(
                    "kept the corrections made through the API to {} (on_conflict=keep)",
                    reconciled.fields.join(", ")
                )),
            };
            replace(conn, id, version, &kept, &keeping)?
        }
        None => replace(conn, id, version, valid, change)?,
    };
    Ok(Some(version))
}

/// Writes a chunk of rows through the staging table (PostgreSQL): split where a key repeats,
/// so a later row replaces an earlier one as it does batch by batch.
fn write_chunk(
    conn: &mut DbConnection,
    chunk: Vec<StagedRow>,
    options: &ImportOptions,
    report: &mut ImportReport,
) -> AppResult<()> {
    let mut keys: HashSet<(&str, &str)> = HashSet::with_capacity(chunk.len());
    let mut start = 0;
    for (index, (_, valid, _)) in chunk.iter().enumerate() {
        let Some(external_id) = valid.body().external_id.as_deref() else {
            continue;
        };
        if !keys.insert((valid.dataset(), external_id)) {
            write_staged(conn, &chunk[start..index], options, report)?;
            keys.clear();
            keys.insert((valid.dataset(), external_id));
            start = index;
        }
    }
    write_staged(conn, &chunk[start..], options, report)
}

/// Stages rows of distinct keys and writes them: new incidents in one statement, those last
/// written by an import that changed in another, unchanged ones not at all, and those changed
/// through the API since one by one (`correct`).
fn write_staged(
    conn: &mut DbConnection,
    rows: &[StagedRow],
    options: &ImportOptions,
    report: &mut ImportReport,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let change = Change {
        kind: ChangeKind::Import,
        by: options.by.clone(),
        reason: options.reason.clone(),
    };
    let staged: Vec<(&ValidIncident, Option<&str>)> = rows
        .iter()
        .map(|(_, valid, vector)| (valid, vector.as_deref()))
        .collect();
    let existing = crate::db::bulk::stage(conn, &staged)?;
    let mut stored = vec![false; rows.len()];
    // The staged rows to write as new versions, with the version each replaces.
    let mut updates: Vec<(i64, i32)> = Vec::new();
    for found in existing {
        let seq = found.seq as usize;
        stored[seq] = true;
        let Some(document) = found.document else {
            report.unchanged += 1;
            continue;
        };
        let (line, valid, _) = &rows[seq];
        let current: IncidentBody = serde_json::from_str(&document).map_err(|e| {
            AppError::from(diesel::result::Error::DeserializationError(Box::new(e)))
        })?;
        if &current == valid.body() {
            report.unchanged += 1;
        } else if found.change == ChangeKind::Import {
            updates.push((found.seq, found.version));
        } else {
            let at = (*line, found.id, found.version);
            if correct(conn, at, current, valid, &change, options, report)?.is_some() {
                report.updated += 1;
            }
        }
    }
    let updated = crate::db::bulk::update_staged(conn, &updates, &change)?;
    if updated != updates.len() as u64 {
        return Err(AppError::Conflict(format!(
            "{} incidents changed during the import",
            updates.len() as u64 - updated
        )));
    }
    report.updated += updated;
    let inserts: Vec<i64> = (0..rows.len() as i64)
        .filter(|&seq| !stored[seq as usize])
        .collect();
    report.inserted += crate::db::bulk::insert_staged(conn, &inserts, &change)?;
    Ok(())
}

/// Replaces incident `id` at `version` with `valid`; returns the new version.
fn replace(
    conn: &mut DbConnection,
    id: i64,
    version: i32,
    valid: &ValidIncident,
    change: &Change,
) -> AppResult<i32> {
    store::replace(conn, id, version, valid, change)?
        .ok_or_else(|| AppError::Conflict(format!("incident {id} changed during the import")))
}

/// A source row set against the corrections made through the API since the last import.
struct Reconciled {
    /// The corrected fields whose source value differs.
    fields: Vec<String>,
    /// The source row with those fields as corrected (`on_conflict=keep`, some fields).
    kept: Option<ValidIncident>,
}

fn reconcile(
    conn: &mut DbConnection,
    id: i64,
    current: &IncidentBody,
    source: &ValidIncident,
    on_conflict: OnConflict,
) -> AppResult<Reconciled> {
    let imported = history::last_imported(conn, id)?;
    let fields = corrections::changed_fields(imported.as_ref(), current, source.body());
    if fields.is_empty() || on_conflict == OnConflict::Overwrite {
        return Ok(Reconciled { fields, kept: None });
    }
    let merged = corrections::merge(current, source.body().clone(), &fields);
    let kept = validate(merged, source.dataset()).map_err(AppError::InvalidBody)?;
    Ok(Reconciled {
        fields,
        kept: Some(kept),
    })
}

/// Inserts the new rows gathered so far in one go.
fn insert_pending(
    conn: &mut DbConnection,
    pending: &mut Vec<ValidIncident>,
    stored: &mut Stored,
    change: &Change,
    report: &mut ImportReport,
) -> AppResult<()> {
    let rows: Vec<&ValidIncident> = pending.iter().collect();
    let ids = store::insert_many(conn, &rows, change)?;
    report.inserted += ids.len() as u64;
    for (valid, id) in pending.drain(..).zip(ids) {
        let body = valid.into_body();
        let key = body.external_id.zip(body.dataset);
        let key = key.map(|(id, dataset)| (dataset, id));
        remember(stored, key, id, 1);
    }
    Ok(())
}

/// Incidents of the batch's keys as stored: the database's, then those written by the batch.
type Stored = HashMap<(String, String), StoredRow>;

struct StoredRow {
    id: i64,
    version: i32,
    /// The stored content and how it was written, to tell unchanged rows and corrected ones;
    /// `None` for rows written by this batch.
    current: Option<(IncidentBody, ChangeKind)>,
}

/// Records a row written in this batch, so a later row with the same key replaces it.
fn remember(stored: &mut Stored, key: Option<(String, String)>, id: i64, version: i32) {
    if let Some(key) = key {
        stored.insert(
            key,
            StoredRow {
                id,
                version,
                current: None,
            },
        );
    }
}
