//! Registration server functions: register, cancel, my registrations, receipts, and the
//! polling fallback for live seats. Each authenticates and authorises itself.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{MyRegistration, MyRegistrationLists, ParticipantList, Receipt, RegistrationPanel, SeatSnapshot};
use crate::error::AppError;

/// `POST /api/registrations/register` — registers the signed-in user for an event:
/// `event_id`, `frame_id` (optional when the event has one frame), `answers[<question id>][]`,
/// `anonymous=true` to stay off the public participant list (counted as one of "others"),
/// `invite` (the secret of the invitation link) for invitation-only events,
/// `also[]` (ranked lottery: the other lottery frames drawn at the same time that the
/// applicant also accepts, best first; empty values are skipped).
/// The answer is the registration: confirmed (参加) or waitlisted (補欠) with its position.
#[server(endpoint = "registrations/register")]
pub async fn register(
    event_id: i64,
    frame_id: Option<i64>,
    also: Option<Vec<String>>,
    answers: Option<HashMap<String, Vec<String>>>,
    anonymous: Option<bool>,
    invite: Option<String>,
) -> Result<MyRegistration, AppError> {
    use crate::messages::{model::MessageKind, notify::notice};
    use crate::server::store::RegisterRequest;

    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        // Only the questions: the registration itself checks the event (and its state) in
        // its write transaction.
        let (questions, context, invitation_only) = state.store.registration_form(event_id).await?;
        if invitation_only {
            crate::events::api::admit(&state, event_id, invite.as_deref()).await?;
        }
        let answers =
            super::model::validate_answers(&questions, &answers.unwrap_or_default()).map_err(AppError::Invalid)?;
        let also = super::model::parse_ranked_frames(&also.unwrap_or_default()).map_err(AppError::Invalid)?;
        let change = match state
            .store
            .register(&RegisterRequest {
                event_id,
                user_id: user.id,
                frame_id,
                also,
                answers,
                anonymous: anonymous.unwrap_or(false),
                now: crate::time::now(),
                guard: state.config.seat_guard,
                // Stored with the registration itself (the outbox).
                notices: crate::server::store::Notices {
                    registrant: context
                        .as_ref()
                        .map(|c| notice(&state, event_id, c, MessageKind::Confirmation, "user")),
                    promoted: context.as_ref().map(|c| notice(&state, event_id, c, MessageKind::Promotion, "promoted")),
                },
            })
            .await
        {
            Ok(change) => {
                let outcome = match &change.registration {
                    Some(r) if r.lottery_pending => "lottery_applied",
                    Some(r) if r.status == super::model::RegStatus::Confirmed => "confirmed",
                    _ => "waitlisted",
                };
                crate::server::metrics::registration(outcome);
                change
            }
            Err(e) => {
                crate::server::metrics::registration(match &e {
                    AppError::Conflict(c) => c.code(),
                    AppError::Invalid(_) => "invalid",
                    AppError::NotFound => "not_found",
                    _ => "error",
                });
                return Err(e);
            }
        };
        state.live.publish(event_id).await;
        change.registration.ok_or(AppError::Internal)
    })
    .await
}

/// `POST /api/registrations/cancel` — cancels the signed-in user's registration; the seat
/// goes to the first waitlisted person of the frame at once.
#[server(endpoint = "registrations/cancel")]
pub async fn cancel(event_id: i64) -> Result<MyRegistration, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        // The promotion message is stored by the cancellation itself (the outbox).
        let outbox = state.config.outbox();
        let change =
            state.store.cancel_registration_notifying(event_id, user.id, crate::time::now(), Some(&outbox)).await?;
        state.live.publish(event_id).await;
        change.registration.ok_or(AppError::Internal)
    })
    .await
}

/// `GET /api/registrations/panel` — the viewer's registration state for an event page
/// (anyone; the online URL only for a confirmed registrant).
#[server(endpoint = "registrations/panel", input = GetUrl)]
pub async fn get_registration_panel(event_id: i64) -> Result<RegistrationPanel, AppError> {
    use super::model::OnlineUrl;
    let state = crate::server::state::app_state()?;
    let user = crate::server::session::current_user().await?;
    let server_now = crate::time::now();
    let Some(user) = user else {
        return Ok(RegistrationPanel {
            signed_in: false,
            registration: None,
            online_url: None,
            anonymous: false,
            server_now,
            reconfirm: None,
        });
    };
    let registration = state.store.my_registration(event_id, user.id).await?;
    let anonymous = match registration {
        Some(_) => state.store.registration_anonymous(event_id, user.id).await?.unwrap_or(false),
        None => false,
    };
    let online_url = match &registration {
        Some(r) => OnlineUrl::for_registrant(r, state.store.online_url(event_id, r.frame_id).await?),
        None => None,
    };
    let reconfirm = match &registration {
        Some(r) if r.status == super::model::RegStatus::Confirmed => {
            state.store.my_reconfirmation(event_id, user.id, server_now).await?
        }
        _ => None,
    };
    Ok(RegistrationPanel { signed_in: true, registration, online_url, anonymous, server_now, reconfirm })
}

