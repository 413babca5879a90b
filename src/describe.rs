//! Numbers in error messages, written with integer formatting only.
//!
//! Rust's formatting of `f64` (`Display`) and of `Duration` (`Debug`) pulls about 13 KB of
//! code into every app's `.wasm`, most of a minimal app's own share. Error messages need
//! neither: milliseconds to three decimals and a factor to three decimals say it all.

use std::fmt;
use std::time::Duration;

/// A duration as milliseconds: `1500 ms`, `0.25 ms`.
pub(crate) struct Millis(pub(crate) Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // u64 milliseconds (585 million years) cover every timer; u128 formatting adds 1 KB.
        let millis = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        write_thousandths(f, millis, self.0.subsec_micros() % 1000)?;
        f.write_str(" ms")
    }
}

/// A finite or non-finite number, to three decimals (truncated): `1.5`, `-2`, `NaN`.
pub(crate) struct Decimal(pub(crate) f64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        if value.is_nan() {
            return f.write_str("NaN");
        }
        if value < 0.0 {
            f.write_str("-")?;
        }
        let magnitude = value.abs();
        if magnitude.is_infinite() {
            return f.write_str("infinity");
        }
        if magnitude >= 1e18 {
            // Too large for the integer part below; the exact figure does not matter here.
            return f.write_str("more than 10^18");
        }
        let thousandths = (magnitude * 1000.0) as u64;
        write_thousandths(f, thousandths / 1000, (thousandths % 1000) as u32)
    }
}

/// `whole.fraction` with the fraction's trailing zeros (and a bare point) left out.
fn write_thousandths(f: &mut fmt::Formatter<'_>, whole: u64, thousandths: u32) -> fmt::Result {
    write!(f, "{whole}")?;
    if thousandths == 0 {
        return Ok(());
    }
    let (mut digits, mut width) = (thousandths, 3);
    while digits % 10 == 0 {
        digits /= 10;
        width -= 1;
    }
    write!(f, ".{digits:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis() {
        assert_eq!(Millis(Duration::from_millis(1500)).to_string(), "1500 ms");
        assert_eq!(Millis(Duration::from_micros(250)).to_string(), "0.25 ms");
        assert_eq!(Millis(Duration::from_micros(1005)).to_string(), "1.005 ms");
        assert_eq!(Millis(Duration::ZERO).to_string(), "0 ms");
        assert_eq!(
            Millis(Duration::MAX).to_string(),
            "18446744073709551615.999 ms"
        );
    }

    #[test]
    fn decimal() {
        assert_eq!(Decimal(1.5).to_string(), "1.5");
        assert_eq!(Decimal(0.999).to_string(), "0.999");
        assert_eq!(Decimal(-2.0).to_string(), "-2");
        assert_eq!(Decimal(0.5).to_string(), "0.5");
        assert_eq!(Decimal(f64::NAN).to_string(), "NaN");
        assert_eq!(Decimal(f64::NEG_INFINITY).to_string(), "-infinity");
        assert_eq!(Decimal(1e300).to_string(), "more than 10^18");
    }
}
