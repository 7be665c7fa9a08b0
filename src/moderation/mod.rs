//! Moderation: anyone signed in reports an event, group or account; site administrators
//! (`tsudoi admin grant NICK`) hide or restore events and groups and suspend accounts from
//! `/admin/moderation`, each step in the site's audit log.

pub mod api;
pub mod model;
pub mod pages;
