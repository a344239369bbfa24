//! Japan time, the one place it is computed: for the clock in the header of every screen
//! (時刻 HH:MM:SS, from a Unix timestamp so that it is right whatever the browser's time zone)
//! and for every instant shown to a person (lock-out messages, notices, the console).

use time::{OffsetDateTime, UtcOffset};

/// Japan Standard Time has no daylight saving: UTC+9 all year.
pub const JST_OFFSET_SECONDS: i64 = 9 * 60 * 60;

/// UTC+9.
pub const JST: UtcOffset = match UtcOffset::from_whole_seconds(JST_OFFSET_SECONDS as i32) {
    Ok(offset) => offset,
    // Unreachable: +9 h is a valid offset; a const cannot unwrap.
    Err(_) => UtcOffset::UTC,
};

/// The same instant on Japan's clock.
pub fn in_japan(instant: OffsetDateTime) -> OffsetDateTime {
    instant.to_offset(JST)
}

/// `YYYY/MM/DD HH:MM` on Japan's clock: how the console shows an instant.
pub fn date_time(instant: OffsetDateTime) -> String {
    let local = in_japan(instant);
    format!(
        "{}/{:02}/{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// `YYYY-MM-DD`: the day of an instant in Japan, as the API writes a date.
pub fn iso_date(instant: OffsetDateTime) -> String {
    let local = in_japan(instant);
    format!(
        "{}-{:02}-{:02}",
        local.year(),
        u8::from(local.month()),
        local.day()
    )
}

/// HH:MM:SS in Japan for a Unix time in milliseconds.
pub fn time_of_day(unix_millis: f64) -> String {
    let seconds = (unix_millis / 1000.0).floor() as i64 + JST_OFFSET_SECONDS;
    let of_day = seconds.rem_euclid(24 * 60 * 60);
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_shows_the_date_and_minute_in_japan() {
        // 2026-03-31T15:05:59Z is already 1 April in Japan, 00:05.
        let instant = OffsetDateTime::from_unix_timestamp(1_774_969_559);
        assert_eq!(
            instant.map(date_time).ok().as_deref(),
            Some("2026/04/01 00:05")
        );
    }

    #[test]
    fn a_date_is_the_day_in_japan() {
        // 2026-03-31T15:05:59Z is already 1 April in Japan.
        let instant = OffsetDateTime::from_unix_timestamp(1_774_969_559);
        assert_eq!(instant.map(iso_date).ok().as_deref(), Some("2026-04-01"));
    }

    #[test]
    fn japan_is_nine_hours_ahead_of_utc() {
        // 2026-04-01T03:00:00Z is 12:00:00 in Japan.
        assert_eq!(time_of_day(1_775_012_400_000.0), "12:00:00");
        // 15:30:05Z is 00:30:05 the next day in Japan.
        assert_eq!(time_of_day(1_775_057_405_000.0), "00:30:05");
    }

    #[test]
    fn instants_shown_to_people_are_on_japan_s_clock() {
        // 2026-04-01T03:00:00Z.
        let noon_in_japan = OffsetDateTime::from_unix_timestamp(1_775_012_400)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let local = in_japan(noon_in_japan);
        assert_eq!((local.hour(), local.minute()), (12, 0));
        assert_eq!(local, noon_in_japan);
    }

    #[test]
    fn times_before_1970_do_not_go_negative() {
        assert_eq!(time_of_day(-1000.0), "08:59:59");
    }
}
