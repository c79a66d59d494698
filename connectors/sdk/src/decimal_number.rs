//! A `Decimal` as a JSON number token (`12.50` → `12.5`), written via `RawValue` so it never
//! becomes an `f64`: what the targets' APIs (ShipStation, Xero, Sage) take for money. Reading
//! also accepts a numeric string and scientific notation. Use with
//! `#[serde(with = "ordersync_sdk::decimal_number")]` (or `::option`).

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::str::FromStr;

pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    RawValue::from_string(d.normalize().to_string())
        .map_err(S::Error::custom)?
        .serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    let text = raw.get().trim().trim_matches('"');
    // Scientific notation is valid JSON; Decimal::from_str does not take it.
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| D::Error::custom("amount is not a decimal number"))
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super")] Decimal);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};
    use std::str::FromStr;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct M {
        #[serde(with = "super")]
        a: Decimal,
        #[serde(with = "super::option", default)]
        b: Option<Decimal>,
    }

    #[test]
    fn money_is_a_number_token_never_a_float() {
        let m = M {
            a: Decimal::from_str("12.50").unwrap(),
            b: Some(Decimal::from_str("0.1").unwrap()),
        };
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":12.5,"b":0.1}"#);
        let back: M = serde_json::from_str(r#"{"a":"12.50","b":null}"#).unwrap();
        assert_eq!((back.a, back.b), (Decimal::from_str("12.5").unwrap(), None));
        let sci: M = serde_json::from_str(r#"{"a":1.25e1}"#).unwrap();
        assert_eq!(sci.a, Decimal::from_str("12.5").unwrap());
        assert!(serde_json::from_str::<M>(r#"{"a":"twelve"}"#).is_err());
    }
}
