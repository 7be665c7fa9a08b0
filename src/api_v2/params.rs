//! Query parameters as connpass clients send them: a list parameter may repeat
//! (`keyword=a&keyword=b`), be comma-separated (`keyword=a,b`), or both; unknown parameters
//! are ignored (clients send a few connpass never defined); a bad value is a 400 whose
//! message names the parameter.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::{DEFAULT_COUNT, MAX_COUNT};
use crate::error::AppError;
use crate::server::store::public::EventOrder;

/// An API error: status, stable code, the parameter at fault, a message for developers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub parameter: Option<String>,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn invalid(parameter: &str, message: &str) -> Self {
        ApiError {
            status: 400,
            code: "invalid_parameter",
            parameter: Some(parameter.to_string()),
            message: format!("{parameter}: {message}"),
            retry_after: None,
        }
    }

    pub fn not_found(message: &str) -> Self {
        ApiError { status: 404, code: "not_found", parameter: None, message: message.into(), retry_after: None }
    }

    pub fn rate_limited(secs: u64) -> Self {
        ApiError {
            status: 429,
            code: "rate_limited",
            parameter: None,
            message: format!("too many requests; retry after {secs} s"),
            retry_after: Some(secs),
        }
    }

    pub fn internal() -> Self {
        ApiError { status: 500, code: "internal", parameter: None, message: "internal error".into(), retry_after: None }
    }

    /// `{"error", "message", "parameter"?, "detail"}`; `detail` repeats the message for
    /// clients written against connpass's framework, which puts it there.
    pub fn body(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "error": self.code, "message": self.message, "detail": self.message });
        if let Some(p) = &self.parameter {
            v["parameter"] = serde_json::Value::String(p.clone());
        }
        v
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => ApiError::not_found("not found"),
            AppError::RateLimited(s) => ApiError::rate_limited(s),
            AppError::BadRequest(m) => {
                ApiError { status: 400, code: "bad_request", parameter: None, message: m, retry_after: None }
            }
            _ => ApiError::internal(),
        }
    }
}

/// A half-open range of start instants.
pub type StartRange = (DateTime<Utc>, DateTime<Utc>);

/// Decoded query pairs.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// Longest list a parameter may carry (connpass allows 100 values; `ymd` a year of days).
const MAX_VALUES: usize = 400;
/// Most keywords (`keyword` and `keyword_or` together) one request may search for: each is a
/// lookup in the text index, so their number is the request's work.
pub const MAX_KEYWORDS: usize = 30;

impl Params {
    pub fn parse(raw: &str) -> Self {
        Params { pairs: crate::feeds::routes::url_pairs(raw) }
    }

