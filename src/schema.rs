//! CSV schemas from row types: a file's columns are the fields of the
//! `#[derive(Serialize, Deserialize)]` struct that writes it, in order, so
//! a new column is one new field, and readers ask the same type for the
//! names they need instead of keeping a list of their own.
//!
//! [`columns`] reads the field names that serde derives for a struct
//! (after `rename`s) without a value of it: it starts deserializing the
//! type from a stand-in that records the names serde hands over and then
//! stops. It works for plain structs, the only shape our rows have.

use std::fmt;

use serde::de::{self, Deserialize, Visitor};

/// The column names of row type `T`: its serde field names, in declaration
/// order (the order `csv::Writer::serialize` writes them).
///
/// # Panics
/// If `T` is not a plain struct (an enum, a map, a flattened struct): row
/// types are plain structs, and the tests of each row type call this.
pub fn columns<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(FieldNames) {
        Err(Found(Some(fields))) => fields,
        // invariant: every row type is a plain struct (checked by the
        // schema tests of each row type)
        _ => panic!("{} is not a plain struct", std::any::type_name::<T>()),
    }
}

/// A deserializer that only answers "which fields?".
struct FieldNames;

/// The "error" that carries the field names out.
#[derive(Debug)]
struct Found(Option<&'static [&'static str]>);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names")
    }
}

impl std::error::Error for Found {}

impl de::Error for Found {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Found(None)
    }
}

impl<'de> de::Deserializer<'de> for FieldNames {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found(None))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Found> {
        Err(Found(Some(fields)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Row {
        policy: String,
        #[serde(rename = "cost_usd")]
        cost: f64,
        seed: Option<u64>,
    }

    #[test]
    fn columns_are_the_serialized_header_in_order() {
        assert_eq!(columns::<Row>(), ["policy", "cost_usd", "seed"]);
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .serialize(Row {
                policy: "hpa".into(),
                cost: 1.5,
                seed: Some(3),
            })
            .unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), columns::<Row>().join(","));
    }

    #[test]
    #[should_panic(expected = "is not a plain struct")]
    fn a_non_struct_is_refused() {
        columns::<Vec<u32>>();
    }
}
