//! The core's errors as the exceptions the browser's own `WebSocket` throws.

use super::*;

/// An `Error` as the matching JavaScript exception.
pub(super) fn to_js_error(error: Error) -> JsValue {
    let dom = |name: &str| -> JsValue {
        web_sys::DomException::new_with_message_and_name(&error.to_string(), name)
            .map_or_else(|thrown| thrown, JsValue::from)
    };
    match &error {
        Error::InvalidUrl { .. } | Error::InvalidProtocol { .. } => dom("SyntaxError"),
        Error::InvalidCloseCode { .. } => dom("InvalidAccessError"),
        Error::CloseReasonTooLong { .. } => dom("SyntaxError"),
        Error::Refused {
            refusal: resocket::Refusal::ClosedForGood,
        } => dom("InvalidStateError"),
        Error::InvalidOption { .. } => js_sys::TypeError::new(&error.to_string()).into(),
        _ => js_sys::Error::new(&error.to_string()).into(),
    }
}