    /// Every value of `name`: repeats and commas both split, trimmed, empties dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, v) in self.pairs.iter().filter(|(k, _)| k == name) {
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if out.len() < MAX_VALUES && !out.iter().any(|o| o == part) {
                    out.push(part.to_string());
                }
            }
        }
        out
    }

    /// The `keyword` and `keyword_or` lists, at most [`MAX_KEYWORDS`] in all (more is a
    /// `400`, naming `keyword`).
    pub fn keywords(&self) -> Result<(Vec<String>, Vec<String>), ApiError> {
        let (all, any) = (self.list("keyword"), self.list("keyword_or"));
        if all.len() + any.len() > MAX_KEYWORDS {
            return Err(ApiError::invalid("keyword", &format!("at most {MAX_KEYWORDS} keywords in all")));
        }
        Ok((all, any))
    }

    /// The single value of `name` (the last one when repeated), if present and not empty.
    fn one(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
    }

    pub fn ints(&self, name: &str) -> Result<Vec<i64>, ApiError> {
        self.list(name)
            .iter()
            .map(|v| v.parse::<i64>().map_err(|_| ApiError::invalid(name, &format!("'{v}' is not an integer"))))
            .collect()
    }

    /// `start` (1-based, default 1) and `count` (1–100, default 10).
    pub fn paging(&self) -> Result<(u32, u32), ApiError> {
        let start = match self.one("start") {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => return Err(ApiError::invalid("start", "must be an integer of at least 1")),
            },
        };
        let count = match self.one("count") {
            None => DEFAULT_COUNT,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
                _ => return Err(ApiError::invalid("count", "must be an integer from 1 to 100")),
            },
        };
        Ok((start, count))
    }

    /// `order`: 1 updated (default), 2 start time, 3 newest.
    pub fn order(&self) -> Result<EventOrder, ApiError> {
        match self.one("order") {
            None | Some("1") => Ok(EventOrder::Updated),
            Some("2") => Ok(EventOrder::Start),
            Some("3") => Ok(EventOrder::Created),
            Some(_) => Err(ApiError::invalid("order", "must be 1 (updated), 2 (start time) or 3 (newest)")),
        }
    }

    /// `prefecture` values: `online` or one of the 47 romanised names.
    pub fn prefectures(&self) -> Result<Vec<String>, ApiError> {
        self.list("prefecture")
            .into_iter()
            .map(|p| {
                let code = p.to_ascii_lowercase();
                if code == "online" || crate::geo::PREFECTURES.iter().any(|(c, _, _)| *c == code) {
                    Ok(code)
                } else {
                    Err(ApiError::invalid(
                        "prefecture",
                        &format!("'{p}' is not online or a prefecture name such as tokyo"),
                    ))
                }
            })
            .collect()
    }

    /// `ym` (yyyymm) and `ymd` (yyyymmdd) as start-time ranges; dates are Japan dates
    /// (Asia/Tokyo), as on connpass.
    pub fn months_and_days(&self) -> Result<Vec<StartRange>, ApiError> {
        let mut out = Vec::new();
        for v in self.list("ym") {
            let bad = || ApiError::invalid("ym", &format!("'{v}' is not a month as yyyymm"));
            if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let (y, m) = (v[..4].parse::<i32>().map_err(|_| bad())?, v[4..].parse::<u32>().map_err(|_| bad())?);
            let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
            let next =
                if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) }
                    .ok_or_else(bad)?;
            out.push((tokyo_midnight(first), tokyo_midnight(next)));
        }
        for v in self.list("ymd") {
            let day = (v.len() == 8)
                .then(|| NaiveDate::parse_from_str(&v, "%Y%m%d").ok())
                .flatten()
                .ok_or_else(|| ApiError::invalid("ymd", &format!("'{v}' is not a date as yyyymmdd")))?;
            out.push((tokyo_midnight(day), tokyo_midnight(day + Duration::days(1))));
        }
        Ok(out)
    }
}

fn tokyo_midnight(d: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Asia::Tokyo
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_take_repeats_commas_and_both() {
        let p = Params::parse("keyword=a&keyword=b,c&keyword=&keyword=%20a%20&x=1");
        assert_eq!(p.list("keyword"), ["a", "b", "c"]);
        assert!(p.list("nickname").is_empty());
    }

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(Params::parse("").paging().unwrap(), (1, 10));
        assert_eq!(Params::parse("start=11&count=100").paging().unwrap(), (11, 100));
        for bad in ["count=0", "count=101", "count=x", "start=0", "start=-1"] {
            let e = Params::parse(bad).paging().unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
            assert!(e.message.starts_with(bad.split('=').next().unwrap()), "{bad}: {}", e.message);
        }
    }

    #[test]
    fn months_and_days_are_tokyo_ranges() {
        let r = Params::parse("ym=202604&ymd=20261128").months_and_days().unwrap();
        assert_eq!(r[0].0, Utc.with_ymd_and_hms(2026, 3, 31, 15, 0, 0).unwrap());
        assert_eq!(r[0].1, Utc.with_ymd_and_hms(2026, 4, 30, 15, 0, 0).unwrap());
        assert_eq!(r[1].0, Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap());
        for bad in ["ym=2026", "ym=202613", "ymd=20260230", "ymd=2026-01-01"] {
            assert_eq!(Params::parse(bad).months_and_days().unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn order_and_prefecture_are_checked() {
        assert_eq!(Params::parse("order=3").order().unwrap(), EventOrder::Created);
        assert!(Params::parse("order=4").order().is_err());
        assert_eq!(Params::parse("prefecture=Tokyo,online").prefectures().unwrap(), ["tokyo", "online"]);
        assert_eq!(
            Params::parse("prefecture=atlantis").prefectures().unwrap_err().parameter.as_deref(),
            Some("prefecture")
        );
    }
}
