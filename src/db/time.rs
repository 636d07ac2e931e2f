//! Dates and timestamps as the incident list reads them. SQLite stores them as text, which
//! diesel parses with chrono format strings (a timestamp is tried against up to 18 of them):
//! on a page of incidents that took longer than reading the rows. The text is always the form
//! diesel writes (`%F`, `%F %T%.f`), so it is read by hand here; any other form goes to
//! diesel's parser. PostgreSQL sends binary values, which diesel reads as they are.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Date, Timestamp};
use diesel::sqlite::Sqlite;

use super::Db;

/// A stored date (`#[diesel(deserialize_as = StoredDate)]` on a `NaiveDate` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct StoredDate(NaiveDate);

/// A stored timestamp (`#[diesel(deserialize_as = StoredTime)]` on a `NaiveDateTime` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct StoredTime(NaiveDateTime);

impl From<StoredDate> for NaiveDate {
    fn from(date: StoredDate) -> NaiveDate {
        date.0
    }
}

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> NaiveDateTime {
        time.0
    }
}

impl FromSql<Date, Sqlite> for StoredDate {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        match parse_date(value.read_text().as_bytes()) {
            Some(date) => Ok(StoredDate(date)),
            None => <NaiveDate as FromSql<Date, Sqlite>>::from_sql(value).map(StoredDate),
        }
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        match parse_timestamp(value.read_text().as_bytes()) {
            Some(time) => Ok(StoredTime(time)),
            None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(StoredTime),
        }
    }
}

impl FromSql<Date, Pg> for StoredDate {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(StoredDate)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Date, Db> for StoredDate {
    fn from_sql(value: <Db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Date>()
    }
}

impl FromSql<Timestamp, Db> for StoredTime {
    fn from_sql(value: <Db as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `YYYY-MM-DD`, and nothing after it.
fn parse_date(text: &[u8]) -> Option<NaiveDate> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = number(&text[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, number(&text[5..7])?, number(&text[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS`, optionally followed by `.` and 1 to 9 digits of a second.
fn parse_timestamp(text: &[u8]) -> Option<NaiveDateTime> {
    if text.len() < 19 || text[10] != b' ' || text[13] != b':' || text[16] != b':' {
        return None;
    }
    let date = parse_date(&text[0..10])?;
    let nanos = match &text[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        number(&text[11..13])?,
        number(&text[14..16])?,
        number(&text[17..19])?,
        nanos,
    )?;
    Some(date.and_time(time))
}

/// ASCII digits as a number; None for anything else.
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    #[test]
    fn reads_what_diesel_writes_and_refuses_the_rest() {
        let time = NaiveDate::from_ymd_opt(2020, 11, 21)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 3340)
            .unwrap();
        let written = time.format("%F %T%.f").to_string();
        assert_eq!(parse_timestamp(written.as_bytes()), Some(time));
        assert_eq!(
            parse_timestamp(b"2020-11-21 09:05:07"),
            Some(time.with_nanosecond(0).unwrap())
        );
        assert_eq!(parse_date(b"2020-11-21"), Some(time.date()));
        for other in [
            &b"2020-11-21T09:05:07"[..],
            b"2020-11-21 09:05:07Z",
            b"2020-11-21 09:05:07.",
            b"2020-13-21 09:05:07",
            b"2020-11-21 25:05:07",
            b"2020-1x-21 09:05:07",
        ] {
            assert_eq!(parse_timestamp(other), None, "{other:?}");
        }
        assert_eq!(parse_date(b"2020-02-30"), None);
        assert_eq!(parse_date(b"2020-11-21 "), None);
    }
}
