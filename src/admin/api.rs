//! Organizer server functions. Each one authenticates (401), finds the event's group
//! (404) and checks the caller's role in it (403) before touching anything: owners and
//! admins edit; staff see attendees and check them in. Every change is audited.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{
    AdminEvent, AdminGroup, Attendee, AttendeeList, AuditEntry, Dashboard, EventForm, FrameForm, GroupAdmin,
};
use crate::error::AppError;
use crate::events::model::FrameSummary;
#[cfg(feature = "ssr")]
#[cfg(feature = "ssr")]
pub mod ssr {
    use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

    use crate::accounts::model::CurrentUser;
    use crate::admin::model::{EventForm, Role, required_text, validate_event_form};
    use crate::error::{AppError, FieldError};
    use crate::events::model::{SpokenLanguage, VenueKind};
    use crate::server::state::AppState;
    use crate::server::store::{EventFields, NewAudit};

    /// Who is asking, and their role in the group of `event_id`.
    pub struct Access {
        pub user: CurrentUser,
        pub state: AppState,
        pub group_id: i64,
        pub role: Role,
    }

    impl Access {
        /// Owners and admins only.
        pub fn editor(self) -> Result<Self, AppError> {
            if self.role.edits_events() { Ok(self) } else { Err(AppError::Forbidden) }
        }

        /// Records one audit line (who, when, what).
        pub async fn audit(&self, event_id: Option<i64>, action: &str, detail: String) -> Result<(), AppError> {
            self.state
                .store
                .record_audit(&NewAudit {
                    group_id: self.group_id,
                    event_id,
                    user_id: self.user.id,
                    action: action.into(),
                    detail,
                    at: crate::time::now(),
                })
                .await
        }
    }

    /// The caller's access to a group: 401 anonymous, 403 not a member.
    pub async fn group_access(group_id: i64) -> Result<Access, AppError> {
        let (user, state) = crate::server::session::require_user_state().await?;
        let role = state.store.member_role(group_id, user.id).await?.ok_or(AppError::Forbidden)?;
        Ok(Access { user, state, group_id, role })
    }

    /// The caller's access to the group of an event: 401, 404 unknown event, 403.
    pub async fn event_access(event_id: i64) -> Result<Access, AppError> {
        let (user, state) = crate::server::session::require_user_state().await?;
        let group_id = state.store.event_group_id(event_id).await?.ok_or(AppError::NotFound)?;
        let role = state.store.member_role(group_id, user.id).await?.ok_or(AppError::Forbidden)?;
        Ok(Access { user, state, group_id, role })
    }

