//! The federations' business days: Monday to Friday, except Japan's public holidays (国民の
//! 祝日, with 振替休日 and 国民の休日) and the year-end closing of 29 December to 3 January
//! that every federation keeps.
//!
//! The holidays are computed from the Act on National Holidays as it stands since 2020 (no
//! maintained crate builds with this toolchain: `jpholiday` 0.2 needs Rust 1.96), with the
//! equinoxes by the National Astronomical Observatory's approximation for 1980–2099. When
//! the Act changes, [`FIXED`] and [`HAPPY_MONDAYS`] are the table to update, and the unit
//! tests below list the Cabinet Office's published holidays to check against.

use time::{Date, Duration, Month, Weekday};

/// Holidays on a fixed day: (month, day, name).
const FIXED: [(Month, u8, &str); 10] = [
    (Month::January, 1, "元日"),
    (Month::February, 11, "建国記念の日"),
    (Month::February, 23, "天皇誕生日"),
    (Month::April, 29, "昭和の日"),
    (Month::May, 3, "憲法記念日"),
    (Month::May, 4, "みどりの日"),
    (Month::May, 5, "こどもの日"),
    (Month::August, 11, "山の日"),
    (Month::November, 3, "文化の日"),
    (Month::November, 23, "勤労感謝の日"),
];

/// Holidays on the nth Monday of a month (ハッピーマンデー): (month, n, name).
const HAPPY_MONDAYS: [(Month, u8, &str); 4] = [
    (Month::January, 2, "成人の日"),
    (Month::July, 3, "海の日"),
    (Month::September, 3, "敬老の日"),
    (Month::October, 2, "スポーツの日"),
];

/// The day of the vernal (春分) or autumnal (秋分) equinox in Japan, 1980–2099.
fn equinox_day(year: i32, base: f64) -> u8 {
    let since = f64::from(year - 1980);
    let day = base + 0.242_194 * since - (since / 4.0).floor();
    // Between 19 and 24 for every year the formula covers.
    day.floor() as u8
}

/// The name of the holiday of the Act itself on `date`, before substitutes.
fn statutory_holiday(date: Date) -> Option<&'static str> {
    let (year, month, day) = (date.year(), date.month(), date.day());
    if let Some((_, _, name)) = FIXED.iter().find(|(m, d, _)| *m == month && *d == day) {
        return Some(name);
    }
    if date.weekday() == Weekday::Monday {
        let nth = (day - 1) / 7 + 1;
        if let Some((_, _, name)) = HAPPY_MONDAYS
            .iter()
            .find(|(m, n, _)| *m == month && *n == nth)
        {
            return Some(name);
        }
    }
    if month == Month::March && day == equinox_day(year, 20.8431) {
        return Some("春分の日");
    }
    if month == Month::September && day == equinox_day(year, 23.2488) {
        return Some("秋分の日");
    }
    None
}

/// The public holiday on `date`, if any: a holiday of the Act, a 振替休日 (the first day after
/// a Sunday holiday that is not itself a holiday), or a 国民の休日 (a day between two
/// holidays).
pub fn holiday(date: Date) -> Option<&'static str> {
    if let Some(name) = statutory_holiday(date) {
        return Some(name);
    }
    // 振替休日: walk back over the holidays just before; if the run began on a Sunday (or
    // contains one), this day is its substitute.
    let mut previous = date.previous_day();
    while let Some(day) = previous {
        if statutory_holiday(day).is_none() {
            break;
        }
        if day.weekday() == Weekday::Sunday {
            return Some("振替休日");
        }
        previous = day.previous_day();
    }
    // 国民の休日: a weekday that is not a holiday, between two holidays.
    let before = date.previous_day().and_then(statutory_holiday);
    let after = date.next_day().and_then(statutory_holiday);
    if before.is_some() && after.is_some() && date.weekday() != Weekday::Sunday {
        return Some("国民の休日");
    }
    None
}

