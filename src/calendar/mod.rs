//! iCalendar for invitations (RFC 5545, iTIP RFC 5546): the pieces the `icalendar` crate
//! does not do right or at all, built and tested here first.
//!
//! - [`fold`]: content lines of at most 75 octets, never splitting a UTF-8 sequence;
//! - [`vtimezone`]: a VTIMEZONE for any chrono-tz zone, from the zone's own transitions;
//! - [`invite`]: the calendar object of one invitation (REQUEST or CANCEL), built with the
//!   `icalendar` crate and finished with the two above.
pub mod fold;
pub mod invite;
pub mod vtimezone;
