//! What is checked before a socket is created: the URL and the offered subprotocols.
//!
//! Both are checked in Rust so that bad input is a typed [`Error`] naming what was wrong,
//! whichever browser runs the code (older browsers reject `http:` and relative URLs that newer
//! ones accept, so resolving them here gives one behaviour everywhere).

use crate::Error;
use wasm_bindgen::JsValue;

/// Resolves `url` the way the browser resolves a link: relative to the page (or worker)
/// location, with `http:` becoming `ws:` and `https:` becoming `wss:`.
pub(crate) fn resolve_url(url: &str) -> Result<String, Error> {
    let parsed = match location_href() {
        Some(base) => web_sys::Url::new_with_base(url, &base),
        None => web_sys::Url::new(url),
    }
    .map_err(|thrown| Error::InvalidUrl {
        url: url.to_owned(),
        reason: crate::error::js_error_parts(&thrown).1,
    })?;
    let scheme = websocket_scheme(&parsed.protocol()).ok_or_else(|| Error::InvalidUrl {
        url: url.to_owned(),
        reason: format!(
            "the scheme is \"{}\"; it must be ws, wss, http or https",
            parsed.protocol().trim_end_matches(':')
        ),
    })?;
    // A byte loop, not `str::contains`, whose fast search adds 2 KB of wasm for one check.
    if parsed.href().bytes().any(|byte| byte == b'#') {
        return Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: "a WebSocket URL cannot have a fragment (RFC 6455, section 3)".to_owned(),
        });
    }
    parsed.set_protocol(scheme);
    Ok(parsed.href())
}

/// The WebSocket scheme for a URL scheme as `URL.protocol` spells it (`"https:"`), or `None`
/// for a scheme that has no WebSocket counterpart.
fn websocket_scheme(protocol: &str) -> Option<&'static str> {
    match protocol {
        "ws:" | "http:" => Some("ws:"),
        "wss:" | "https:" => Some("wss:"),
        _ => None,
    }
}

/// The current global's `location.href`, when there is one (pages and workers have it).
fn location_href() -> Option<String> {
    let location = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    js_sys::Reflect::get(&location, &JsValue::from_str("href"))
        .ok()?
        .as_string()
}

/// Checks the subprotocols offered in the handshake: each must be a non-empty HTTP token
/// (RFC 6455, section 4.1) and none may be offered twice, as the browser would require.
pub(crate) fn validate_protocols(protocols: &[String]) -> Result<(), Error> {
    for (index, protocol) in protocols.iter().enumerate() {
        let invalid = |reason: &str| Error::InvalidProtocol {
            protocol: protocol.clone(),
            reason: reason.to_owned(),
        };
        if protocol.is_empty() {
            return Err(invalid("it is empty"));
        }
        if let Some(bad) = protocol.chars().find(|c| !is_token_char(*c)) {
            return Err(invalid(&format!(
                "\"{bad}\" is not allowed in a subprotocol name"
            )));
        }
        if protocols
            .iter()
            .take(index)
            .any(|earlier| earlier == protocol)
        {
            return Err(invalid("it is offered twice"));
        }
    }
    Ok(())
}

/// Whether `c` may appear in an HTTP token (RFC 7230, section 3.2.6).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '.'
                | '^'
                | '_'
                | '`'
                | '|'
                | '~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocols(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn http_schemes_map_to_websocket_schemes() {
        assert_eq!(websocket_scheme("http:"), Some("ws:"));
        assert_eq!(websocket_scheme("https:"), Some("wss:"));
        assert_eq!(websocket_scheme("ws:"), Some("ws:"));
        assert_eq!(websocket_scheme("wss:"), Some("wss:"));
        assert_eq!(websocket_scheme("ftp:"), None);
        assert_eq!(websocket_scheme("file:"), None);
    }

    #[test]
    fn valid_protocols_pass() {
        assert_eq!(validate_protocols(&protocols(&[])), Ok(()));
        assert_eq!(
            validate_protocols(&protocols(&["chat", "v2.json", "a_b-c"])),
            Ok(())
        );
    }

    #[test]
    fn empty_protocol_is_rejected() {
        assert!(matches!(
            validate_protocols(&protocols(&[""])),
            Err(Error::InvalidProtocol { reason, .. }) if reason == "it is empty"
        ));
    }

    #[test]
    fn separators_and_spaces_are_rejected() {
        for bad in ["a b", "a,b", "x/y", "é", "a\"b"] {
            assert!(
                matches!(
                    validate_protocols(&protocols(&[bad])),
                    Err(Error::InvalidProtocol { protocol, .. }) if protocol == bad
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn duplicate_protocols_are_rejected() {
        assert!(matches!(
            validate_protocols(&protocols(&["chat", "json", "chat"])),
            Err(Error::InvalidProtocol { reason, .. }) if reason == "it is offered twice"
        ));
    }
}
