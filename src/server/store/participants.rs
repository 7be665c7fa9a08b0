//! The public participant list (参加者一覧) and the privacy choices behind it: anonymous
//! registrations, lists hidden by the organizer, and profiles that keep attended events off.

use super::Store;
use super::db::Sql;
use crate::error::AppError;
use crate::registrations::model::{FrameParticipants, Participant, ParticipantGroup, ParticipantList};

type Result<T> = std::result::Result<T, AppError>;

/// The most people named per group; beyond, they count as "others" (a page stays readable
/// and bounded whatever the waitlist).
pub const NAMED_PER_GROUP: usize = 1_000;

impl Store {
    /// The participant list of a public event (`None`: no such event, or a draft).
    /// Anonymous registrations and everyone of a hidden list are counted, not named.
    pub async fn participants(&self, event_id: i64) -> Result<Option<ParticipantList>> {
        let db = &self.db;
        let head: Option<(String, bool)> = db
            .optional(
                Sql::new(
                    "SELECT title, participants_hidden FROM events WHERE id = $1 \
                     AND status IN ('published', 'cancelled')",
                )
                .bind(event_id),
            )
            .await?;
        let Some((title, hidden)) = head else { return Ok(None) };
        let frames: Vec<(i64, String, bool)> = db
            .all(
                Sql::new(
                    "SELECT id, name, method = 'lottery' AND drawn_at IS NULL FROM frames \
                     WHERE event_id = $1 ORDER BY position, id",
                )
                .bind(event_id),
            )
            .await?;
        let rows: Vec<(i64, String, bool, String, String)> = db
            .all(
                Sql::new(
                    "SELECT r.frame_id, r.status, r.anonymous, u.nickname, u.display_name \
                     FROM registrations r JOIN users u ON u.id = r.user_id \
                     WHERE r.event_id = $1 AND r.status IN ('confirmed', 'waitlisted') \
                     ORDER BY r.frame_id, r.position, r.id",
                )
                .bind(event_id),
            )
            .await?;
        let mut out: Vec<FrameParticipants> = frames
            .iter()
            .map(|(id, name, _)| FrameParticipants {
                frame_id: *id,
                name: name.clone(),
                confirmed: ParticipantGroup::default(),
                waitlisted: ParticipantGroup::default(),
                applicants: ParticipantGroup::default(),
            })
            .collect();
        for (frame_id, status, anonymous, nickname, display_name) in rows {
            let Some(i) = frames.iter().position(|f| f.0 == frame_id) else { continue };
            let undrawn_lottery = frames[i].2;
            let f = &mut out[i];
            let group = match (status.as_str(), undrawn_lottery) {
                ("confirmed", _) => &mut f.confirmed,
                (_, true) => &mut f.applicants,
                _ => &mut f.waitlisted,
            };
            if anonymous || hidden || group.people.len() >= NAMED_PER_GROUP {
                group.others += 1;
            } else {
                group.people.push(Participant { nickname, display_name });
            }
        }
        Ok(Some(ParticipantList { event_id, title, hidden, frames: out }))
    }

    /// Shows or hides my name on the event's participant list (`NotFound`: not registered).
    pub async fn set_registration_anonymous(&self, event_id: i64, user_id: i64, anonymous: bool) -> Result<()> {
        let done = self
            .db
            .execute(
                Sql::new("UPDATE registrations SET anonymous = $1 WHERE event_id = $2 AND user_id = $3")
                    .bind(anonymous)
                    .bind(event_id)
                    .bind(user_id),
            )
            .await?;
        if done == 0 { Err(AppError::NotFound) } else { Ok(()) }
    }

    /// Whether my registration for the event is anonymous to the public.
    pub async fn registration_anonymous(&self, event_id: i64, user_id: i64) -> Result<Option<bool>> {
        let row: Option<(bool,)> = self
            .db
            .optional(
                Sql::new("SELECT anonymous FROM registrations WHERE event_id = $1 AND user_id = $2")
                    .bind(event_id)
                    .bind(user_id),
            )
            .await?;
        Ok(row.map(|(a,)| a))
    }

    /// The organizer shows or hides the event's whole participant list.
    pub async fn set_participants_hidden(&self, event_id: i64, hidden: bool) -> Result<()> {
        self.db
            .execute(Sql::new("UPDATE events SET participants_hidden = $1 WHERE id = $2").bind(hidden).bind(event_id))
            .await?;
        Ok(())
    }

    /// Keeps the events I attend off my profile and the API (or shows them again).
    pub async fn set_hide_attended(&self, user_id: i64, hide: bool) -> Result<()> {
        self.db.execute(Sql::new("UPDATE users SET hide_attended = $1 WHERE id = $2").bind(hide).bind(user_id)).await?;
        Ok(())
    }
}