    fn local_to_utc(
        value: &str,
        field: &str,
        tz: chrono_tz::Tz,
        errors: &mut Vec<FieldError>,
    ) -> Option<DateTime<Utc>> {
        let Ok(local) = NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M") else {
            errors.push(FieldError::new(
                field,
                if value.trim().is_empty() { "required" } else { "datetime" },
                "enter a date and time",
            ));
            return None;
        };
        if let Some(e) = crate::admin::model::year_error(chrono::Datelike::year(&local), field) {
            errors.push(e);
            return None;
        }
        match tz.from_local_datetime(&local).earliest() {
            Some(t) => Some(t.with_timezone(&Utc)),
            None => {
                errors.push(FieldError::new(
                    field,
                    "nonexistent_time",
                    "this time does not exist in the zone (clocks skip it)",
                ));
                None
            }
        }
    }

    /// One local date-time in `zone`, or a field error.
    pub fn local_instant(value: &str, field: &str, zone: &str) -> Result<DateTime<Utc>, AppError> {
        let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
        let mut errors = Vec::new();
        local_to_utc(value, field, tz, &mut errors).ok_or(AppError::Invalid(errors))
    }

    /// The form, checked field by field and resolved (times in the chosen zone).
    pub fn event_fields(f: &EventForm) -> Result<EventFields, AppError> {
        let mut errors = validate_event_form(f);
        let tz: Option<chrono_tz::Tz> = f.time_zone.parse().ok();
        if tz.is_none() {
            errors.push(FieldError::new("time_zone", "invalid_choice", "choose an IANA time zone such as Asia/Tokyo"));
        }
        let tz = tz.unwrap_or(chrono_tz::Asia::Tokyo);
        let position = crate::admin::model::parse_position(&f.lat, &f.lon).flatten();
        let starts = local_to_utc(&f.starts_local, "starts_local", tz, &mut errors);
        let ends = local_to_utc(&f.ends_local, "ends_local", tz, &mut errors);
        if let (Some(s), Some(e)) = (starts, ends) {
            errors.extend(crate::admin::model::span_error(s, e));
        }
        match (starts, ends) {
            (Some(starts_at), Some(ends_at)) if errors.is_empty() => Ok(EventFields {
                title: f.title.trim().to_string(),
                catch: f.catch.trim().to_string(),
                description: f.description.clone(),
                starts_at,
                ends_at,
                time_zone: tz.name().to_string(),
                venue_kind: VenueKind::parse(&f.venue_kind).unwrap_or(VenueKind::Online),
                place: f.place.trim().to_string(),
                address: f.address.trim().to_string(),
                prefecture: Some(f.prefecture.clone()).filter(|p| !p.is_empty()),
                online_url: Some(f.online_url.trim().to_string()).filter(|u| !u.is_empty()),
                language: SpokenLanguage::parse(&f.language).unwrap_or(SpokenLanguage::Ja),
                hashtag: f.hashtag.trim().to_string(),
                tag_ids: Vec::new(),
                lat: position.map(|p| p.0),
                lon: position.map(|p| p.1),
                beginner_ok: f.beginner_ok.is_some(),
                hands_on: f.hands_on.is_some(),
                english: f.title_en.as_ref().map(|title| crate::events::model::EnglishText {
                    title: title.trim().to_string(),
                    catch: f.catch_en.as_deref().unwrap_or("").trim().to_string(),
                    description: f.description_en.clone().unwrap_or_default(),
                }),
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }

    /// [`event_fields`] plus the tags and tools resolved by name, slug or alias; every
    /// problem is reported at once.
    pub async fn checked_event_fields(state: &AppState, f: &EventForm) -> Result<EventFields, AppError> {
        // A list over its bounds is refused before any lookup.
        let (tag_ids, tag_error) = match crate::admin::model::checked_tag_names(&f.tags) {
            Ok(names) => {
                let (tag_ids, unknown) = state.store.resolve_tag_names(&names).await?;
                let tag_error = (!unknown.is_empty())
                    .then(|| FieldError::new("tags", "unknown_tag", &format!("unknown tags: {}", unknown.join(", "))));
                (tag_ids, tag_error)
            }
            Err(e) => (Vec::new(), Some(e)),
        };
        match (event_fields(f), tag_error) {
            (Ok(fields), None) => Ok(EventFields { tag_ids, ..fields }),
            (Ok(_), Some(e)) => Err(AppError::Invalid(vec![e])),
            (Err(AppError::Invalid(mut errors)), e) => {
                errors.extend(e);
                Err(AppError::Invalid(errors))
            }
            (Err(other), _) => Err(other),
        }
    }

    /// A frame's rules as typed, checked against the event (times in its zone).
    pub fn frame_fields(
        f: &crate::admin::model::FrameForm,
        event: &crate::admin::model::AdminEvent,
        need_capacity: bool,
    ) -> Result<crate::server::store::FrameFields, AppError> {
        use crate::events::model::FrameMethod;
        let mut errors = Vec::new();
        let tz: chrono_tz::Tz = event.form.time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
        let name = required_text(&mut errors, "name", &f.name, 100, "enter the frame's name", "name");
        let capacity = f.capacity.trim().parse::<i64>().ok().filter(|c| *c >= 1);
        if need_capacity && capacity.is_none() {
            errors.push(FieldError::new("capacity", "too_small", "capacity must be at least 1"));
        }
        let method = FrameMethod::parse(&f.method);
        if method.is_none() {
            errors.push(FieldError::new("method", "invalid_choice", "choose first_come or lottery"));
        }
        let fee = if f.fee.trim().is_empty() {
            Some(0)
        } else {
            f.fee.trim().parse::<i64>().ok().filter(|x| (0..=10_000_000).contains(x))
        };
        if fee.is_none() {
            errors.push(FieldError::new("fee", "invalid_number", "the fee is a whole number of yen, 0 or more"));
        }
        let mut optional = |value: &str, field: &str| {
            if value.trim().is_empty() { None } else { local_to_utc(value, field, tz, &mut errors) }
        };
        let opens_at = optional(&f.opens_local, "opens_local");
        let closes_at = optional(&f.closes_local, "closes_local");
        let draw_at = optional(&f.draw_local, "draw_local");
        if let (Some(o), Some(c)) = (opens_at, closes_at)
            && c <= o
        {
            errors.push(FieldError::new("closes_local", "close_before_open", "registration must close after it opens"));
        }
        if closes_at.is_some_and(|c| c > event.span.ends_at) {
            errors.push(FieldError::new(
                "closes_local",
                "close_after_end",
                "registration must close before the event ends",
            ));
        }
        if method == Some(FrameMethod::Lottery) {
            match draw_at {
                None if f.draw_local.trim().is_empty() => {
                    errors.push(FieldError::new("draw_local", "required", "a lottery needs a draw time"))
                }
                Some(d) if d > event.span.starts_at => errors.push(FieldError::new(
                    "draw_local",
                    "draw_after_start",
                    "the draw must happen before the event starts",
                )),
                Some(d) if closes_at.is_some_and(|c| d < c) => errors.push(FieldError::new(
                    "draw_local",
                    "draw_before_close",
                    "the draw must come after applications close",
                )),
                _ => {}
            }
        }
        let venue_kind = match f.venue_kind.trim() {
            "" => Some(None),
            code => crate::events::model::VenueKind::parse(code).map(Some),
        };
        if venue_kind.is_none() {
            errors.push(FieldError::new(
                "venue_kind",
                "invalid_choice",
                "choose online, offline, hybrid or the event's",
            ));
        }
        let online_url = f.online_url.trim();
        if !crate::admin::model::empty_or_http(online_url) {
            errors.push(FieldError::new("online_url", "invalid_url", "the URL must start with https:// or http://"));
        }
        crate::admin::model::too_long(&mut errors, "online_url", online_url, crate::admin::model::MAX_URL, "URL");
        crate::admin::model::too_long(&mut errors, "place", f.place.trim(), 200, "venue name");
        crate::admin::model::too_long(&mut errors, "address", f.address.trim(), 300, "address");
        match (method, fee, venue_kind) {
            (Some(method), Some(fee), Some(kind)) if errors.is_empty() => Ok(crate::server::store::FrameFields {
                name: name.to_string(),
                capacity: capacity.unwrap_or(1),
                method,
                fee,
                opens_at,
                closes_at,
                draw_at: if method == FrameMethod::Lottery { draw_at } else { None },
                promotion_frozen: f.frozen.is_some(),
                venue: crate::events::model::FrameVenue {
                    kind,
                    place: f.place.trim().to_string(),
                    address: f.address.trim().to_string(),
                },
                online_url: Some(online_url.to_string()).filter(|u| !u.is_empty()),
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }

    /// True when what registrants plan around changed: time, zone, format or venue.
    pub fn time_or_place_changed(before: &EventForm, after: &EventForm) -> bool {
        [
            (&before.starts_local, &after.starts_local),
            (&before.ends_local, &after.ends_local),
            (&before.time_zone, &after.time_zone),
            (&before.venue_kind, &after.venue_kind),
            (&before.place, &after.place),
            (&before.address, &after.address),
        ]
        .iter()
        .any(|(a, b)| a.trim() != b.trim())
    }

    /// Names of the fields that differ, for the audit log.
    pub fn changed_fields(before: &EventForm, after: &EventForm) -> String {
        let pairs = [
            ("title", &before.title, &after.title),
            ("catch", &before.catch, &after.catch),
            ("description", &before.description, &after.description),
            ("start", &before.starts_local, &after.starts_local),
            ("end", &before.ends_local, &after.ends_local),
            ("time_zone", &before.time_zone, &after.time_zone),
            ("venue_kind", &before.venue_kind, &after.venue_kind),
            ("place", &before.place, &after.place),
            ("address", &before.address, &after.address),
            ("prefecture", &before.prefecture, &after.prefecture),
            ("online_url", &before.online_url, &after.online_url),
            ("language", &before.language, &after.language),
            ("hashtag", &before.hashtag, &after.hashtag),
            ("tags", &before.tags, &after.tags),
            ("lat", &before.lat, &after.lat),
            ("lon", &before.lon, &after.lon),
        ];
        let changed: Vec<&str> = pairs.iter().filter(|(_, a, b)| a.trim() != b.trim()).map(|(n, _, _)| *n).collect();
        if changed.is_empty() { "no change".into() } else { format!("changed: {}", changed.join(", ")) }
    }
}

/// `GET /api/admin/dashboard` — my groups and their events (drafts, upcoming, past).
#[server(endpoint = "admin/dashboard", input = GetUrl)]
pub async fn admin_dashboard() -> Result<Dashboard, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let groups = state.store.admin_groups(user.id).await?;
        let now = crate::time::now();
        let (mut drafts, mut upcoming, mut past) = (Vec::new(), Vec::new(), Vec::new());
        for e in state.store.admin_events(user.id).await? {
            if e.status == crate::events::model::EventStatus::Draft {
                drafts.push(e);
            } else if e.span.is_past(now) {
                past.push(e);
            } else {
                upcoming.push(e);
            }
        }
        past.reverse();
        let site_admin = state.store.is_site_admin(user.id).await?;
        Ok(Dashboard { groups, drafts, upcoming, past, site_admin })
    })
    .await
}

/// `POST /api/admin/groups/create` — any signed-in user creates a group and owns it.
#[server(endpoint = "admin/groups/create")]
pub async fn create_group(
    slug: String,
    title: String,
    description: Option<String>,
    website: Option<String>,
) -> Result<AdminGroup, AppError> {
    crate::error::respond(async {
        use crate::server::store::{NewAudit, NewGroup};
        let (user, state) = crate::server::session::require_user_state().await?;
        let slug = slug.trim().to_lowercase();
        let website = website.unwrap_or_default();
        let mut errors = super::model::validate_group(&slug, &title, &website);
        errors.extend(super::model::validate_group_description(description.as_deref().unwrap_or_default()));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        crate::accounts::limits::check(&state, user.id, crate::accounts::limits::Creation::Group).await?;
        let group = NewGroup {
            slug: slug.clone(),
            title: title.trim().to_string(),
            description: description.unwrap_or_default(),
            website: Some(website.trim().to_string()).filter(|w| !w.is_empty()),
            image_url: None,
            members: vec![(user.id, crate::admin::model::Role::Owner)],
        };
        let id = state.store.insert_groups(&[group]).await.map_err(|e| match e {
            AppError::Conflict(_) => {
                AppError::Invalid(vec![crate::error::FieldError::new("slug", "slug_taken", "this URL name is taken")])
            }
            other => other,
        })?[0];
        state
            .store
            .record_audit(&NewAudit {
                group_id: id,
                event_id: None,
                user_id: user.id,
                action: "group.create".into(),
                detail: format!("created /groups/{slug}"),
                at: crate::time::now(),
            })
            .await?;
        Ok(AdminGroup { id, slug, title: title.trim().to_string(), role: super::model::Role::Owner })
    })
    .await
}

/// `POST /api/admin/events/create` — a draft event in my group (`group_id`, `capacity` of
/// its first frame, and the editor's fields).
#[server(endpoint = "admin/events/create")]
pub async fn create_event(
    group_id: i64,
    capacity: Option<String>,
    #[server(flatten)] form: EventForm,
) -> Result<i64, AppError> {
    crate::error::respond(async {
        use crate::server::store::{NewEvent, NewFrame};
        let access = ssr::group_access(group_id).await?.editor()?;
        let visibility = parse_visibility(&form.visibility)?.unwrap_or_default();
        let capacity = capacity.as_deref().map(str::trim).unwrap_or("").parse::<i64>().ok().filter(|c| *c >= 1);
        let fields = ssr::checked_event_fields(&access.state, &form).await;
        let (fields, capacity) = match (fields, capacity) {
            (Ok(f), Some(c)) => (f, c),
            (fields, capacity) => {
                let mut errors = match fields {
                    Err(AppError::Invalid(e)) => e,
                    Err(other) => return Err(other),
                    Ok(_) => Vec::new(),
                };
                if capacity.is_none() {
                    errors.push(crate::error::FieldError::new("capacity", "too_small", "capacity must be at least 1"));
                }
                return Err(AppError::Invalid(errors));
            }
        };
        crate::accounts::limits::check(&access.state, access.user.id, crate::accounts::limits::Creation::Event).await?;
        let now = crate::time::now();
        let event = NewEvent {
            catch: fields.catch,
            description: fields.description,
            ends_at: fields.ends_at,
            time_zone: fields.time_zone,
            venue_kind: fields.venue_kind,
            place: fields.place,
            address: fields.address,
            prefecture: fields.prefecture,
            online_url: fields.online_url,
            language: fields.language,
            hashtag: fields.hashtag,
            tag_ids: fields.tag_ids,
            lat: fields.lat,
            lon: fields.lon,
            beginner_ok: fields.beginner_ok,
            hands_on: fields.hands_on,
            english: fields.english.unwrap_or_default(),
            status: crate::events::model::EventStatus::Draft,
            created_at: now,
            frames: vec![NewFrame::first_come("一般", capacity)],
            ..NewEvent::minimal(group_id, &fields.title, fields.starts_at)
        };
        let id = access.state.store.insert_events(&[event]).await?[0];
        // Sets `listed` too (the group may be unlisted).
        apply_visibility(&access, id, visibility).await?;
        access
            .audit(Some(id), "event.create", format!("created draft \"{}\" (capacity {capacity})", fields.title))
            .await?;
        Ok(id)
    })
    .await
}

/// `GET /api/admin/events/get?id=` — the event in the editor (owners and admins).
#[server(endpoint = "admin/events/get", input = GetUrl)]
pub async fn get_admin_event(id: i64) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(id).await?.editor()?;
        reload(&access, id).await
    })
    .await
}

