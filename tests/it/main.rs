//! The integration tests: one binary (one link, one set of helpers in `common`), a module
//! per resource. Each test starts the real service on a fresh database and speaks HTTP; the
//! backend comes from `TEST_DATABASE_URL` (see `common`).

mod common;
mod drafts;
mod exports;
mod faults;
mod figures;
mod filters;
mod history;
mod http;
mod imports;
mod incidents;
mod names;
mod openapi;
mod properties;
mod regions;
mod reliability;
mod replicas;
mod search;
mod security;
mod stats;
mod vocabularies;
mod web;
