//! Japan time for the clock in the header of every screen (時刻 HH:MM:SS), computed from a
//! Unix timestamp so that it is right whatever the browser's time zone.

/// Japan Standard Time has no daylight saving: UTC+9 all year.
pub const JST_OFFSET_SECONDS: i64 = 9 * 60 * 60;

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
    fn japan_is_nine_hours_ahead_of_utc() {
        // 2026-04-01T03:00:00Z is 12:00:00 in Japan.
        assert_eq!(time_of_day(1_775_012_400_000.0), "12:00:00");
        // 15:30:05Z is 00:30:05 the next day in Japan.
        assert_eq!(time_of_day(1_775_057_405_000.0), "00:30:05");
    }

    #[test]
    fn times_before_1970_do_not_go_negative() {
        assert_eq!(time_of_day(-1000.0), "08:59:59");
    }
}
