//! Tag wire types.

use serde::{Deserialize, Serialize};

/// Topic tags (JavaScript, AI…) and tools (Docker, GitHub…) are the two search facets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    Topic,
    Tool,
}

impl TagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Topic => "topic",
            TagKind::Tool => "tool",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "topic" => Some(TagKind::Topic),
            "tool" => Some(TagKind::Tool),
            _ => None,
        }
    }
}

/// A tag as attached to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    pub slug: String,
    pub name: String,
    pub kind: TagKind,
}

impl TagRef {
    /// The list filtered by this tag (or tool).
    pub fn search_href(&self) -> String {
        let key = match self.kind {
            TagKind::Topic => "tags",
            TagKind::Tool => "tools",
        };
        format!("/events?{key}={}", urlencoding::encode(&self.name))
    }
}

/// A tag with the number of upcoming events carrying it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub tag: TagRef,
    pub upcoming: i64,
}

/// A tag's own page: `/tags/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDetail {
    pub tag: TagRef,
    pub description: String,
}

impl TagRef {
    /// The tag's own page.
    pub fn page_href(&self) -> String {
        format!("/tags/{}", urlencoding::encode(&self.slug))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_href_escapes_symbols_in_names() {
        let t = TagRef { slug: "csharp".into(), name: "C#".into(), kind: TagKind::Topic };
        assert_eq!(t.search_href(), "/events?tags=C%23");
        let d = TagRef { slug: "docker".into(), name: "Docker".into(), kind: TagKind::Tool };
        assert_eq!(d.search_href(), "/events?tools=Docker");
    }
}
