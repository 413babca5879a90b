//! How a connection ends: the close event, and the checks a close request must pass.

use crate::Error;
use std::fmt;

/// The longest close reason the protocol allows, in UTF-8 bytes (RFC 6455, section 5.5:
/// a control frame carries at most 125 bytes, two of which are the code).
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// Normal closure: the purpose of the connection has been fulfilled.
pub const NORMAL_CLOSURE: u16 = 1000;

/// What the browser reported when a connection closed: the status code, the reason and
/// whether the closing handshake completed.
///
/// The code is 1006 ("abnormal closure") when the connection was lost without a close
/// frame, for example when the TCP connection dropped or the handshake was refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseEvent {
    /// The close status code (see the
    /// [IANA registry](https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number)).
    pub code: u16,
    /// The reason the other side gave; empty when it gave none.
    pub reason: String,
    /// Whether the closing handshake completed, as opposed to the connection being cut.
    pub was_clean: bool,
}

impl fmt::Display for CloseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code {}", self.code)?;
        if !self.reason.is_empty() {
            write!(f, ", reason \"{}\"", self.reason)?;
        }
        if !self.was_clean {
            write!(f, ", not clean")?;
        }
        Ok(())
    }
}

/// Checks a close request the way the browser would, before the browser sees it, so that
/// a bad code or reason is a typed [`Error`] instead of a `DOMException`.
///
/// # Errors
///
/// - [`Error::InvalidCloseCode`] unless `code` is 1000 or in 3000..=4999 (the only codes a
///   browser may send);
/// - [`Error::CloseReasonTooLong`] if `reason` is longer than [`MAX_CLOSE_REASON_BYTES`]
///   bytes of UTF-8.
pub fn validate_close(code: u16, reason: &str) -> Result<(), Error> {
    if code != NORMAL_CLOSURE && !(3000..=4999).contains(&code) {
        return Err(Error::InvalidCloseCode { code });
    }
    if reason.len() > MAX_CLOSE_REASON_BYTES {
        return Err(Error::CloseReasonTooLong {
            bytes: reason.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_closure_and_application_codes() {
        for code in [1000, 3000, 3999, 4000, 4999] {
            assert_eq!(validate_close(code, ""), Ok(()), "code {code}");
        }
    }

    #[test]
    fn rejects_reserved_and_out_of_range_codes() {
        for code in [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, u16::MAX] {
            assert_eq!(
                validate_close(code, ""),
                Err(Error::InvalidCloseCode { code }),
                "code {code}"
            );
        }
    }

    #[test]
    fn reason_limit_counts_utf8_bytes_not_chars() {
        assert_eq!(validate_close(1000, &"a".repeat(123)), Ok(()));
        assert_eq!(
            validate_close(1000, &"a".repeat(124)),
            Err(Error::CloseReasonTooLong { bytes: 124 })
        );
        // 62 two-byte characters: 124 bytes although only 62 chars.
        assert_eq!(
            validate_close(4000, &"é".repeat(62)),
            Err(Error::CloseReasonTooLong { bytes: 124 })
        );
    }

    #[test]
    fn display_names_what_happened() {
        let event = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        assert_eq!(event.to_string(), "code 1006, not clean");
        let event = CloseEvent {
            code: 4001,
            reason: "bye".into(),
            was_clean: true,
        };
        assert_eq!(event.to_string(), "code 4001, reason \"bye\"");
    }
}
