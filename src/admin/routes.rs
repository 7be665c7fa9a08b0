//! `GET /admin/events/{id}/attendees.csv`: the attendee list as CSV, UTF-8 with a BOM for
//! Excel by default (`?bom=0` for plain UTF-8). Owners, admins and staff of the group.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::admin::model::{AttendeeList, attendees_csv};
use crate::error::AppError;
use crate::server::http::error_response;
use crate::server::session::USER_ID_KEY;
use crate::server::state::AppState;

#[derive(Deserialize)]
pub struct CsvQuery {
    bom: Option<String>,
}

pub async fn attendees_csv_route(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<CsvQuery>,
) -> Response {
    match csv(&state, &session, id, q.bom.as_deref() != Some("0")).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

async fn csv(state: &AppState, session: &Session, event_id: i64, excel: bool) -> Result<Response, AppError> {
    let user_id: i64 = session.get(USER_ID_KEY).await?.ok_or(AppError::Unauthorized)?;
    let group_id = state.store.event_group_id(event_id).await?.ok_or(AppError::NotFound)?;
    let role = state.store.member_role(group_id, user_id).await?.ok_or(AppError::Forbidden)?;
    let event = state.store.admin_event(event_id).await?.ok_or(AppError::NotFound)?;
    let items = state.store.attendees(event_id).await?;
    let questions: Vec<String> = state.store.fetch_questions(event_id).await?.into_iter().map(|q| q.label).collect();
    let ended = event.span.is_past(crate::time::now());
    let list = AttendeeList { event_id, title: event.form.title, ended, items, role, reconfirm: event.reconfirm };
    let body = attendees_csv(&list, &questions, excel);
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"attendees-{event_id}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
