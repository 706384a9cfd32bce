//! Vietnam's today.
//!
//! Dates of the domain ("as of today", "overdue") are Vietnamese calendar dates. Vietnam keeps
//! UTC+07:00 all year (no daylight saving since 1975), so a fixed offset is exact and needs no
//! time-zone database.

use chrono::{FixedOffset, NaiveDate, Utc};

/// The offset of Asia/Ho_Chi_Minh, checked when the program is compiled.
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Today's date in Asia/Ho_Chi_Minh.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&VIETNAM).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn late_evening_utc_is_already_tomorrow_in_vietnam() {
        let utc = Utc.with_ymd_and_hms(2025, 6, 30, 17, 30, 0).unwrap();
        let local = utc.with_timezone(&VIETNAM).date_naive();
        assert_eq!(local, NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
    }
}
