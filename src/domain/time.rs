//! Instants and local times. Conferences are stored as UTC instants with an IANA zone;
//! input may give an instant (with offset) or a wall-clock time in the conference's zone.
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The zone of every Vietnamese conference unless said otherwise.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";

/// Parses an IANA time-zone name.
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// A date-time as a client sends it: an RFC 3339 instant (`2024-12-18T08:00:00+07:00`)
/// or a wall-clock time (`2024-12-18T08:00`) to be read in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputTime {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime),
}

impl InputTime {
    /// Resolves the time in `tz`; `None` for a wall-clock time that does not exist there
    /// (a daylight-saving gap) or is ambiguous.
    pub fn resolve(self, tz: Tz) -> Option<DateTime<Utc>> {
        match self {
            InputTime::Instant(i) => Some(i),
            InputTime::Local(n) => match tz.from_local_datetime(&n) {
                LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                _ => None,
            },
        }
    }

    /// Resolves in place, so that later code sees an instant.
    pub fn resolve_in_place(&mut self, tz: Tz) -> bool {
        match self.resolve(tz) {
            Some(i) => {
                *self = InputTime::Instant(i);
                true
            }
            None => false,
        }
    }

    /// The instant once resolved; a wall-clock time not yet resolved is read as UTC.
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            InputTime::Instant(i) => i,
            InputTime::Local(n) => n.and_utc(),
        }
    }
}

impl PartialSchema for InputTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "RFC 3339 instant, or a wall-clock time YYYY-MM-DDTHH:MM in the conference's zone",
            ))
            .examples([serde_json::json!("2024-12-18T08:00")])
            .into()
    }
}

impl ToSchema for InputTime {}

impl From<DateTime<Utc>> for InputTime {
    fn from(i: DateTime<Utc>) -> Self {
        InputTime::Instant(i)
    }
}

impl std::str::FromStr for InputTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(i) = DateTime::parse_from_rfc3339(s) {
            return Ok(InputTime::Instant(i.with_timezone(&Utc)));
        }
        for f in [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
                return Ok(InputTime::Local(n));
            }
        }
        Err(format!(
            "expected an RFC 3339 date-time or YYYY-MM-DDTHH:MM, got `{s}`"
        ))
    }
}

impl<'de> Deserialize<'de> for InputTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for InputTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            InputTime::Instant(i) => i.to_rfc3339().serialize(s),
            InputTime::Local(n) => n.format("%Y-%m-%dT%H:%M:%S").to_string().serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_resolves_in_ho_chi_minh() {
        let t: InputTime = "2024-12-18T08:00".parse().unwrap();
        let tz = parse_tz(DEFAULT_TIME_ZONE).unwrap();
        assert_eq!(
            t.resolve(tz).unwrap().to_rfc3339(),
            "2024-12-18T01:00:00+00:00"
        );
    }

    #[test]
    fn instant_keeps_its_offset() {
        let t: InputTime = "2024-12-18T08:00:00+07:00".parse().unwrap();
        let tz = parse_tz("Europe/Paris").unwrap();
        assert_eq!(
            t.resolve(tz).unwrap().to_rfc3339(),
            "2024-12-18T01:00:00+00:00"
        );
    }

    #[test]
    fn nonexistent_local_time_is_refused() {
        let t: InputTime = "2024-03-31T02:30".parse().unwrap();
        assert!(t.resolve(parse_tz("Europe/Paris").unwrap()).is_none());
    }

    #[test]
    fn garbage_is_refused() {
        assert!("18/12/2024".parse::<InputTime>().is_err());
    }
}
