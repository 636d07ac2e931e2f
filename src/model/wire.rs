//! Enums on the wire. Serde's names (`#[serde(rename_all = …)]`, `#[serde(rename = …)]`) are
//! the only ones written: text columns, CSV cells, cursors and parameters all derive theirs
//! from them, and the OpenAPI document reads the same attributes.

use serde::de::value::{Error, StrDeserializer};
use serde::de::{DeserializeOwned, Deserializer, Error as _, IntoDeserializer, Visitor};
use serde::{forward_to_deserialize_any, Serialize};

/// Declares a unit-only enum that travels and is stored as its lower-case wire names: serde's
/// names, the OpenAPI schema's, and a text column's through one `ToSql`/`FromSql<Text>` that
/// works on either backend. Further derives and attributes go before `enum`.
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "lowercase")]
        $vis enum $name { $($(#[$variant_meta])* $variant),* }

        impl $crate::model::wire::WireName for $name {}

        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB>
            for $name
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                $crate::model::wire::WireName::wire_name(self).to_sql(out)
            }
        }

        impl<DB: diesel::backend::Backend> diesel::deserialize::FromSql<diesel::sql_types::Text, DB>
            for $name
        where
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Ok(<$name as $crate::model::wire::WireName>::from_wire(&text)?)
            }
        }
    };
}

/// A unit-only enum whose variants travel as their serde names.
pub trait WireName: Serialize + DeserializeOwned {
    /// `Claim::Denied` → `"denied"`.
    fn wire_name(&self) -> &'static str {
        // Implemented only for unit-only enums, which always have a variant name.
        serde_variant::to_variant_name(self).unwrap_or_default()
    }

    /// The variant named `text`; the error lists the names expected.
    fn from_wire(text: &str) -> Result<Self, String> {
        let deserializer: StrDeserializer<'_, Error> = text.into_deserializer();
        Self::deserialize(deserializer).map_err(|e| e.to_string())
    }
}

/// The wire names of every variant of `T`, in declaration order: what serde's derived
/// `Deserialize` hands its deserializer, caught before any input is read.
pub fn wire_names<T: WireName>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(VariantNames(&mut names));
    names
}

struct VariantNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for VariantNames<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error::custom("only an enum's names are read"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        *self.0 = variants;
        Err(Error::custom("only an enum's names are read"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::incident::Claim;

    #[test]
    fn names_come_from_serde() {
        assert_eq!(Claim::Denied.wire_name(), "denied");
        assert_eq!(Claim::from_wire("suspected"), Ok(Claim::Suspected));
        let unknown = Claim::from_wire("blamed").unwrap_err();
        assert!(unknown.contains("`claimed`"), "{unknown}");
        assert_eq!(
            wire_names::<Claim>(),
            ["claimed", "denied", "attributed", "suspected"]
        );
    }
}