/// `POST /api/admin/events/update` — saves the editor's fields (`id` and the fields).
#[server(endpoint = "admin/events/update")]
pub async fn update_event(id: i64, #[server(flatten)] form: EventForm) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(id).await?.editor()?;
        let before = access.state.store.admin_event(id).await?.ok_or(AppError::NotFound)?;
        let visibility = parse_visibility(&form.visibility)?;
        let fields = ssr::checked_event_fields(&access.state, &form).await?;
        // Registrants hear of a new time or place of a published event, in the same write.
        let news = before.status != crate::events::model::EventStatus::Draft
            && ssr::time_or_place_changed(&before.form, &form);
        let outbox = access.state.config.outbox();
        access.state.store.update_event_notifying(id, &fields, crate::time::now(), news.then_some(&outbox)).await?;
        if let Some(v) = visibility {
            apply_visibility(&access, id, v).await?;
        }
        access.audit(Some(id), "event.update", ssr::changed_fields(&before.form, &form)).await?;
        access.state.live.publish(id).await;
        reload(&access, id).await
    })
    .await
}

/// `POST /api/admin/events/status` — `action`: `publish`, `unpublish` (back to draft) or
/// `cancel`.
#[server(endpoint = "admin/events/status")]
pub async fn set_event_status(id: i64, action: String) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        use crate::events::model::EventStatus;
        let access = ssr::event_access(id).await?.editor()?;
        let status = match action.as_str() {
            "publish" => EventStatus::Published,
            "unpublish" => EventStatus::Draft,
            "cancel" => EventStatus::Cancelled,
            _ => return Err(AppError::BadRequest("action must be publish, unpublish or cancel".into())),
        };
        let was = reload(&access, id).await?.status;
        // Cancelling tells everyone registered, in the same write.
        access.state.store.set_event_status(id, status, crate::time::now(), &access.state.config.outbox()).await?;
        access.audit(Some(id), "event.status", format!("status set to {}", status.as_str())).await?;
        access.state.live.publish(id).await;
        // Followers hear only of events the group lists.
        if status == EventStatus::Published && was == EventStatus::Draft && access.state.store.event_listed(id).await? {
            crate::messages::notify::notify_followers(&access.state, id).await;
        }
        reload(&access, id).await
    })
    .await
}

