//! Pure types and rules, no I/O: enumerations of the glossary, text normalisation,
//! validation with Vietnamese messages, time handling, and the Vietnamese formatting of
//! dates, times, counts and numbering in documents.
pub mod checks;
pub mod format;
pub mod holidays;
pub mod kinds;
pub mod text;
pub mod time;
pub mod validate;
