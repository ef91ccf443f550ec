//! The one integration test binary: each test starts the app on port 0 with a fresh
//! database, on SQLite and on PostgreSQL (`HOINGHI_TEST_POSTGRES_URL`).
mod helpers;

mod assignment;
mod auth;
mod batches;
mod browser;
mod calendar;
mod cascade;
mod checks;
mod cli;
mod crud;
mod documents;
mod mail;
mod nominations;
mod openapi;
mod point_import;
mod roles;
mod seed;
mod updates;
mod validation;