/// `POST /api/admin/frames/capacity` — sets a frame's capacity (`event_id`, `frame_id`,
/// `capacity`): raising promotes the waitlist at once; lowering below the confirmed count
/// is refused with `capacity_below_confirmed:<n>`.
#[server(endpoint = "admin/frames/capacity")]
pub async fn set_frame_capacity(event_id: i64, frame_id: i64, capacity: i64) -> Result<Vec<FrameSummary>, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        let event = access.state.store.admin_event(event_id).await?.ok_or(AppError::NotFound)?;
        let before = event.frames.iter().find(|f| f.id == frame_id).ok_or(AppError::NotFound)?.seats.limit;
        let outbox = access.state.config.outbox();
        let change = access
            .state
            .store
            .set_capacity_notifying(event_id, frame_id, capacity, crate::time::now(), Some(&outbox))
            .await?;
        access
            .audit(
                Some(event_id),
                "frame.capacity",
                format!(
                    "frame {frame_id}: capacity {before} → {capacity}; {} promoted",
                    change.promoted_user_ids.len()
                ),
            )
            .await?;
        access.state.live.publish(event_id).await;
        Ok(access.state.store.admin_event(event_id).await?.map(|e| e.frames).unwrap_or_default())
    })
    .await
}

/// `GET /api/admin/events/attendees?event_id=` — registrants with status, frame, answers,
/// times (owners, admins and staff).
#[server(endpoint = "admin/events/attendees", input = GetUrl)]
pub async fn get_attendees(event_id: i64) -> Result<AttendeeList, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?;
        attendee_list(&access, event_id).await
    })
    .await
}

