//! Exact decimals on both backends.
//!
//! sea-orm's `Decimal` column becomes `REAL` on SQLite and binds as a float, which loses digits.
//! Decimal columns are declared with the type `decimal_text` instead (a domain over `NUMERIC` on
//! PostgreSQL; TEXT affinity on SQLite), bound as canonical strings with an explicit cast to that
//! type and read back as text. The canonical form has no trailing zeros, so "6.5" and "6.50" are
//! stored, compared and returned alike.

use rust_decimal::Decimal;
use sea_orm::DeriveValueType;
use std::str::FromStr;

/// A decimal stored exactly, in canonical text form ("6.5", "14780", "-0.25").
#[derive(Clone, Debug, PartialEq, Eq, Hash, DeriveValueType)]
pub struct DecimalText(String);

impl DecimalText {
    /// The canonical text of an exact decimal (trailing zeros removed, no exponent).
    pub fn new(value: Decimal) -> Self {
        Self(value.normalize().to_string())
    }

    /// The decimal value. Text that does not parse (only possible if the database was edited by
    /// hand) is reported as an error rather than turned into zero.
    pub fn to_decimal(&self) -> Result<Decimal, rust_decimal::Error> {
        Decimal::from_str(&self.0).or_else(|_| Decimal::from_scientific(&self.0))
    }

    /// A decimal as the database returns it (written canonical by [`DecimalText::new`]; read
    /// as is, as sea-orm's own decoding does).
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Decimal> for DecimalText {
    fn from(value: Decimal) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_drops_trailing_zeros() {
        let a = DecimalText::new(Decimal::from_str("6.50").unwrap());
        let b = DecimalText::new(Decimal::from_str("6.5").unwrap());
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "6.5");
        assert_eq!(
            DecimalText::new(Decimal::from_str("14780.000").unwrap()).as_str(),
            "14780"
        );
    }

    #[test]
    fn keeps_more_digits_than_a_float() {
        let text = "12345678901234567.123456789";
        let d = DecimalText::new(Decimal::from_str(text).unwrap());
        assert_eq!(d.as_str(), text);
        assert_eq!(d.to_decimal().unwrap().to_string(), text);
    }
}
