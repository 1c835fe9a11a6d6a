//! Business hours: a calendar is a time zone, opening hours per weekday and
//! holidays. `BusinessClock` answers how much business time lies between
//! two instants and when a span of business time after an instant ends,
//! in the calendar's own zone, so daylight-saving changes, midnight,
//! weekends and holidays fall where they do on a wall clock there.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::{CalendarId, DomainError, Millis};

/// One stretch of opening hours: `from` to `to` on `day`, local time,
/// `HH:MM` (`to` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenHours {
    /// `monday` … `sunday`.
    pub day: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Holiday {
    /// `YYYY-MM-DD`, in the calendar's zone.
    pub date: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Calendar {
    pub id: CalendarId,
    pub name: String,
    /// IANA, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub hours: Vec<OpenHours>,
    pub holidays: Vec<Holiday>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// Minutes after midnight of `HH:MM` (0 to 1440).
fn minutes(field: &str, raw: &str) -> Result<i32, DomainError> {
    let bad = || DomainError::new(field, format!("'{raw}' is not a time of day as HH:MM"));
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A calendar's rules, checked, ready to compute with.
#[derive(Debug, Clone)]
pub struct BusinessClock {
    tz: TimeZone,
    /// Open minutes per weekday (Monday = 0), sorted, not overlapping.
    week: [Vec<(i32, i32)>; 7],
    holidays: Vec<Date>,
}

/// How far ahead a due time is searched (a calendar open one hour a year
/// still answers).
const SEARCH_DAYS: i64 = 3 * 366;

impl BusinessClock {
    /// Always open, in UTC: calendar time.
    pub fn always() -> Self {
        Self { tz: TimeZone::UTC, week: std::array::from_fn(|_| vec![(0, 1440)]), holidays: vec![] }
    }

    /// Checks a calendar: a known zone, well-formed hours that do not
    /// overlap, open at least once a week, well-formed holiday dates.
    pub fn new(c: &Calendar) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let tz = match TimeZone::get(c.time_zone.trim()) {
            Ok(tz) => Some(tz),
            Err(_) => {
                errors.push(DomainError::new("time_zone", format!("'{}' is not an IANA time zone", c.time_zone)));
                None
            }
        };
        let mut week: [Vec<(i32, i32)>; 7] = Default::default();
        for h in &c.hours {
            let Some(day) = DAYS.iter().position(|(name, _)| h.day.trim().eq_ignore_ascii_case(name)) else {
                errors.push(DomainError::new("hours", format!("'{}' is not a weekday (monday … sunday)", h.day)));
                continue;
            };
            match (minutes("hours", &h.from), minutes("hours", &h.to)) {
                (Ok(from), Ok(to)) if from < to => week[day].push((from, to)),
                (Ok(_), Ok(_)) => errors
                    .push(DomainError::new("hours", format!("{} {}–{} ends before it starts", h.day, h.from, h.to))),
                (Err(e), _) | (_, Err(e)) => errors.push(e),
            }
        }
        for (i, day) in week.iter_mut().enumerate() {
            day.sort();
            if day.windows(2).any(|w| w[1].0 < w[0].1) {
                errors.push(DomainError::new("hours", format!("the hours of {} overlap", DAYS[i].0)));
            }
        }
        if errors.is_empty() && week.iter().all(Vec::is_empty) {
            errors.push(DomainError::new("hours", "give the opening hours of at least one day"));
        }
        let mut holidays = Vec::new();
        for h in &c.holidays {
            match h.date.trim().parse::<Date>() {
                Ok(d) => holidays.push(d),
                Err(_) => {
                    errors.push(DomainError::new("holidays", format!("'{}' is not a date as YYYY-MM-DD", h.date)))
                }
            }
        }
        holidays.sort();
        holidays.dedup();
        match tz {
            Some(tz) if errors.is_empty() => Ok(Self { tz, week, holidays }),
            _ => Err(errors),
        }
    }

    fn ms(&self, date: Date, minute: i32) -> Millis {
        // `24:00` is the next day's midnight; a local time in a
        // daylight-saving gap is taken forward, as a wall clock does.
        let (date, minute) =
            if minute >= 1440 { (date.tomorrow().unwrap_or(date), minute - 1440) } else { (date, minute) };
        date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(Millis::MAX)
    }

    fn local_date(&self, at: Millis) -> Option<Date> {
        jiff::Timestamp::from_millisecond(at).ok().map(|t| t.to_zoned(self.tz.clone()).date())
    }

    /// The open stretches of `date`, as instants.
    fn open_on(&self, date: Date) -> Vec<(Millis, Millis)> {
        if self.holidays.binary_search(&date).is_ok() {
            return vec![];
        }
        let day = date.weekday().to_monday_zero_offset() as usize;
        self.week[day].iter().map(|&(from, to)| (self.ms(date, from), self.ms(date, to))).collect()
    }

    /// Whether the calendar is open at `at`.
    pub fn is_open(&self, at: Millis) -> bool {
        let Some(date) = self.local_date(at) else { return false };
        // A stretch ending at 24:00 belongs to the day it started on.
        let yesterday = date.yesterday().unwrap_or(date);
        [yesterday, date].iter().flat_map(|d| self.open_on(*d)).any(|(s, e)| s <= at && at < e)
    }

    /// Business time in `[from, to)`, in milliseconds.
    pub fn between(&self, from: Millis, to: Millis) -> Millis {
        if to <= from {
            return 0;
        }
        let (Some(first), Some(last)) = (self.local_date(from), self.local_date(to)) else { return 0 };
        let mut total = 0;
        let mut date = first.yesterday().unwrap_or(first);
        while date <= last {
            for (s, e) in self.open_on(date) {
                let (s, e) = (s.max(from), e.min(to));
                if s < e {
                    total += e - s;
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        total
    }

    /// The instant `span` of business time after `from` ends (`from` itself
    /// for no span); `None` if the calendar is not open that long within
    /// three years.
    pub fn add(&self, from: Millis, span: Millis) -> Option<Millis> {
        let mut left = span.max(0);
        let mut date = self.local_date(from)?.yesterday().ok()?;
        for _ in 0..SEARCH_DAYS {
            for (s, e) in self.open_on(date) {
                let s = s.max(from);
                if s >= e {
                    continue;
                }
                if left == 0 {
                    return Some(s);
                }
                if e - s >= left {
                    return Some(s + left);
                }
                left -= e - s;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(s: &str, tz: &str) -> Millis {
        s.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get(tz).unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn office(tz: &str, holidays: &[&str]) -> BusinessClock {
        let hours = ["monday", "tuesday", "wednesday", "thursday", "friday"]
            .iter()
            .flat_map(|d| {
                [("09:00", "12:00"), ("13:00", "17:00")].map(|(f, t)| OpenHours {
                    day: d.to_string(),
                    from: f.into(),
                    to: t.into(),
                })
            })
            .collect();
        let c = Calendar {
            id: CalendarId(1),
            name: "Office".into(),
            time_zone: tz.into(),
            hours,
            holidays: holidays.iter().map(|d| Holiday { date: d.to_string(), name: "holiday".into() }).collect(),
            created_at: 0,
            updated_at: 0,
        };
        BusinessClock::new(&c).unwrap()
    }

    const H: Millis = 3_600_000;
    const MIN: Millis = 60_000;

    #[test]
    fn hand_computed_cases() {
        let berlin = "Europe/Berlin";
        let c = office(berlin, &["2026-12-25"]);
        // Friday 16:00 + 2 h: one hour on Friday, one on Monday from 09:00.
        assert_eq!(c.add(at("2026-12-04T16:00", berlin), 2 * H), Some(at("2026-12-07T10:00", berlin)));
        // Before opening, the clock starts at 09:00; the lunch hour does not count.
        assert_eq!(c.add(at("2026-12-07T07:30", berlin), 4 * H), Some(at("2026-12-07T14:00", berlin)));
        // Thursday 24 December 16:30 + 1 h: half an hour that day; Friday the
        // 25th is a holiday and the weekend follows; the rest on Monday.
        assert_eq!(c.add(at("2026-12-24T16:30", berlin), H), Some(at("2026-12-28T09:30", berlin)));
        assert_eq!(c.between(at("2026-12-24T16:30", berlin), at("2026-12-28T09:30", berlin)), H);
        // A whole working week is 35 hours.
        assert_eq!(c.between(at("2026-11-30T00:00", berlin), at("2026-12-07T00:00", berlin)), 35 * H);
        assert!(c.is_open(at("2026-12-07T09:00", berlin)) && !c.is_open(at("2026-12-07T12:30", berlin)));
        assert!(!c.is_open(at("2026-12-25T10:00", berlin)), "holiday");
        assert_eq!(c.add(at("2026-12-07T10:00", berlin), 0), Some(at("2026-12-07T10:00", berlin)));
        assert_eq!(
            c.add(at("2026-12-07T12:15", berlin), 0),
            Some(at("2026-12-07T13:00", berlin)),
            "no span starts at the next opening"
        );
    }

    #[test]
    fn daylight_saving_changes_fall_where_the_wall_clock_says() {
        // Around the clock on a Sunday in Berlin: 29 March 2026 has 23 hours, 25 October 25.
        let tz = "Europe/Berlin";
        let c = Calendar {
            id: CalendarId(1),
            name: "24/7".into(),
            time_zone: tz.into(),
            hours: DAYS
                .iter()
                .map(|(d, _)| OpenHours { day: d.to_string(), from: "00:00".into(), to: "24:00".into() })
                .collect(),
            holidays: vec![],
            created_at: 0,
            updated_at: 0,
        };
        let c = BusinessClock::new(&c).unwrap();
        assert_eq!(c.between(at("2026-03-29T00:00", tz), at("2026-03-30T00:00", tz)), 23 * H);
        assert_eq!(c.between(at("2026-10-25T00:00", tz), at("2026-10-26T00:00", tz)), 25 * H);
        // Office hours across the spring change: 02:00–03:00 does not exist, but
        // 09:00–17:00 is 7 hours of opening as on any day (the office sees no gap).
        let o = office(tz, &[]);
        assert_eq!(o.between(at("2026-03-27T00:00", tz), at("2026-03-31T00:00", tz)), 14 * H, "Friday and Monday");
        // New York changes on another date (8 March 2026): 09:00 there is 14:00 UTC before, 13:00 after.
        let ny = office("America/New_York", &[]);
        assert_eq!(
            ny.add(at("2026-03-06T16:00", "America/New_York"), 2 * H),
            Some(at("2026-03-09T10:00", "America/New_York"))
        );
        assert_eq!(
            at("2026-03-09T10:00", "America/New_York") - at("2026-03-06T16:00", "America/New_York"),
            2 * 24 * H + 18 * H - H
        );
    }

    #[test]
    fn calendar_time_is_plain_time_and_bad_calendars_say_why() {
        let always = BusinessClock::always();
        assert_eq!(always.add(1_000, 5 * MIN), Some(1_000 + 5 * MIN));
        assert_eq!(always.between(7, 7 + 90 * MIN), 90 * MIN);
        let bad = Calendar {
            id: CalendarId(1),
            name: "x".into(),
            time_zone: "Mars/Olympus".into(),
            hours: vec![
                OpenHours { day: "funday".into(), from: "09:00".into(), to: "17:00".into() },
                OpenHours { day: "monday".into(), from: "10:00".into(), to: "09:00".into() },
                OpenHours { day: "tuesday".into(), from: "9".into(), to: "25:00".into() },
            ],
            holidays: vec![Holiday { date: "25.12.2026".into(), name: "x".into() }],
            created_at: 0,
            updated_at: 0,
        };
        let errors = BusinessClock::new(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"time_zone")
                && fields.contains(&"holidays")
                && fields.iter().filter(|f| **f == "hours").count() >= 3,
            "{errors:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Adding business time and measuring it back agree; spans add up;
        /// due times never fall in closed hours.
        #[test]
        fn add_and_between_agree(start in 1_767_225_600_000i64..1_830_297_600_000i64, a in 0i64..200 * H, b in 0i64..200 * H,
                                 zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"])) {
            let c = office(zone, &["2026-12-25", "2027-01-01", "2027-04-05"]);
            let due = c.add(start, a).unwrap();
            prop_assert!(due >= start);
            prop_assert_eq!(c.between(start, due), a);
            prop_assert_eq!(c.add(due, b), c.add(start, a + b));
            if a > 0 {
                prop_assert!(c.is_open(due - 1), "the last minute before a due time is open");
            }
            let mid = start + (due - start) / 2;
            prop_assert_eq!(c.between(start, mid) + c.between(mid, due), a);
        }
    }
}
