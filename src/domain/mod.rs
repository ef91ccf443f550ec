//! Pure types and rules, no I/O: enumerations of the glossary, text normalisation,
//! validation with Vietnamese messages, and time handling.
pub mod checks;
pub mod holidays;
pub mod kinds;
pub mod text;
pub mod time;
pub mod validate;
