//! The document templates: compiled into the binary, each overridable by a file of the
//! same name under the `templates_dir` setting (`HOINGHI_TEMPLATES_DIR`). All are compiled
//! at start-up in strict mode and rendered once against a sample that fills every field,
//! so that a broken template or one naming an unknown variable stops start-up with the
//! file, line and reason, never a 500 when a user asks for a document.
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

use super::agenda::AgendaDocument;
use super::letter::LetterDocument;
use super::plan::PlanDocument;

/// A template that cannot be used; the message names the file, the line and the reason.
#[derive(Debug, thiserror::Error)]
#[error("template {file}: {reason}")]
pub struct TemplateError {
    pub file: String,
    pub reason: String,
}

/// What a template renders to: HTML is escaped, text is not. A partial is included by
/// the HTML templates (`{{> nd30_css}}`) and checked through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Html,
    Text,
    HtmlPartial(&'static str),
}

/// One template: its name (the path under `templates/` without `.hbs`), its kind and
/// the source compiled into the binary.
struct Embedded {
    name: &'static str,
    kind: Kind,
    source: &'static str,
}

const EMBEDDED: &[Embedded] = &[
    Embedded {
        name: "documents/nd30.css",
        kind: Kind::HtmlPartial("nd30_css"),
        source: include_str!("../../templates/documents/nd30.css.hbs"),
    },
    Embedded {
        name: "documents/agenda.html",
        kind: Kind::Html,
        source: include_str!("../../templates/documents/agenda.html.hbs"),
    },
    Embedded {
        name: "documents/agenda.txt",
        kind: Kind::Text,
        source: include_str!("../../templates/documents/agenda.txt.hbs"),
    },
    Embedded {
        name: "documents/plan.html",
        kind: Kind::Html,
        source: include_str!("../../templates/documents/plan.html.hbs"),
    },
    Embedded {
        name: "documents/plan.txt",
        kind: Kind::Text,
        source: include_str!("../../templates/documents/plan.txt.hbs"),
    },
    Embedded {
        name: "documents/letter.html",
        kind: Kind::Html,
        source: include_str!("../../templates/documents/letter.html.hbs"),
    },
    Embedded {
        name: "documents/letter.txt",
        kind: Kind::Text,
        source: include_str!("../../templates/documents/letter.txt.hbs"),
    },
    Embedded {
        name: "email/invitation.html",
        kind: Kind::Html,
        source: include_str!("../../templates/email/invitation.html.hbs"),
    },
    Embedded {
        name: "email/invitation.txt",
        kind: Kind::Text,
        source: include_str!("../../templates/email/invitation.txt.hbs"),
    },
    Embedded {
        name: "email/unit_summary.html",
        kind: Kind::Html,
        source: include_str!("../../templates/email/unit_summary.html.hbs"),
    },
    Embedded {
        name: "email/unit_summary.txt",
        kind: Kind::Text,
        source: include_str!("../../templates/email/unit_summary.txt.hbs"),
    },
    Embedded {
        name: "pages/rsvp.html",
        kind: Kind::Html,
        source: include_str!("../../templates/pages/rsvp.html.hbs"),
    },
];

/// The compiled templates; a clone shares them (a fan-out renders on other threads).
#[derive(Clone)]
pub struct Templates(std::sync::Arc<Registries>);

struct Registries {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    /// The templates read from the directory rather than embedded.
    overridden: std::collections::BTreeSet<&'static str>,
}

