//! Whether a connection closed by the other side (or by the network) is worth reconnecting.

use crate::CloseEvent;

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
