//! Calendars (`.ics`), Atom feeds, the sitemap and robots.txt: everything a calendar app,
//! a feed reader or a search engine fetches. Server only.

pub mod atom;
pub mod ics;
pub mod routes;