#[cfg(feature = "ssr")]
pub(crate) async fn attendee_list(access: &ssr::Access, event_id: i64) -> Result<AttendeeList, AppError> {
    let event = access.state.store.admin_event(event_id).await?.ok_or(AppError::NotFound)?;
    let items = access.state.store.attendees(event_id).await?;
    let ended = event.span.is_past(crate::time::now());
    Ok(AttendeeList { event_id, title: event.form.title, ended, items, role: access.role, reconfirm: event.reconfirm })
}

/// `POST /api/admin/events/checkin` — checks in by receipt code (`event_id`, `code`);
/// repeating it keeps the first time (owners, admins and staff).
#[server(endpoint = "admin/events/checkin")]
pub async fn check_in(event_id: i64, code: String) -> Result<Attendee, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?;
        let attendee = access.state.store.check_in(event_id, &code, crate::time::now()).await?.ok_or_else(|| {
            AppError::Invalid(vec![crate::error::FieldError::new(
                "code",
                "unknown_code",
                "no confirmed registrant has this receipt code",
            )])
        })?;
        access.audit(Some(event_id), "attendee.check_in", format!("checked in @{}", attendee.nickname)).await?;
        Ok(attendee)
    })
    .await
}

/// `GET /api/admin/events/audit?event_id=` — the event's audit log, newest first (owners
/// and admins).
#[server(endpoint = "admin/events/audit", input = GetUrl)]
pub async fn get_audit_log(event_id: i64) -> Result<Vec<AuditEntry>, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        access.state.store.audit_log(access.group_id, Some(event_id)).await
    })
    .await
}

/// `POST /api/admin/preview` — Markdown rendered and sanitised exactly as the public page
/// does (signed-in users).
#[server(endpoint = "admin/preview")]
pub async fn preview_markdown(markdown: String) -> Result<String, AppError> {
    crate::error::respond(async {
        crate::server::session::require_user().await?;
        if markdown.chars().count() > 50_000 {
            return Err(AppError::BadRequest("the description is longer than 50,000 characters".into()));
        }
        Ok(crate::server::markdown::to_safe_html(&markdown))
    })
    .await
}

/// The editor's event, with my role, after a change.
#[cfg(feature = "ssr")]
pub(crate) async fn reload(access: &ssr::Access, id: i64) -> Result<AdminEvent, AppError> {
    let mut event = access.state.store.admin_event(id).await?.ok_or(AppError::NotFound)?;
    event.role = access.role;
    event.invite_url = event.invite_url.map(|path| format!("{}{path}", access.state.config.public_url));
    Ok(event)
}

/// The editor's `visibility` field: `None` when empty (keep; public for a new event).
#[cfg(feature = "ssr")]
fn parse_visibility(raw: &str) -> Result<Option<crate::events::model::Visibility>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        v => crate::events::model::Visibility::parse(v).map(Some).ok_or_else(|| {
            AppError::Invalid(vec![crate::error::FieldError::new(
                "visibility",
                "invalid_choice",
                "choose public, unlisted or invitation",
            )])
        }),
    }
}

/// A fresh invitation secret: 24 random bytes in hex.
#[cfg(feature = "ssr")]
fn invite_secret() -> String {
    crate::server::secret::new_hex(24)
}

/// Sets the event's visibility (an invitation-only event gets a secret if it has none),
/// logging a change.
#[cfg(feature = "ssr")]
async fn apply_visibility(
    access: &ssr::Access,
    id: i64,
    visibility: crate::events::model::Visibility,
) -> Result<(), AppError> {
    use crate::events::model::Visibility;
    let store = &access.state.store;
    let gate = store.event_gate(id).await?.ok_or(AppError::NotFound)?;
    let secret = (visibility == Visibility::Invitation && gate.invite_token.is_none()).then(invite_secret);
    store.set_event_visibility(id, visibility, secret.as_deref()).await?;
    if gate.visibility != visibility {
        access.audit(Some(id), "event.visibility", format!("visibility set to {}", visibility.as_str())).await?;
    }
    Ok(())
}

/// `POST /api/admin/events/invite/regenerate` — a new invitation link for an
/// invitation-only event (`id`); the previous link stops working at once.
#[server(endpoint = "admin/events/invite/regenerate")]
pub async fn regenerate_invite(id: i64) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        use crate::events::model::Visibility;
        let access = ssr::event_access(id).await?.editor()?;
        let gate = access.state.store.event_gate(id).await?.ok_or(AppError::NotFound)?;
        if gate.visibility != Visibility::Invitation {
            return Err(AppError::Conflict(crate::error::Conflict::NotInvitationOnly));
        }
        access.state.store.set_event_visibility(id, Visibility::Invitation, Some(&invite_secret())).await?;
        access.audit(Some(id), "event.invite", "invitation link replaced".into()).await?;
        reload(&access, id).await
    })
    .await
}

/// `POST /api/admin/groups/unlisted` — makes my group unlisted (`unlisted=true`: its page
/// and events stay reachable by link but leave every list, search, feed and the API) or
/// listed again (`group_id`). Owners and admins.
#[server(endpoint = "admin/groups/unlisted")]
pub async fn set_group_unlisted(group_id: i64, unlisted: bool) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?.editor()?;
        access.state.store.set_group_unlisted(group_id, unlisted).await?;
        let what = if unlisted { "unlisted" } else { "listed" };
        access.audit(None, "group.visibility", format!("group {what}")).await?;
        group_admin(&access).await
    })
    .await
}

/// `POST /api/admin/groups/embed` — the sites allowed to frame the group's widget
/// (`group_id`, `embed_origins`: origins such as `https://example.com`, separated by spaces;
/// empty or `*` for any site). Owners and admins.
#[server(endpoint = "admin/groups/embed")]
pub async fn set_embed_origins(group_id: i64, embed_origins: String) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?.editor()?;
        let origins =
            crate::groups::model::parse_embed_origins(&embed_origins).map_err(|e| AppError::Invalid(vec![e]))?;
        access.state.store.set_embed_origins(group_id, origins.as_deref()).await?;
        let what = origins.as_deref().unwrap_or("any site");
        access.audit(None, "group.embed", format!("widget may be framed by: {what}")).await?;
        group_admin(&access).await
    })
    .await
}

