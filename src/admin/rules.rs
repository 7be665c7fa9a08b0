//! The organizer rules the store enforces, decided in pure code: a group keeps an owner, a
//! drawn lottery keeps its method and draw, and a frame with registrations (or the event's
//! last frame) is not deleted. The store reads what a decision needs inside its write
//! transaction (under the row locks PostgreSQL takes), asks these functions, and writes.

use crate::error::{AppError, Conflict};
use crate::events::model::FrameMethod;

use super::model::Role;

/// Whether `user_id` may take `role` (`None`: leave the group), given every member of the
/// group with their role. Not a member: `NotFound`; the last owner stepping down or
/// leaving: `Conflict::LastOwner`.
pub fn check_member_change(members: &[(i64, Role)], user_id: i64, role: Option<Role>) -> Result<(), AppError> {
    let Some(&(_, current)) = members.iter().find(|(u, _)| *u == user_id) else {
        return Err(AppError::NotFound);
    };
    let owners = members.iter().filter(|(_, r)| *r == Role::Owner).count();
    if current == Role::Owner && role != Some(Role::Owner) && owners <= 1 {
        return Err(AppError::Conflict(Conflict::LastOwner));
    }
    Ok(())
}

/// Whether a frame stored with `method` (`drawn`: its lottery has been drawn) may be given
/// `new_method` and a draw time (`new_has_draw`). A drawn lottery keeps its method and
/// keeps a draw time: `Conflict::LotteryAlreadyDrawn`.
pub fn check_frame_update(
    method: FrameMethod,
    drawn: bool,
    new_method: FrameMethod,
    new_has_draw: bool,
) -> Result<(), AppError> {
    if drawn && (method != new_method || !new_has_draw) {
        return Err(AppError::Conflict(Conflict::LotteryAlreadyDrawn));
    }
    Ok(())
}

/// Whether a frame with `registrations` rows may be deleted from an event with `frames`
/// frames: never with registrations (`Conflict::FrameHasRegistrations`), never the last
/// frame (`Conflict::LastFrame`).
pub fn check_frame_delete(frames: i64, registrations: i64) -> Result<(), AppError> {
    if registrations > 0 {
        return Err(AppError::Conflict(Conflict::FrameHasRegistrations));
    }
    if frames <= 1 {
        return Err(AppError::Conflict(Conflict::LastFrame));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(r: Result<(), AppError>) -> Conflict {
        match r {
            Err(AppError::Conflict(c)) => c,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn the_only_owner_can_neither_step_down_nor_leave() {
        let members = [(1, Role::Owner), (2, Role::Admin)];
        assert_eq!(conflict(check_member_change(&members, 1, Some(Role::Admin))), Conflict::LastOwner);
        assert_eq!(conflict(check_member_change(&members, 1, None)), Conflict::LastOwner);
    }

    #[test]
    fn an_owner_may_step_down_when_another_owner_remains() {
        let members = [(1, Role::Owner), (2, Role::Owner)];
        assert_eq!(check_member_change(&members, 1, Some(Role::Staff)), Ok(()));
        assert_eq!(check_member_change(&members, 2, None), Ok(()));
    }

    #[test]
    fn the_only_owner_may_be_set_to_owner_again() {
        assert_eq!(check_member_change(&[(1, Role::Owner)], 1, Some(Role::Owner)), Ok(()));
    }

    #[test]
    fn admins_and_staff_change_freely_while_an_owner_remains() {
        let members = [(1, Role::Owner), (2, Role::Admin), (3, Role::Staff)];
        assert_eq!(check_member_change(&members, 2, Some(Role::Staff)), Ok(()));
        assert_eq!(check_member_change(&members, 3, Some(Role::Owner)), Ok(()));
        assert_eq!(check_member_change(&members, 3, None), Ok(()));
    }

    #[test]
    fn a_change_to_someone_who_is_not_a_member_is_not_found() {
        assert_eq!(check_member_change(&[(1, Role::Owner)], 9, Some(Role::Staff)), Err(AppError::NotFound));
    }

    #[test]
    fn an_undrawn_frame_changes_method_and_draw_freely() {
        assert_eq!(check_frame_update(FrameMethod::Lottery, false, FrameMethod::FirstCome, false), Ok(()));
        assert_eq!(check_frame_update(FrameMethod::FirstCome, false, FrameMethod::Lottery, true), Ok(()));
    }

    #[test]
    fn a_drawn_lottery_keeps_its_method_and_its_draw_time() {
        let drawn = |m, d| conflict(check_frame_update(FrameMethod::Lottery, true, m, d));
        assert_eq!(drawn(FrameMethod::FirstCome, true), Conflict::LotteryAlreadyDrawn);
        assert_eq!(drawn(FrameMethod::Lottery, false), Conflict::LotteryAlreadyDrawn);
        assert_eq!(check_frame_update(FrameMethod::Lottery, true, FrameMethod::Lottery, true), Ok(()));
    }

    #[test]
    fn a_frame_with_registrations_is_not_deleted_even_beside_others() {
        assert_eq!(conflict(check_frame_delete(3, 1)), Conflict::FrameHasRegistrations);
        assert_eq!(conflict(check_frame_delete(1, 1)), Conflict::FrameHasRegistrations);
    }

    #[test]
    fn the_last_frame_is_not_deleted() {
        assert_eq!(conflict(check_frame_delete(1, 0)), Conflict::LastFrame);
    }

    #[test]
    fn an_empty_frame_beside_others_is_deleted() {
        assert_eq!(check_frame_delete(2, 0), Ok(()));
    }
}