/// `POST /api/registrations/reconfirm` — "I'm coming": reconfirms my confirmed registration
/// (`event_id`) before the event's reconfirmation deadline; `409 reconfirmation_closed` after
/// it (or when the event asks for none), `409 not_registered` without a seat.
#[server(endpoint = "registrations/reconfirm")]
pub async fn reconfirm(event_id: i64) -> Result<super::reconfirm::Reconfirmation, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.reconfirm(event_id, user.id, crate::time::now()).await
    })
    .await
}

/// `POST /api/registrations/anonymous` — shows (`anonymous=false`) or hides my name on the
/// event's public participant list (`event_id`); `404` when I have not registered.
#[server(endpoint = "registrations/anonymous")]
pub async fn set_anonymous(event_id: i64, anonymous: bool) -> Result<bool, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.set_registration_anonymous(event_id, user.id, anonymous).await?;
        Ok(anonymous)
    })
    .await
}

/// `GET /api/events/participants?event_id=` — the participant list (参加者一覧) by frame:
/// confirmed, waitlisted (補欠) and lottery applicants, named unless anonymous; counts only
/// when the organizer hides the list. Anyone who may open the event may read it (`invite`
/// for invitation-only events); `404` for drafts.
#[server(endpoint = "events/participants", input = GetUrl)]
pub async fn get_participants(event_id: i64, invite: Option<String>) -> Result<ParticipantList, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        crate::events::api::admit(&state, event_id, invite.as_deref()).await?;
        state.store.participants(event_id).await?.ok_or(AppError::NotFound)
    })
    .await
}

/// `GET /api/registrations/mine` — all my registrations with their events, upcoming and past.
#[server(endpoint = "registrations/mine", input = GetUrl)]
pub async fn my_registrations() -> Result<MyRegistrationLists, AppError> {
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        let all = crate::server::state::app_state()?.store.my_registrations(user.id).await?;
        let now = crate::time::now();
        let (past, upcoming): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r.card.span.is_past(now));
        Ok(MyRegistrationLists { upcoming, past: past.into_iter().rev().collect() })
    })
    .await
}

/// `GET /api/registrations/receipt` — my receipt (受付票) for an event, with its QR code.
/// Only the registrant can see it.
#[server(endpoint = "registrations/receipt", input = GetUrl)]
pub async fn get_receipt(event_id: i64) -> Result<Receipt, AppError> {
    use super::model::RegStatus;
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        let store = &crate::server::state::app_state()?.store;
        let registration = store
            .my_registration(event_id, user.id)
            .await?
            .filter(|r| r.status != RegStatus::Cancelled)
            .ok_or(AppError::NotFound)?;
        let card = store.fetch_card(event_id).await?.ok_or(AppError::NotFound)?;
        let venue = store.attendee_venue(event_id, registration.frame_id).await?.ok_or(AppError::NotFound)?;
        let qr = qrcode::QrCode::new(registration.receipt_code.as_bytes()).map_err(|_| AppError::Internal)?;
        let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
        Ok(Receipt { card, registration, display_name: user.display_name, qr_svg, venue })
    })
    .await
}

/// `GET /api/live/snapshots?ids=1,2` — seat snapshots, for clients whose event stream
/// keeps failing (the polling fallback).
#[server(endpoint = "live/snapshots", input = GetUrl)]
pub async fn seat_snapshots(ids: String) -> Result<Vec<SeatSnapshot>, AppError> {
    crate::error::respond(async {
        let ids = crate::live::routes::parse_ids(&ids).map_err(AppError::BadRequest)?;
        let store = &crate::server::state::app_state()?.store;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = store.seat_snapshot(id).await? {
                out.push(s);
            }
        }
        Ok(out)
    })
    .await
}
