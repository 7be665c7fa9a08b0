//! The ranked lottery (順位付き抽選): an applicant to a lottery may rank other lottery frames
//! of the event that are drawn at the same time ("in person first, online second"). The
//! frames of one draw are drawn together: the applications are shuffled once with the seed
//! (`drawn_order`, so anyone holding the seed re-derives the order), then, in that order,
//! each applicant gets the first frame of their ranking that still has a free seat, or none.
//!
//! This is serial dictatorship over a random order (random priority). It never fills a frame
//! beyond its free seats, never gives anyone a frame they did not rank, and leaves no two
//! applicants who would both rather swap: of any two, the one drawn earlier could still
//! choose the other's frame (its seat was free then, since it was given later) and did not,
//! so they prefer their own. It wastes no seat: nobody goes without a frame while a frame they
//! ranked still has a free seat. Applications with one frame are the plain lottery.

use std::collections::HashMap;

use crate::error::{AppError, FieldError};
use crate::registrations::rules::FrameGate;

/// One application: its registration id and the frames it accepts, best first (the frame
/// applied to first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: i64,
    pub choices: Vec<i64>,
}

/// What the draw gave one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub id: i64,
    /// The frame won, `None` when every ranked frame was full by this applicant's turn.
    pub frame_id: Option<i64>,
    /// Which choice was won (1: the first).
    pub choice: Option<usize>,
}

/// The seats a draw gives in a frame: `capacity - accepted` (seats already given count; a
/// full or shrunk frame gives none).
pub fn free_seats(capacity: i64, accepted: i64) -> i64 {
    (capacity - accepted).max(0)
}

/// Draws the applications into the frames' free seats (`free`: frame id → seats left). The
/// order is `drawn_order` of the application ids, ascending, with `seed`; the placements
/// come in that order.
pub fn draw_ranked(applications: &[Application], free: &HashMap<i64, i64>, seed: u64) -> Vec<Placement> {
    let mut ids: Vec<i64> = applications.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let by_id: HashMap<i64, &Application> = applications.iter().map(|a| (a.id, a)).collect();
    place_in_order(&crate::registrations::rules::drawn_order(&ids, seed), &by_id, free)
}

/// Serial dictatorship over `order`.
fn place_in_order(order: &[i64], by_id: &HashMap<i64, &Application>, free: &HashMap<i64, i64>) -> Vec<Placement> {
    let mut left = free.clone();
    order
        .iter()
        .map(|id| {
            let choices = by_id.get(id).map(|a| a.choices.as_slice()).unwrap_or_default();
            let won = choices.iter().enumerate().find(|(_, f)| left.get(f).is_some_and(|n| *n > 0));
            match won {
                Some((i, frame)) => {
                    if let Some(n) = left.get_mut(frame) {
                        *n -= 1;
                    }
                    Placement { id: *id, frame_id: Some(*frame), choice: Some(i + 1) }
                }
                None => Placement { id: *id, frame_id: None, choice: None },
            }
        })
        .collect()
}

