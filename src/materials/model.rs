//! Material wire types and their validation (the same checks in the form and the server).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Kinds of material, as connpass names its presentation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    Slide,
    Blog,
    Movie,
    Other,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 4] =
        [MaterialKind::Slide, MaterialKind::Blog, MaterialKind::Movie, MaterialKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::Slide => "slide",
            MaterialKind::Blog => "blog",
            MaterialKind::Movie => "movie",
            MaterialKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MaterialKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One material on the event page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    pub id: i64,
    pub kind: MaterialKind,
    pub title: String,
    pub url: String,
    pub nickname: String,
    pub display_name: String,
    /// The viewer may remove it (they added it, or they organise the event).
    pub removable: bool,
}

/// The materials of an event and whether the viewer may add one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaterialsPanel {
    pub items: Vec<Material>,
    pub can_add: bool,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_URL: usize = 2000;

/// A checked new material: an http(s) URL, a title of 1–200 characters, a known kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialInput {
    pub url: String,
    pub title: String,
    pub kind: MaterialKind,
}

impl MaterialInput {
    pub fn parse(url: &str, title: &str, kind: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = url.trim();
        let title = title.trim();
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let host_ok = url.split("://").nth(1).is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        });
        if url.is_empty() {
            errors.push(FieldError::new("url", "required", "enter the URL of the material"));
        } else if !scheme_ok || !host_ok || url.chars().any(char::is_whitespace) {
            errors.push(FieldError::new("url", "invalid_url", "the URL must start with https:// or http://"));
        } else if url.len() > MAX_URL {
            errors.push(FieldError::new("url", "too_long", "the URL is longer than 2000 characters"));
        }
        if title.is_empty() {
            errors.push(FieldError::new("title", "required", "enter a title"));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new("title", "too_long", "the title is longer than 200 characters"));
        }
        let kind = MaterialKind::parse(kind);
        if kind.is_none() {
            errors.push(FieldError::new("kind", "invalid_choice", "choose slide, blog, movie or other"));
        }
        match kind {
            Some(kind) if errors.is_empty() => Ok(MaterialInput { url: url.into(), title: title.into(), kind }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_slide_link() {
        let m = MaterialInput::parse(" https://speakerdeck.com/x/rust ", " Rust入門 ", "slide").unwrap();
        assert_eq!(m.url, "https://speakerdeck.com/x/rust");
        assert_eq!(m.title, "Rust入門");
        assert_eq!(m.kind, MaterialKind::Slide);
    }

    #[test]
    fn refuses_scripts_blanks_and_unknown_kinds() {
        let e = MaterialInput::parse("javascript:alert(1)", "", "poster").unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "title", "kind"]);
        assert!(MaterialInput::parse("https://", "t", "blog").is_err());
        assert!(MaterialInput::parse("https://a.example/ b", "t", "blog").is_err());
        assert!(MaterialInput::parse("https://a.example/", &"あ".repeat(201), "blog").is_err());
    }
}