/// `POST /api/admin/frames/add` — a new frame (`event_id`, `name`, `capacity`, `method`:
/// `first_come`|`lottery`, `fee`, `opens_local`, `closes_local`, `draw_local` as local
/// `YYYY-MM-DDTHH:MM` in the event's zone, optional `frozen`; for hybrid events the frame's
/// own `venue_kind`, `place`, `address` and `online_url`, empty for the event's).
#[server(endpoint = "admin/frames/add")]
pub async fn add_frame(event_id: i64, #[server(flatten)] frame: FrameForm) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        let event = reload(&access, event_id).await?;
        let fields = ssr::frame_fields(&frame, &event, true)?;
        let frame_id = access.state.store.add_frame(event_id, &fields).await?;
        access
            .audit(
                Some(event_id),
                "frame.add",
                format!("frame {frame_id} \"{}\": {} seats, {}", fields.name, fields.capacity, fields.method.as_str()),
            )
            .await?;
        access.state.live.publish(event_id).await;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/frames/update` — a frame's rules (`event_id`, `frame_id`, and the
/// fields of `add`, without `capacity`).
#[server(endpoint = "admin/frames/update")]
pub async fn update_frame(
    event_id: i64,
    frame_id: i64,
    #[server(flatten)] frame: FrameForm,
) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        let event = reload(&access, event_id).await?;
        let fields = ssr::frame_fields(&frame, &event, false)?;
        access.state.store.update_frame(event_id, frame_id, &fields).await?;
        access
            .audit(
                Some(event_id),
                "frame.update",
                format!(
                    "frame {frame_id} \"{}\": {}, fee {}, promotion {}",
                    fields.name,
                    fields.method.as_str(),
                    fields.fee,
                    if fields.promotion_frozen { "frozen" } else { "automatic" }
                ),
            )
            .await?;
        access.state.live.publish(event_id).await;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/frames/delete` — removes a frame nobody registered to (`event_id`,
/// `frame_id`); `409 frame_has_registrations` / `last_frame` otherwise.
#[server(endpoint = "admin/frames/delete")]
pub async fn delete_frame(event_id: i64, frame_id: i64) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        access.state.store.delete_frame(event_id, frame_id).await?;
        access.audit(Some(event_id), "frame.delete", format!("frame {frame_id} deleted")).await?;
        access.state.live.publish(event_id).await;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/questions/add` — a registration question (`event_id`, `kind`:
/// `text`|`single`|`multiple`, `label`, `options` one per line for choices, optional
/// `required`).
#[server(endpoint = "admin/questions/add")]
pub async fn add_question(
    event_id: i64,
    kind: String,
    label: String,
    options: Option<String>,
    required: Option<String>,
) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        use super::model::required_text;
        use crate::error::FieldError;
        use crate::registrations::model::QuestionKind;
        let access = ssr::event_access(event_id).await?.editor()?;
        let mut errors = Vec::new();
        let kind_parsed = QuestionKind::parse(&kind);
        if kind_parsed.is_none() {
            errors.push(FieldError::new("kind", "invalid_choice", "choose text, single or multiple"));
        }
        let label = required_text(&mut errors, "label", &label, 300, "enter the question", "question").to_string();
        let choices = crate::admin::model::checked_choices(&options.unwrap_or_default()).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        let needs_choices = matches!(kind_parsed, Some(QuestionKind::Single | QuestionKind::Multiple));
        if needs_choices && choices.len() < 2 && errors.iter().all(|e| e.field != "options") {
            errors.push(FieldError::new("options", "too_few_choices", "give at least two choices, one per line"));
        }
        let Some(kind) = kind_parsed.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let question = crate::server::store::NewQuestion {
            kind,
            label: label.clone(),
            options: if needs_choices { choices } else { Vec::new() },
            required: required.is_some(),
        };
        let id = access.state.store.add_question(event_id, &question).await?;
        access.audit(Some(event_id), "question.add", format!("question {id} \"{label}\"")).await?;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/questions/delete` — removes a question and its answers (`event_id`,
/// `question_id`).
#[server(endpoint = "admin/questions/delete")]
pub async fn delete_question(event_id: i64, question_id: i64) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        access.state.store.delete_question(event_id, question_id).await?;
        access.audit(Some(event_id), "question.delete", format!("question {question_id} deleted")).await?;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/registrations/move` — moves a registrant by hand (`event_id`,
/// `registration_id`, `to`: `confirmed`|`waitlisted`); confirming needs a free seat
/// (`409 frame_full`). Owners and admins.
#[server(endpoint = "admin/registrations/move")]
pub async fn move_registration(event_id: i64, registration_id: i64, to: String) -> Result<AttendeeList, AppError> {
    crate::error::respond(async {
        use crate::registrations::model::RegStatus;
        let access = ssr::event_access(event_id).await?.editor()?;
        let to_status = match to.as_str() {
            "confirmed" => RegStatus::Confirmed,
            "waitlisted" => RegStatus::Waitlisted,
            _ => return Err(AppError::BadRequest("to must be confirmed or waitlisted".into())),
        };
        let outbox = access.state.config.outbox();
        let change = access
            .state
            .store
            .move_registration(event_id, registration_id, to_status, crate::time::now(), &outbox)
            .await?;
        access
            .audit(
                Some(event_id),
                "attendee.move",
                format!("registration {registration_id} moved to {to}; {} promoted", change.promoted_user_ids.len()),
            )
            .await?;
        access.state.live.publish(event_id).await;
        attendee_list(&access, event_id).await
    })
    .await
}

/// `GET /api/admin/groups/get?group_id=` — members and the group's change log (owners and
/// admins).
#[server(endpoint = "admin/groups/get", input = GetUrl)]
pub async fn get_group_admin(group_id: i64) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?.editor()?;
        group_admin(&access).await
    })
    .await
}

#[cfg(feature = "ssr")]
async fn group_admin(access: &ssr::Access) -> Result<GroupAdmin, AppError> {
    let store = &access.state.store;
    let group = store
        .admin_groups(access.user.id)
        .await?
        .into_iter()
        .find(|g| g.id == access.group_id)
        .ok_or(AppError::Forbidden)?;
    let embed_snippet = crate::groups::embed::snippet(&access.state.config.public_url, &group.slug, &group.title);
    Ok(GroupAdmin {
        group,
        members: store.members(access.group_id).await?,
        invitations: store.group_invitations(access.group_id).await?,
        unlisted: store.group_unlisted(access.group_id).await?,
        embed_origins: store.group_embed_origins(access.group_id).await?.unwrap_or_default(),
        embed_snippet,
        log: store.audit_log(access.group_id, None).await?,
        me: access.user.id,
    })
}

/// `POST /api/admin/events/participants` — shows or hides the event's public participant
/// list (`id`, `hidden`): hidden, the public sees counts only. Owners and admins.
#[server(endpoint = "admin/events/participants")]
pub async fn set_participants_hidden(id: i64, hidden: bool) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(id).await?.editor()?;
        access.state.store.set_participants_hidden(id, hidden).await?;
        let what = if hidden { "hidden" } else { "shown" };
        access.audit(Some(id), "event.participants", format!("participant list {what}")).await?;
        reload(&access, id).await
    })
    .await
}

/// `POST /api/admin/groups/members/invite` — invites an account by nickname (`group_id`,
/// `nickname`, `role`) to join; it becomes a member when that person accepts on /me.
/// Admins invite admins and staff; owners also owners. Inviting again changes the role.
#[server(endpoint = "admin/groups/members/invite")]
pub async fn invite_member(group_id: i64, nickname: String, role: String) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        use crate::error::FieldError;
        let access = ssr::group_access(group_id).await?.editor()?;
        let role = super::model::Role::parse(&role).ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new("role", "invalid_choice", "choose owner, admin or staff")])
        })?;
        if !access.role.manages(role) {
            return Err(AppError::Forbidden);
        }
        let not_found =
            || AppError::Invalid(vec![FieldError::new("nickname", "unknown_user", "no account has this nickname")]);
        // Nicknames only (they are public, on profile pages): an e-mail address typed here
        // would tell the organizer whether it has an account, and would land in the log.
        let nickname = nickname.trim().trim_start_matches('@').to_lowercase();
        if nickname.is_empty() || nickname.contains('@') {
            return Err(not_found());
        }
        let user_id = access.state.store.user_id_by_nickname(&nickname).await?.ok_or_else(not_found)?;
        let store = &access.state.store;
        store.invite_member(group_id, user_id, role, access.user.id, crate::time::now()).await.map_err(
            |e| match e {
                AppError::Conflict(_) => {
                    AppError::Invalid(vec![FieldError::new("nickname", "already_member", "already a member")])
                }
                other => other,
            },
        )?;
        access.audit(None, "member.invite", format!("invited @{nickname} as {}", role.as_str())).await?;
        group_admin(&access).await
    })
    .await
}

/// `POST /api/admin/groups/invitations/revoke` — withdraws an open invitation (`group_id`,
/// `user_id`), within the same roles as inviting.
#[server(endpoint = "admin/groups/invitations/revoke")]
pub async fn revoke_invitation(group_id: i64, user_id: i64) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?.editor()?;
        let role = access.state.store.invitation_role(group_id, user_id).await?.ok_or(AppError::NotFound)?;
        if !access.role.manages(role) {
            return Err(AppError::Forbidden);
        }
        access.state.store.revoke_invitation(group_id, user_id).await?;
        access.audit(None, "member.uninvite", format!("invitation of user {user_id} withdrawn")).await?;
        group_admin(&access).await
    })
    .await
}

/// `GET /api/me/invitations` — the groups inviting me, with the role offered.
#[server(endpoint = "me/invitations", input = GetUrl)]
pub async fn my_invitations() -> Result<Vec<AdminGroup>, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.my_invitations(user.id).await
    })
    .await
}

/// `POST /api/me/invitations/answer` — accepts (`accept=true`: I become a member with the
/// role offered) or declines an invitation (`group_id`); `404` when there is none.
#[server(endpoint = "me/invitations/answer")]
pub async fn answer_invitation(group_id: i64, accept: bool) -> Result<Vec<AdminGroup>, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        use crate::server::store::NewAudit;
        let role = state.store.answer_invitation(group_id, user.id, accept, crate::time::now()).await?;
        let (action, detail) = if accept {
            ("member.join", format!("@{} joined as {}", user.nickname, role.as_str()))
        } else {
            ("member.decline", format!("@{} declined the invitation", user.nickname))
        };
        state
            .store
            .record_audit(&NewAudit {
                group_id,
                event_id: None,
                user_id: user.id,
                action: action.into(),
                detail,
                at: crate::time::now(),
            })
            .await?;
        state.store.my_invitations(user.id).await
    })
    .await
}

/// `POST /api/admin/groups/members/role` — changes a member's role (`group_id`, `user_id`,
/// `role`), or removes them with `role=remove`. Admins manage admins and staff; owners
/// everyone; the last owner stays (`409 last_owner`).
#[server(endpoint = "admin/groups/members/role")]
pub async fn set_member_role(group_id: i64, user_id: i64, role: String) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?.editor()?;
        let target = access.state.store.member_role(group_id, user_id).await?.ok_or(AppError::NotFound)?;
        let new = match role.as_str() {
            "remove" => None,
            other => Some(super::model::Role::parse(other).ok_or_else(|| AppError::BadRequest("unknown role".into()))?),
        };
        if !access.role.manages(target) || new.is_some_and(|r| !access.role.manages(r)) {
            return Err(AppError::Forbidden);
        }
        access.state.store.set_member(group_id, user_id, new).await?;
        let detail = match new {
            Some(r) => format!("user {user_id}: {} → {}", target.as_str(), r.as_str()),
            None => format!("user {user_id} ({}) removed", target.as_str()),
        };
        access.audit(None, "member.role", detail).await?;
        group_admin(&access).await
    })
    .await
}

/// `POST /api/admin/groups/leave` — leaves a group (`group_id`); the last owner cannot
/// (`409 last_owner`: transfer ownership first).
#[server(endpoint = "admin/groups/leave")]
pub async fn leave_group(group_id: i64) -> Result<(), AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?;
        access.state.store.set_member(group_id, access.user.id, None).await?;
        access.audit(None, "member.leave", format!("@{} left", access.user.nickname)).await
    })
    .await
}

/// `POST /api/admin/groups/transfer` — the owner hands ownership to a member (`group_id`,
/// `user_id`) and becomes an admin.
#[server(endpoint = "admin/groups/transfer")]
pub async fn transfer_ownership(group_id: i64, user_id: i64) -> Result<GroupAdmin, AppError> {
    crate::error::respond(async {
        let access = ssr::group_access(group_id).await?;
        if access.role != super::model::Role::Owner {
            return Err(AppError::Forbidden);
        }
        access.state.store.transfer_ownership(group_id, access.user.id, user_id).await?;
        access.audit(None, "member.transfer", format!("ownership to user {user_id}")).await?;
        // The caller is an admin now, so still allowed to see the page.
        let access = ssr::group_access(group_id).await?;
        group_admin(&access).await
    })
    .await
}

/// `POST /api/admin/events/duplicate` — copies the event as a new draft on another date
/// (`id`, `starts_local` in the event's zone); returns the new id.
#[server(endpoint = "admin/events/duplicate")]
pub async fn duplicate_event(id: i64, starts_local: String) -> Result<i64, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(id).await?.editor()?;
        let event = reload(&access, id).await?;
        let starts_at = ssr::local_instant(&starts_local, "starts_local", &event.form.time_zone)?;
        crate::accounts::limits::check(&access.state, access.user.id, crate::accounts::limits::Creation::Event).await?;
        let new_id = access.state.store.duplicate_event(id, starts_at, crate::time::now()).await?;
        // The copy keeps who can find it (with a new invitation secret of its own).
        apply_visibility(&access, new_id, event.visibility()).await?;
        access.audit(Some(new_id), "event.duplicate", format!("copied from event {id} to {starts_local}")).await?;
        Ok(new_id)
    })
    .await
}

/// `POST /api/admin/speakers/add` — a speaker (`event_id`, `name`, optional `affiliation`,
/// `bio`, `talk_title`, and `nickname` to link their account so they may attach materials).
#[server(endpoint = "admin/speakers/add")]
pub async fn add_speaker(
    event_id: i64,
    name: String,
    affiliation: Option<String>,
    bio: Option<String>,
    talk_title: Option<String>,
    nickname: Option<String>,
) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        use super::model::required_text;
        use crate::error::FieldError;
        let access = ssr::event_access(event_id).await?.editor()?;
        let mut errors = Vec::new();
        let name =
            required_text(&mut errors, "speaker_name", &name, 100, "enter the speaker's name", "name").to_string();
        let nickname = nickname.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty());
        let user_id = match &nickname {
            // By nickname only: an e-mail here would tell who has an account.
            Some(n) => match access.state.store.user_id_by_nickname(n.trim_start_matches('@')).await? {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new("speaker_nickname", "unknown_user", "no account has this nickname"));
                    None
                }
            },
            None => None,
        };
        let text = |v: Option<String>, max: usize, field: &str, errors: &mut Vec<FieldError>| {
            let v = v.unwrap_or_default().trim().to_string();
            if v.chars().count() > max {
                errors.push(FieldError::new(field, "too_long", "too long"));
            }
            v
        };
        let affiliation = text(affiliation, 200, "speaker_affiliation", &mut errors);
        let bio = text(bio, 5_000, "speaker_bio", &mut errors);
        let talk_title = text(talk_title, 300, "speaker_talk_title", &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let speaker = crate::server::store::NewSpeaker { name: name.clone(), affiliation, bio, talk_title, user_id };
        let id = access.state.store.add_speaker(event_id, &speaker).await?;
        access.audit(Some(event_id), "speaker.add", format!("speaker {id} \"{name}\"")).await?;
        reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/speakers/delete` — removes a speaker (`event_id`, `speaker_id`).
#[server(endpoint = "admin/speakers/delete")]
pub async fn delete_speaker(event_id: i64, speaker_id: i64) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        let access = ssr::event_access(event_id).await?.editor()?;
        access.state.store.delete_speaker(event_id, speaker_id).await?;
        access.audit(Some(event_id), "speaker.delete", format!("speaker {speaker_id} deleted")).await?;
        reload(&access, event_id).await
    })
    .await
}