impl Templates {
    /// Compiles every template, from `dir` where it holds a file of the template's name
    /// (`documents/agenda.html.hbs`), else the embedded one; then renders each against its
    /// sample to catch unknown variables.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut overridden = std::collections::BTreeSet::new();
        for t in EMBEDDED {
            let (file, source) = match dir.map(|d| d.join(format!("{}.hbs", t.name))) {
                Some(path) if path.exists() => {
                    overridden.insert(t.name);
                    let source = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                        file: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                    (path, source)
                }
                _ => (
                    PathBuf::from(format!("templates/{}.hbs (embedded)", t.name)),
                    t.source.to_owned(),
                ),
            };
            let fail = |reason: String| TemplateError {
                file: file.display().to_string(),
                reason,
            };
            let registry = match t.kind {
                Kind::Html => &mut html,
                Kind::Text => &mut text,
                Kind::HtmlPartial(partial) => {
                    html.register_partial(partial, source)
                        .map_err(|e| fail(e.to_string()))?;
                    continue;
                }
            };
            registry
                .register_template_string(t.name, source)
                .map_err(|e| fail(e.to_string()))?;
            let sample = sample(t.name).ok_or_else(|| fail("no sample to check it".into()))?;
            registry
                .render(t.name, &sample)
                .map_err(|e| fail(e.to_string()))?;
        }
        Ok(Self(std::sync::Arc::new(Registries {
            html,
            text,
            overridden,
        })))
    }

    /// Renders `name` (`documents/agenda.html`) with `data`.
    pub fn render(&self, name: &str, data: &impl Serialize) -> Result<String, TemplateError> {
        let registry = self.registry(name);
        registry.render(name, data).map_err(|e| TemplateError {
            file: name.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Whether template `name` is the embedded one (not read from the directory).
    pub fn is_embedded(&self, name: &str) -> bool {
        !self.0.overridden.contains(name)
    }

    /// `value` as template `name` writes a value: HTML-escaped in an `.html` template,
    /// as it is in a text one.
    pub fn escape(&self, name: &str, value: &str) -> String {
        self.registry(name).get_escape_fn()(value)
    }

    fn registry(&self, name: &str) -> &Handlebars<'static> {
        if name.ends_with(".html") {
            &self.0.html
        } else {
            &self.0.text
        }
    }
}

/// A model with every field filled, for the start-up check of the template `name`.
fn sample(name: &str) -> Option<serde_json::Value> {
    let document = match name {
        "documents/agenda.html" | "documents/agenda.txt" => {
            serde_json::to_value(AgendaDocument::sample())
        }
        "documents/plan.html" | "documents/plan.txt" => {
            serde_json::to_value(PlanDocument::sample())
        }
        "documents/letter.html" | "documents/letter.txt" => {
            serde_json::to_value(LetterDocument::sample())
        }
        "email/invitation.html" | "email/invitation.txt" => {
            serde_json::to_value(crate::services::invitations::EmailBody::sample())
        }
        "email/unit_summary.html" | "email/unit_summary.txt" => {
            serde_json::to_value(crate::services::invitations::UnitSummaryBody::sample())
        }
        "pages/rsvp.html" => serde_json::to_value(crate::services::replies::RsvpPage::sample()),
        _ => return None,
    };
    document.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(name: &str, source: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hoinghi-templates-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let path = dir.join(format!("{name}.hbs"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, source).expect("write");
        dir
    }

    #[test]
    fn the_embedded_templates_compile_and_render_their_samples() {
        let t = Templates::load(None).expect("embedded templates");
        let text = t
            .render("documents/agenda.txt", &AgendaDocument::sample())
            .expect("renders");
        assert!(text.contains("CHƯƠNG TRÌNH"), "{text}");
    }

    #[test]
    fn a_template_from_the_directory_is_not_the_embedded_one() {
        let dir = dir_with(
            "email/invitation.txt",
            "{{#if recipient}}Kính gửi {{recipient}}{{/if}}\n",
        );
        let t = Templates::load(Some(&dir)).expect("loads");
        assert!(!t.is_embedded("email/invitation.txt"));
        assert!(t.is_embedded("email/invitation.html"));
        assert!(
            Templates::load(None)
                .expect("embedded")
                .is_embedded("email/invitation.txt")
        );
        assert_eq!(
            t.escape("email/invitation.html", "GD&ĐT \"A\""),
            "GD&amp;ĐT &quot;A&quot;"
        );
        assert_eq!(t.escape("email/invitation.txt", "GD&ĐT"), "GD&ĐT");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_unknown_variable_stops_loading_with_file_and_line() {
        let dir = dir_with(
            "documents/agenda.txt",
            "CHƯƠNG TRÌNH\n{{title}}\n{{venue_of_the_year}}\n",
        );
        let e = Templates::load(Some(&dir)).err().expect("refused");
        assert!(e.file.ends_with("documents/agenda.txt.hbs"), "{e}");
        assert!(e.reason.contains("venue_of_the_year"), "{e}");
        assert!(e.reason.contains("line 3"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_broken_template_stops_loading_with_file_and_line() {
        let dir = dir_with("documents/agenda.html", "<p>\n{{#each rows}}\n{{time}}\n");
        let e = Templates::load(Some(&dir)).err().expect("refused");
        assert!(e.file.ends_with("documents/agenda.html.hbs"), "{e}");
        // The position of the unclosed block: line 4, column 1 (the end of the file).
        assert!(e.reason.contains("agenda.html\":4:1"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_override_replaces_the_embedded_template_and_html_is_escaped() {
        let dir = dir_with("documents/agenda.html", "<h1>{{title}}</h1>");
        let t = Templates::load(Some(&dir)).expect("loads");
        let mut doc = AgendaDocument::sample();
        doc.title = "<script>alert(1)</script>".into();
        let html = t.render("documents/agenda.html", &doc).expect("renders");
        assert_eq!(html, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>");
        let _ = std::fs::remove_dir_all(dir);
    }
}
