//! Whether a connection closed by the other side (or by the network) is worth reconnecting,
//! and how long a server asked the client to wait first.

use crate::backoff::MAX_TIMER_DELAY;
use crate::CloseEvent;
use std::time::Duration;

/// Whether to reconnect after a close, as decided by a `should_reconnect` predicate. A
/// predicate may return a `bool` (it converts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// Give up: no more attempts (see `GiveUp`).
    No,
    /// Retry on the backoff schedule (or as the close itself asks: see
    /// [`server_requested_delay`]).
    Yes,
    /// Retry, waiting at least this long, plus the backoff's delay as jitter.
    After(Duration),
}

impl From<bool> for Retry {
    fn from(retry: bool) -> Self {
        if retry {
            Retry::Yes
        } else {
            Retry::No
        }
    }
}

/// Close code 1012, Service Restart: the server is coming back at once.
pub const SERVICE_RESTART: u16 = 1012;
/// Close code 1013, Try Again Later: the server is overloaded.
pub const TRY_AGAIN_LATER: u16 = 1013;

/// The delay a server asks for in a close reason: a `retry-after=SECONDS` item (whole
/// seconds, or with up to three decimals: `retry-after=0.5`), alone or among others
/// separated by spaces, commas or semicolons, as in `"overloaded; retry-after=30"`. Capped
/// at [`MAX_TIMER_DELAY`]. `None` if the reason has no such item or its number is malformed.
pub fn server_requested_delay(reason: &str) -> Option<Duration> {
    reason
        .split([' ', ',', ';'])
        .find_map(|item| item.strip_prefix("retry-after="))
        .and_then(parse_seconds)
        .map(|delay| delay.min(MAX_TIMER_DELAY))
}

/// `12`, `0.5`, `1.250` as a duration; integer arithmetic only (float formatting and parsing
/// would add kilobytes to every app).
fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 9 || fraction.len() > 3 {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let mut millis: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    for _ in fraction.len()..3 {
        millis *= 10;
    }
    Some(Duration::from_secs(seconds) + Duration::from_millis(millis))
}

/// The default answer to "should we reconnect after this close?", by close code.
///
/// A retry is refused only for codes that say the server objected to what this client sent or
/// how it speaks: reconnecting would send the same thing and fail the same way, for ever.
/// Everything else, unknown codes included, is retried, because a server that goes away for
/// maintenance, a restart or an overload says so with codes a client should wait out.
///
/// | code | meaning | reconnect |
/// | --- | --- | --- |
/// | 1000 | normal closure (often a server shutting down or rotating connections) | yes |
/// | 1001 | going away (server restart, deploy) | yes |
/// | 1002 | protocol error | **no** |
/// | 1003 | unsupported data | **no** |
/// | 1005 | no status code received | yes |
/// | 1006 | abnormal closure: connection lost or refused, no close frame | yes |
/// | 1007 | invalid payload data (such as bad UTF-8) | **no** |
/// | 1008 | policy violation (often: not authorised) | **no** |
/// | 1009 | message too big | **no** |
/// | 1010 | mandatory extension missing | **no** |
/// | 1011 | internal server error | yes |
/// | 1012 | service restart | yes |
/// | 1013 | try again later | yes |
/// | 1014 | bad gateway | yes |
/// | 1015 | TLS handshake failure | yes |
/// | 3000..=4999 | registered and application codes | yes |
///
/// Users can override this with a predicate that sees the whole [`CloseEvent`]; a closing
/// the user asked for is never retried, whatever this says.
pub fn default_should_reconnect(event: &CloseEvent) -> bool {
    !matches!(event.code, 1002 | 1003 | 1007 | 1008 | 1009 | 1010)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(code: u16) -> CloseEvent {
        CloseEvent {
            code,
            reason: String::new(),
            was_clean: code != 1006,
        }
    }

    #[test]
    fn a_requested_delay_is_read_from_the_reason() {
        let delay = |reason| server_requested_delay(reason);
        assert_eq!(delay("retry-after=30"), Some(Duration::from_secs(30)));
        assert_eq!(
            delay("overloaded; retry-after=2"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            delay("a,retry-after=0.5,b"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(delay("retry-after=1.25"), Some(Duration::from_millis(1250)));
        assert_eq!(delay("retry-after=0"), Some(Duration::ZERO));
        assert_eq!(delay("retry-after=999999999"), Some(MAX_TIMER_DELAY));
        for malformed in [
            "",
            "retry-after",
            "retry-after=",
            "retry-after=-1",
            "retry-after=1e3",
            "retry-after=.5",
            "retry-after=1.2345",
            "retry-after=1234567890",
            "retry-after= 5",
            "xretry-after=5",
            "Retry-After=5",
            "retry-after=５",
        ] {
            assert_eq!(delay(malformed), None, "{malformed:?}");
        }
    }

    #[test]
    fn a_bool_is_a_retry() {
        assert_eq!(Retry::from(true), Retry::Yes);
        assert_eq!(Retry::from(false), Retry::No);
    }

    #[test]
    fn refuses_codes_that_would_fail_again() {
        for code in [1002, 1003, 1007, 1008, 1009, 1010] {
            assert!(!default_should_reconnect(&closed(code)), "code {code}");
        }
    }

    #[test]
    fn retries_outages_restarts_and_application_codes() {
        for code in [
            1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 1015, 3000, 4000, 4999, 0, 2000,
        ] {
            assert!(default_should_reconnect(&closed(code)), "code {code}");
        }
    }
}
