//! hoinghi plans training conferences for Vietnam's education sector: units, plans,
//! conferences, agenda, speakers, halls, bridge points, attendance rules and delegates,
//! behind a JSON API. See `docs/ARCHITECTURE.md` for the map.
pub mod calendar;
pub mod cli;
pub mod config;
pub mod documents;
pub mod domain;
pub mod error;
pub mod http;
pub mod mail;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;

pub use startup::Application;
