//! Use cases: the generic CRUD of every resource with its validation and authorisation,
//! users and tokens, nested reads, and seeding.
pub mod agenda;
pub mod assignment;
pub mod attendance;
pub mod auth;
pub mod cascade;
pub mod checks;
pub mod crud;
pub mod exports;
pub mod feeds;
pub mod import;
pub mod invitations;
pub mod ledger;
pub mod links;
pub mod nested;
pub mod nominations;
pub mod outbox;
pub mod recent;
pub mod replies;
pub mod resources;
pub mod seed;
pub mod syncer;
