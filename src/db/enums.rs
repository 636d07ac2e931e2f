//! Enums kept in text columns as their wire names, read and written the same way on either
//! backend.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use super::keys::Role;
use crate::model::incident::{Claim, DatePrecision, GeoPrecision};
use crate::model::wire::WireName;

macro_rules! stored_as_text {
    ($($enum:ty),* $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $enum
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.wire_name().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $enum
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(<$enum>::from_wire(&String::from_sql(bytes)?)?)
            }
        }
    )*};
}

stored_as_text!(Claim, DatePrecision, GeoPrecision, Role);
