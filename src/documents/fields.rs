//! Field types shared by the typed checks of documents and settings.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A whole number in `MIN..=MAX`, accepted as a JSON number or a numeric string (the
/// reference coerces), and written back as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Bounded<const MIN: i64, const MAX: i64>(pub i64);

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        n.filter(|n| (MIN..=MAX).contains(n))
            .map(Bounded)
            .ok_or_else(|| D::Error::custom(format!("must be a whole number from {MIN} to {MAX}")))
    }
}

/// A finite number, accepted as a JSON number or a numeric string, written back as a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Finite(pub f64);

impl<'de> Deserialize<'de> for Finite {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        n.filter(|n| n.is_finite())
            .map(Finite)
            .ok_or_else(|| D::Error::custom("must be a finite number"))
    }
}

/// A string stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Trimmed(pub String);

impl<'de> Deserialize<'de> for Trimmed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Trimmed(String::deserialize(d)?.trim().to_owned()))
    }
}

/// A string of MIN-MAX characters after trimming, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(pub String);

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?.trim().to_owned();
        if (MIN..=MAX).contains(&text.chars().count()) {
            Ok(Text(text))
        } else {
            Err(D::Error::custom(format!("must be {MIN}-{MAX} characters")))
        }
    }
}

impl<const MIN: usize, const MAX: usize> std::ops::Deref for Text<MIN, MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A `YYYY-MM-DD` date string (a real calendar date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Day(pub String);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(&text, format)
            .map(|_| Day(text))
            .map_err(|_| D::Error::custom("must be a date written YYYY-MM-DD"))
    }
}

/// Milliseconds since 1970 (a whole number ≥ 0).
pub type Millis = Bounded<0, { i64::MAX }>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_numeric_strings_are_accepted_within_bounds() {
        let parse = |v: Value| serde_json::from_value::<Bounded<0, 100>>(v);
        assert_eq!(parse(Value::from(75)).unwrap().0, 75);
        assert_eq!(parse(Value::from(" 75 ")).unwrap().0, 75);
        assert!(parse(Value::from(101)).is_err());
        assert!(parse(Value::from(1.5)).is_err());
        assert!(parse(Value::from("x")).is_err());
        assert_eq!(serde_json::from_value::<Finite>(Value::from("-2.5")).unwrap().0, -2.5);
        assert!(serde_json::from_value::<Finite>(Value::Bool(true)).is_err());
    }
}