/// The frames an application ranks, best first: `first` (the frame applied to) then `also`.
/// Another frame may be ranked only beside a lottery not drawn yet, and only a lottery frame
/// of the same event drawn at the same time, once. Refusals are field errors on `also`.
pub fn ranked_choices(frames: &[FrameGate], first: &FrameGate, also: &[i64]) -> Result<Vec<i64>, AppError> {
    let refuse = |code: &str, message: &str| AppError::Invalid(vec![FieldError::new("also", code, message)]);
    let mut choices = vec![first.id];
    if also.is_empty() {
        return Ok(choices);
    }
    if !first.lottery_pending() {
        return Err(refuse("not_a_lottery", "Other frames can be ranked only when applying to a lottery."));
    }
    for id in also {
        let frame = frames
            .iter()
            .find(|f| f.id == *id)
            .ok_or_else(|| refuse("unknown_frame", "This frame does not belong to the event."))?;
        if !frame.lottery_pending() || frame.draw_at != first.draw_at {
            return Err(refuse(
                "not_drawn_together",
                "Only lottery frames drawn at the same time as the first choice can be ranked.",
            ));
        }
        if choices.contains(id) {
            return Err(refuse("duplicate", "Each frame can be ranked once."));
        }
        choices.push(*id);
    }
    Ok(choices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::FrameMethod;
    use proptest::prelude::*;

    fn lottery(id: i64, draw_at: Option<i64>) -> FrameGate {
        FrameGate { id, method: FrameMethod::Lottery, opens_at: None, closes_at: None, draw_at, drawn_at: None }
    }

    fn field_code(e: AppError) -> String {
        match e {
            AppError::Invalid(errors) => format!("{}:{}", errors[0].field, errors[0].code),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn ranking_names_lottery_frames_drawn_together_once_each() {
        let frames = [lottery(1, Some(100)), lottery(2, Some(100)), lottery(3, Some(200))];
        assert_eq!(ranked_choices(&frames, &frames[0], &[]).unwrap(), [1]);
        assert_eq!(ranked_choices(&frames, &frames[0], &[2]).unwrap(), [1, 2]);
        assert_eq!(field_code(ranked_choices(&frames, &frames[0], &[3]).unwrap_err()), "also:not_drawn_together");
        assert_eq!(field_code(ranked_choices(&frames, &frames[0], &[1]).unwrap_err()), "also:duplicate");
        assert_eq!(field_code(ranked_choices(&frames, &frames[0], &[2, 2]).unwrap_err()), "also:duplicate");
        assert_eq!(field_code(ranked_choices(&frames, &frames[0], &[9]).unwrap_err()), "also:unknown_frame");
        let first_come = FrameGate { method: FrameMethod::FirstCome, ..lottery(4, Some(100)) };
        let with_first_come = [frames[0], frames[1], first_come];
        assert_eq!(field_code(ranked_choices(&with_first_come, &first_come, &[1]).unwrap_err()), "also:not_a_lottery");
        assert_eq!(
            field_code(ranked_choices(&with_first_come, &frames[0], &[4]).unwrap_err()),
            "also:not_drawn_together"
        );
        let drawn = FrameGate { drawn_at: Some(50), ..lottery(5, Some(100)) };
        assert_eq!(
            field_code(ranked_choices(&[frames[0], drawn], &frames[0], &[5]).unwrap_err()),
            "also:not_drawn_together"
        );
    }

    /// Winners of a one-frame draw of `applicants` with `capacity` and `accepted` seats.
    fn winners(applicants: i64, capacity: i64, accepted: i64) -> usize {
        let applications: Vec<Application> = (1..=applicants).map(|id| Application { id, choices: vec![1] }).collect();
        let free = HashMap::from([(1, free_seats(capacity, accepted))]);
        draw_ranked(&applications, &free, 3).iter().filter(|p| p.frame_id.is_some()).count()
    }

    #[test]
    fn a_draw_confirms_as_many_as_there_are_free_seats() {
        assert_eq!(winners(10, 4, 0), 4);
        assert_eq!(winners(3, 4, 0), 3, "fewer applicants than seats: all win");
        assert_eq!(winners(10, 4, 1), 3, "seats already given count");
    }

    #[test]
    fn a_draw_over_a_full_or_shrunk_frame_confirms_nobody() {
        assert_eq!(winners(5, 2, 2), 0);
        assert_eq!(winners(5, 2, 3), 0);
    }

    #[test]
    fn a_later_applicant_gets_their_second_choice_when_the_first_is_full() {
        let applications = [
            Application { id: 1, choices: vec![10, 20] },
            Application { id: 2, choices: vec![10, 20] },
            Application { id: 3, choices: vec![10] },
        ];
        let by_id: HashMap<i64, &Application> = applications.iter().map(|a| (a.id, a)).collect();
        let free = HashMap::from([(10, 1), (20, 1)]);
        let placed = place_in_order(&[2, 3, 1], &by_id, &free);
        assert_eq!(
            placed,
            [
                Placement { id: 2, frame_id: Some(10), choice: Some(1) },
                Placement { id: 3, frame_id: None, choice: None },
                Placement { id: 1, frame_id: Some(20), choice: Some(2) },
            ]
        );
    }

    #[test]
    fn the_draw_is_re_derivable_from_the_seed() {
        let applications: Vec<Application> =
            (1..=30).map(|id| Application { id, choices: vec![10 + id % 3, 10 + (id + 1) % 3] }).collect();
        let free = HashMap::from([(10, 4), (11, 2), (12, 5)]);
        let once = draw_ranked(&applications, &free, 7);
        let mut shuffled = applications.clone();
        shuffled.reverse();
        assert_eq!(draw_ranked(&shuffled, &free, 7), once, "the input order does not matter, the seed does");
        let order: Vec<i64> = once.iter().map(|p| p.id).collect();
        assert_eq!(order, crate::registrations::rules::drawn_order(&(1..=30).collect::<Vec<_>>(), 7));
        assert_ne!(draw_ranked(&applications, &free, 8), once);
    }

    /// Frames 0..f with free seats, applicants ranking distinct frames among them.
    fn scenario() -> impl Strategy<Value = (HashMap<i64, i64>, Vec<Application>, u64)> {
        (1usize..5).prop_flat_map(|frames| {
            let free = proptest::collection::vec(0i64..6, frames);
            let one = proptest::sample::subsequence((0..frames as i64).collect::<Vec<_>>(), 1..=frames).prop_shuffle();
            (free, proptest::collection::vec(one, 0..40), any::<u64>()).prop_map(|(free, rankings, seed)| {
                let free: HashMap<i64, i64> = free.into_iter().enumerate().map(|(i, n)| (i as i64, n)).collect();
                let applications = rankings
                    .into_iter()
                    .enumerate()
                    .map(|(i, choices)| Application { id: 100 + i as i64, choices })
                    .collect();
                (free, applications, seed)
            })
        })
    }

    proptest! {
        #[test]
        fn the_draw_is_fair_and_fills_no_frame_beyond_its_seats((free, applications, seed) in scenario()) {
            let placed = draw_ranked(&applications, &free, seed);
            prop_assert_eq!(placed.len(), applications.len(), "every application is drawn once");
            let choices: HashMap<i64, &Vec<i64>> = applications.iter().map(|a| (a.id, &a.choices)).collect();
            let mut given: HashMap<i64, i64> = HashMap::new();
            for p in &placed {
                if let Some(frame) = p.frame_id {
                    *given.entry(frame).or_default() += 1;
                    // Only a ranked frame, and `choice` names its place in the ranking.
                    let at = choices[&p.id].iter().position(|f| *f == frame);
                    prop_assert!(at.is_some(), "{} got frame {} it did not rank", p.id, frame);
                    prop_assert_eq!(p.choice, at.map(|i| i + 1));
                }
            }
            for (frame, n) in &given {
                prop_assert!(*n <= free[frame], "frame {} given {} of {} seats", frame, n, free[frame]);
            }
            // Nobody would swap: no pair where each prefers the other's frame.
            let rank = |id: i64, frame: Option<i64>| -> usize {
                frame.and_then(|f| choices[&id].iter().position(|c| *c == f)).unwrap_or(usize::MAX)
            };
            for a in &placed {
                for b in &placed {
                    if a.id != b.id && a.frame_id != b.frame_id {
                        let a_wants_b = rank(a.id, b.frame_id) < rank(a.id, a.frame_id);
                        let b_wants_a = rank(b.id, a.frame_id) < rank(b.id, b.frame_id);
                        prop_assert!(!(a_wants_b && b_wants_a), "{} and {} would both swap", a.id, b.id);
                    }
                }
            }
            // No seat wasted: whoever went without has every ranked frame full.
            for p in placed.iter().filter(|p| p.frame_id.is_none()) {
                for f in choices[&p.id].iter() {
                    prop_assert_eq!(given.get(f).copied().unwrap_or(0), free[f], "frame {} had a seat left for {}", f, p.id);
                }
            }
        }
    }
}
