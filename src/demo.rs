//! `serve --demo`: real data from the first minute — the bundled UCDP GED sample (CC BY 4.0,
//! see `demo/README.md`) and the Kabul report of 21 November 2020.

use diesel::prelude::*;

use crate::db::schema::incidents;
use crate::db::{incidents as store, DbConnection};
use crate::error::{AppError, AppResult};
use crate::import::writer::{import, ImportOptions, OnConflict, OnError};
use crate::import::Format;
use crate::model::example::kabul_input;
use crate::model::history::{Change, ChangeKind};
use crate::model::validate::{validate, DEFAULT_DATASET};

const UCDP_SAMPLE: &[u8] = include_bytes!("../demo/ucdp_ged_sample.csv");

/// Loads the demo data when the database has no incidents; returns how many were loaded.
pub fn load_if_empty(conn: &mut DbConnection) -> AppResult<u64> {
    let existing: i64 = incidents::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(0);
    }
    let options = ImportOptions {
        format: Format::Ucdp,
        dataset: None,
        on_error: OnError::Abort,
        on_conflict: OnConflict::Keep,
        by: "demo".into(),
        reason: Some("serve --demo".into()),
    };
    let report = import(|| Ok(&mut *conn), None, UCDP_SAMPLE, &options, |_| {})?;
    let kabul = serde_json::from_value(kabul_input()).map_err(AppError::internal)?;
    let kabul = validate(kabul, DEFAULT_DATASET).map_err(AppError::InvalidBody)?;
    let change = Change {
        kind: ChangeKind::Create,
        by: "demo".into(),
        reason: Some("serve --demo".into()),
    };
    store::insert(conn, &kabul, &change)?;
    Ok(report.inserted + 1)
}
