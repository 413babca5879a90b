//! The JavaScript options object, checked field by field: a wrong option is a `TypeError`
//! that names it and says what was expected.

use super::payload::JsPayload;
use js_sys::{Array, Function, Object, Reflect};
use resocket::internals::MachineConfig;
use resocket::Heartbeat;
use resocket::{Backoff, Jitter, MAX_TIMER_DELAY};
use resocket::{Overflow, QueueLimits};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`, caught: a Proxy's `ownKeys` trap may throw.
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn object_keys(object: &JsValue) -> Result<Array, JsValue>;
}

// The class reads and checks the options first (js/options.js, which it imports from beside
// itself: this import also puts that file there), and hands on a plain object of checked
// values; these checks are the same, for a core made some other way.
#[wasm_bindgen(module = "/options.js")]
extern "C" {
    /// A value as an option error shows it: strings quoted, numbers as JavaScript prints them.
    #[wasm_bindgen(js_name = describeValue)]
    fn describe(value: &JsValue) -> String;
}

/// Every option the class understands, in the order the documentation lists them.
const KNOWN: [&str; 15] = [
    "minDelay",
    "maxDelay",
    "factor",
    "jitter",
    "maxRetries",
    "stableAfter",
    "connectTimeout",
    "heartbeat",
    "maxQueuedMessages",
    "maxQueuedBytes",
    "overflow",
    "shouldReconnect",
    "onOpen",
    "highWaterMark",
    "receive",
];

/// The options, read and checked.
pub(crate) struct JsOptions {
    pub(crate) machine: MachineConfig,
    pub(crate) high_water_mark: u32,
    pub(crate) ping: JsPayload,
    pub(crate) is_pong: Option<Function>,
    pub(crate) should_reconnect: Option<Function>,
    pub(crate) on_open: Option<Function>,
    pub(crate) receive: resocket::Receive,
}

fn type_error(option: &str, expected: &str, got: &JsValue) -> JsValue {
    js_sys::TypeError::new(&format!(
        "ReconnectingWebSocket: option \"{option}\" must be {expected}, got {}",
        describe(got)
    ))
    .into()
}

/// Reads `name` from `object` once (a getter runs once; what it throws is thrown as it is);
/// `None` when it is absent or `undefined`.
fn field(object: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name))?;
    Ok((!value.is_undefined()).then_some(value))
}

/// A finite number for which `ok` holds.
fn number(
    name: &str,
    value: &JsValue,
    expected: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<f64, JsValue> {
    match value.as_f64() {
        Some(number) if number.is_finite() && ok(number) => Ok(number),
        _ => Err(type_error(name, expected, value)),
    }
}

/// Whether a duration option may be 0 (the Rust configuration refuses a zero minimum delay,
/// connect timeout or heartbeat time: they are checked here first, under their JS names).
#[derive(Clone, Copy, PartialEq)]
enum Zero {
    Allowed,
    Refused,
}

/// A number of milliseconds that a browser timer can wait: at most [`MAX_TIMER_DELAY`]
/// (setTimeout's limit, 2^31 - 1 ms; longer delays fire at once), never a value that would
/// make `Duration` conversion fail.
fn millis(name: &str, value: &JsValue, zero: Zero) -> Result<Duration, JsValue> {
    let max = MAX_TIMER_DELAY.as_millis();
    let expected = match zero {
        Zero::Allowed => format!("a number of milliseconds from 0 to {max}"),
        Zero::Refused => format!("a number of milliseconds above 0, at most {max}"),
    };
    value
        .as_f64()
        .filter(|ms| (0.0..=max as f64).contains(ms))
        .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
        // A positive number too small for a nanosecond is zero too.
        .filter(|duration| *duration <= MAX_TIMER_DELAY)
        .filter(|duration| zero == Zero::Allowed || !duration.is_zero())
        .ok_or_else(|| type_error(name, &expected, value))
}

/// A count: a whole number, 0 or more. Counts beyond what the platform can hold mean "no
/// limit" in practice, so they saturate.
fn count(name: &str, value: &JsValue) -> Result<usize, JsValue> {
    number(name, value, "a whole number, 0 or more", |n| {
        n >= 0.0 && n.fract() == 0.0
    })
    .map(|n| n as usize)
}

fn function(name: &str, value: JsValue) -> Result<Option<Function>, JsValue> {
    if value.is_null() {
        return Ok(None);
    }
    match value.dyn_into::<Function>() {
        Ok(function) => Ok(Some(function)),
        Err(value) => Err(type_error(name, "a function", &value)),
    }
}

fn choice<'a>(name: &str, value: &JsValue, choices: &[&'a str]) -> Result<&'a str, JsValue> {
    let text = value.as_string();
    match choices
        .iter()
        .find(|choice| Some(**choice) == text.as_deref())
    {
        Some(choice) => Ok(choice),
        None => {
            let listed = choices
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>();
            Err(type_error(
                name,
                &format!("one of {}", listed.join(", ")),
                value,
            ))
        }
    }
}

/// Milliseconds as JavaScript prints them.
fn shown_millis(duration: Duration) -> String {
    describe(&JsValue::from_f64(duration.as_secs_f64() * 1000.0))
}

/// Reads and checks the options object (`undefined` or `null`: all defaults).
///
/// Every check that the Rust configuration makes (`Backoff::validate`,
/// `MachineConfig::validate`) is made here first, so an error names the JavaScript option
/// (`minDelay`), never a Rust field (`min_delay`). Each option is read once, in the order of
/// [`KNOWN`].
pub(crate) fn parse(options: &JsValue) -> Result<JsOptions, JsValue> {
    if options.is_undefined() || options.is_null() {
        return parse(&Object::new());
    }
    if !options.is_object() {
        return Err(type_error("options", "an object", options));
    }
    for key in object_keys(options)?.iter() {
        let key = key.as_string().unwrap_or_default();
        if !KNOWN.contains(&key.as_str()) {
            return Err(js_sys::TypeError::new(&format!(
                "ReconnectingWebSocket: unknown option \"{key}\"; the options are {}",
                KNOWN.join(", ")
            ))
            .into());
        }
    }

    let mut backoff = Backoff::default();
    if let Some(value) = field(options, "minDelay")? {
        backoff.min_delay = millis("minDelay", &value, Zero::Refused)?;
    }
    if let Some(value) = field(options, "maxDelay")? {
        backoff.max_delay = millis("maxDelay", &value, Zero::Allowed)?;
    }
    if let Some(value) = field(options, "factor")? {
        backoff.factor = number("factor", &value, "a number, 1 or more", |n| n >= 1.0)?;
    }
    if let Some(value) = field(options, "jitter")? {
        backoff.jitter = match choice("jitter", &value, &["full", "decorrelated", "none"])? {
            "decorrelated" => Jitter::Decorrelated,
            "none" => Jitter::None,
            _ => Jitter::Full,
        };
    }
    if let Some(value) = field(options, "maxRetries")? {
        // Infinity is how other reconnecting libraries spell "no limit"; null is ours.
        backoff.max_retries = if value.is_null() || value.as_f64() == Some(f64::INFINITY) {
            None
        } else {
            let retries = number(
                "maxRetries",
                &value,
                "a whole number, 0 or more, or null or Infinity for no limit",
                |n| n >= 0.0 && n.fract() == 0.0,
            )?;
            // Saturating: more retries than a u32 holds is no limit in practice.
            Some(retries as u32)
        };
    }
    if let Some(value) = field(options, "stableAfter")? {
        backoff.stable_after = millis("stableAfter", &value, Zero::Allowed)?;
    }
    if backoff.min_delay > backoff.max_delay {
        return Err(js_sys::TypeError::new(&format!(
            "ReconnectingWebSocket: option \"minDelay\" ({}) must not be above \"maxDelay\" ({})",
            shown_millis(backoff.min_delay),
            shown_millis(backoff.max_delay),
        ))
        .into());
    }

    let mut limits = QueueLimits::default();
    if let Some(value) = field(options, "maxQueuedMessages")? {
        limits.max_messages = count("maxQueuedMessages", &value)?;
    }
    if let Some(value) = field(options, "maxQueuedBytes")? {
        limits.max_bytes = count("maxQueuedBytes", &value)?;
    }
    if let Some(value) = field(options, "overflow")? {
        limits.overflow = match choice("overflow", &value, &["reject", "drop-oldest"])? {
            "drop-oldest" => Overflow::DropOldest,
            _ => Overflow::RejectNew,
        };
    }

    let mut machine = MachineConfig::default().backoff(backoff).queue(limits);
    if let Some(value) = field(options, "connectTimeout")? {
        machine.connect_timeout = if value.is_null() {
            None
        } else {
            Some(millis("connectTimeout", &value, Zero::Refused)?)
        };
    }

    let mut ping = JsPayload {
        value: JsValue::from_str("ping"),
        bytes: 4,
    };
    let mut is_pong = None;
    match field(options, "heartbeat")? {
        None => {}
        Some(value) if value.is_null() => {}
        Some(heartbeat) if heartbeat.is_object() => {
            let (Some(interval), Some(timeout)) = (
                field(&heartbeat, "interval")?,
                field(&heartbeat, "timeout")?,
            ) else {
                return Err(type_error(
                    "heartbeat",
                    "an object with \"interval\" and \"timeout\" in milliseconds",
                    &heartbeat,
                ));
            };
            machine.heartbeat = Some(Heartbeat::new(
                millis("heartbeat.interval", &interval, Zero::Refused)?,
                millis("heartbeat.timeout", &timeout, Zero::Refused)?,
            ));
            if let Some(value) = field(&heartbeat, "ping")? {
                let bytes = super::byte_length(&value).map_err(|_| {
                    type_error("heartbeat.ping", "a string or an ArrayBuffer", &value)
                })?;
                // Sent again at every interval: a copy, so reusing the buffer changes nothing.
                ping = JsPayload {
                    value: super::snapshot(&value),
                    bytes,
                };
            }
            if let Some(value) = field(&heartbeat, "isPong")? {
                is_pong = function("heartbeat.isPong", value)?;
            }
        }
        Some(value) => return Err(type_error("heartbeat", "an object or null", &value)),
    }

    let on_open = match field(options, "onOpen")? {
        Some(value) => function("onOpen", value)?,
        None => None,
    };
    machine.has_open_hook = on_open.is_some();
    let high_water_mark = match field(options, "highWaterMark")? {
        Some(value) => number(
            "highWaterMark",
            &value,
            &format!("a number of bytes from 0 to {}", u32::MAX),
            |n| (0.0..=f64::from(u32::MAX)).contains(&n),
        )? as u32,
        None => resocket::DEFAULT_HIGH_WATER_MARK,
    };
    let should_reconnect = match field(options, "shouldReconnect")? {
        Some(value) => function("shouldReconnect", value)?,
        None => None,
    };

    let receive = match field(options, "receive")? {
        Some(value) => match choice("receive", &value, &["events", "backpressure"])? {
            "backpressure" => resocket::Receive::Backpressure,
            _ => resocket::Receive::Events,
        },
        None => resocket::Receive::Events,
    };

    Ok(JsOptions {
        machine,
        high_water_mark,
        ping,
        is_pong,
        should_reconnect,
        on_open,
        receive,
    })
}
