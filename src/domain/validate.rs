//! Field validation that collects every problem of a request, each naming its field,
//! with a Vietnamese message for the user and an English code for logs and clients.
use serde::Serialize;
use utoipa::ToSchema;

use super::text::{self, NAME_MAX, TEXT_MAX};

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request body, e.g. `name` or `unit_ids[2]`.
    pub field: String,
    /// A stable English code: `required`, `too_long`, `invalid_email`, …
    pub code: String,
    /// What is wrong, in Vietnamese, for the user.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Collects field errors; empty means valid.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub fn error(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.push(FieldError::new(field, code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// A required name: normalised, non-empty, at most [`NAME_MAX`] characters.
    pub fn name(&mut self, field: &str, value: &mut String) {
        self.bounded(field, value, NAME_MAX);
    }

    /// A required free text: normalised, non-empty, at most [`TEXT_MAX`] characters.
    pub fn text(&mut self, field: &str, value: &mut String) {
        self.bounded(field, value, TEXT_MAX);
    }

    fn bounded(&mut self, field: &str, value: &mut String, max: usize) {
        text::nfc_in_place(value);
        if value.is_empty() {
            self.error(
                field,
                "required",
                format!("Trường «{field}» không được để trống."),
            );
        } else {
            self.max_len(field, value, max);
        }
    }

    /// An optional name: normalised (empty → absent), bounded.
    pub fn opt_name(&mut self, field: &str, value: &mut Option<String>) {
        text::nfc_opt(value);
        if let Some(v) = value {
            self.max_len(field, v, NAME_MAX);
        }
    }

    /// An optional free text: normalised (empty → absent), bounded.
    pub fn opt_text(&mut self, field: &str, value: &mut Option<String>) {
        text::nfc_opt(value);
        if let Some(v) = value {
            self.max_len(field, v, TEXT_MAX);
        }
    }

    /// A list of non-empty texts (legal bases…), each normalised and bounded.
    pub fn texts(&mut self, field: &str, values: &mut [String]) {
        for (i, v) in values.iter_mut().enumerate() {
            self.bounded(&format!("{field}[{i}]"), v, TEXT_MAX);
        }
    }

    fn max_len(&mut self, field: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.error(
                field,
                "too_long",
                format!("Trường «{field}» dài {n} ký tự, tối đa {max} ký tự."),
            );
        }
    }

    /// An optional e-mail address (normalised; `None` if empty).
    pub fn opt_email(&mut self, field: &str, value: &mut Option<String>) {
        text::nfc_opt(value);
        if let Some(v) = value {
            self.email(field, v);
        }
    }

    fn email(&mut self, field: &str, v: &str) {
        let ok = v.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                v,
                email_address::Options::default()
                    .without_display_text()
                    .without_domain_literal(),
            )
            .is_ok()
            && v.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'));
        if !ok {
            self.error(
                field,
                "invalid_email",
                format!("Địa chỉ thư điện tử «{v}» ở trường «{field}» không hợp lệ."),
            );
        }
    }

    /// An optional count that must be at least `min` (quotas, capacities).
    pub fn opt_at_least(&mut self, field: &str, value: Option<i32>, min: i32) {
        if let Some(v) = value {
            if v < min {
                self.error(
                    field,
                    "too_small",
                    format!("Trường «{field}» phải lớn hơn hoặc bằng {min} (đang là {v})."),
                );
            }
        }
    }

    /// An optional absolute URL (http or https).
    pub fn opt_url(&mut self, field: &str, value: &mut Option<String>) {
        text::nfc_opt(value);
        if let Some(v) = value {
            let ok = (v.starts_with("https://") || v.starts_with("http://"))
                && v.len() > 8
                && !v.chars().any(char::is_whitespace);
            if !ok {
                self.error(
                    field,
                    "invalid_url",
                    format!("Trường «{field}» phải là một địa chỉ http(s) hợp lệ."),
                );
            }
            self.max_len(field, v, 2000);
        }
    }

    /// An IANA time-zone name.
    pub fn time_zone(&mut self, field: &str, value: &mut String) {
        text::nfc_in_place(value);
        if super::time::parse_tz(value).is_none() {
            self.error(
                field,
                "invalid_time_zone",
                format!(
                    "Múi giờ «{value}» không phải là tên múi giờ IANA (ví dụ Asia/Ho_Chi_Minh)."
                ),
            );
        }
    }

    /// `end` strictly after `start`.
    pub fn ordered<T: PartialOrd>(&mut self, end_field: &str, start: T, end: T) {
        if end <= start {
            self.error(
                end_field,
                "end_before_start",
                "Thời gian kết thúc phải sau thời gian bắt đầu.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error_with_its_field() {
        let mut v = Validator::new();
        let mut name = "   ".to_owned();
        v.name("name", &mut name);
        let mut mail = Some("not-an-address".to_owned());
        v.opt_email("mailbox", &mut mail);
        v.opt_at_least("quota", Some(0), 1);
        let errors = v.into_errors();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "mailbox", "quota"]);
        assert_eq!(errors[0].code, "required");
        assert!(errors[1].message.contains("không hợp lệ"));
    }

    #[test]
    fn accepts_a_demo_mailbox_and_refuses_a_dotless_domain() {
        let mut v = Validator::new();
        v.opt_email("a", &mut Some("vanthu@sogddt-haiphong.example".into()));
        assert!(v.is_empty());
        v.opt_email("b", &mut Some("vanthu@localhost".into()));
        assert_eq!(v.into_errors()[0].field, "b");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let mut v = Validator::new();
        let mut s = "ệ".repeat(NAME_MAX);
        v.name("name", &mut s);
        assert!(v.is_empty(), "300 Vietnamese letters are 300 characters");
    }
}