/// Whether the federation works on `date`.
pub fn is_business_day(date: Date) -> bool {
    let year_end = matches!(
        (date.month(), date.day()),
        (Month::December, 29..=31) | (Month::January, 1..=3)
    );
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
        && !year_end
        && holiday(date).is_none()
}

/// Business days after `from` up to and including `to` (0 when `to` is not after `from`): an
/// application submitted on a Friday has waited 1 business day on Monday.
pub fn business_days_between(from: Date, to: Date) -> u32 {
    let mut days = 0;
    let mut day = from;
    while day < to {
        day += Duration::days(1);
        if is_business_day(day) {
            days += 1;
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::from_calendar_date(year, Month::try_from(month).unwrap_or(Month::January), day)
            .unwrap_or(Date::MIN)
    }

    fn holidays_of(year: i32) -> Vec<(u8, u8, &'static str)> {
        let mut day = date(year, 1, 1);
        let mut found = Vec::new();
        while day.year() == year {
            if let Some(name) = holiday(day) {
                found.push((u8::from(day.month()), day.day(), name));
            }
            day += Duration::days(1);
        }
        found
    }

    /// The Cabinet Office's list (内閣府「国民の祝日について」) for 2025 and 2026.
    #[test]
    fn the_cabinet_offices_holidays_of_2025_and_2026() {
        assert_eq!(
            holidays_of(2025),
            vec![
                (1, 1, "元日"),
                (1, 13, "成人の日"),
                (2, 11, "建国記念の日"),
                (2, 23, "天皇誕生日"),
                (2, 24, "振替休日"),
                (3, 20, "春分の日"),
                (4, 29, "昭和の日"),
                (5, 3, "憲法記念日"),
                (5, 4, "みどりの日"),
                (5, 5, "こどもの日"),
                (5, 6, "振替休日"),
                (7, 21, "海の日"),
                (8, 11, "山の日"),
                (9, 15, "敬老の日"),
                (9, 23, "秋分の日"),
                (10, 13, "スポーツの日"),
                (11, 3, "文化の日"),
                (11, 23, "勤労感謝の日"),
                (11, 24, "振替休日"),
            ]
        );
        assert_eq!(
            holidays_of(2026),
            vec![
                (1, 1, "元日"),
                (1, 12, "成人の日"),
                (2, 11, "建国記念の日"),
                (2, 23, "天皇誕生日"),
                (3, 20, "春分の日"),
                (4, 29, "昭和の日"),
                (5, 3, "憲法記念日"),
                (5, 4, "みどりの日"),
                (5, 5, "こどもの日"),
                (5, 6, "振替休日"),
                (7, 20, "海の日"),
                (8, 11, "山の日"),
                (9, 21, "敬老の日"),
                (9, 22, "国民の休日"),
                (9, 23, "秋分の日"),
                (10, 12, "スポーツの日"),
                (11, 3, "文化の日"),
                (11, 23, "勤労感謝の日"),
            ]
        );
    }

    #[test]
    fn business_days_skip_weekends_holidays_and_the_year_end() {
        // Friday 2026-12-04 → Monday 2026-12-07: one business day.
        assert_eq!(
            business_days_between(date(2026, 12, 4), date(2026, 12, 7)),
            1
        );
        assert_eq!(
            business_days_between(date(2026, 12, 7), date(2026, 12, 7)),
            0
        );
        assert_eq!(
            business_days_between(date(2026, 12, 8), date(2026, 12, 7)),
            0
        );
        // Across the year end: 28 Dec (Mon) is the last day, 4 Jan 2027 (Mon) the first.
        assert_eq!(
            business_days_between(date(2026, 12, 25), date(2027, 1, 4)),
            2
        );
        // Golden Week 2026: 29 Apr (Wed), 3–6 May holidays.
        assert_eq!(
            business_days_between(date(2026, 4, 28), date(2026, 5, 7)),
            3
        );
        assert!(!is_business_day(date(2026, 9, 22)));
        assert!(is_business_day(date(2026, 9, 24)));
    }
}
