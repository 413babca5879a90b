//! The JavaScript options object, checked field by field: a wrong option is a `TypeError`
//! that names it and says what was expected.

use super::payload::JsPayload;
use crate::queue::{Overflow, QueueLimits};
use crate::reconnect::{Heartbeat, MachineConfig};
use crate::{Backoff, Jitter};
use js_sys::{Function, Object, Reflect};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Every option the class understands, in the order the documentation lists them.
const KNOWN: [&str; 14] = [
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
];

/// The options, read and checked.
pub(crate) struct JsOptions {
    pub(crate) machine: MachineConfig,
    pub(crate) high_water_mark: u32,
    pub(crate) ping: JsPayload,
    pub(crate) is_pong: Option<Function>,
    pub(crate) should_reconnect: Option<Function>,
    pub(crate) on_open: Option<Function>,
}

fn type_error(option: &str, expected: &str, got: &JsValue) -> JsValue {
    js_sys::TypeError::new(&format!(
        "ReconnectingWebSocket: option \"{option}\" must be {expected}, got {}",
        describe(got)
    ))
    .into()
}

fn describe(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return format!("\"{text}\"");
    }
    if value.as_f64().is_some() {
        // JavaScript's own number formatting: Rust's f64 Display would add 9 KB of wasm.
        let number: &js_sys::Number = value.unchecked_ref();
        return number
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default();
    }
    match value.js_typeof().as_string() {
        Some(kind) if value.is_null() => format!("null ({kind})"),
        Some(kind) => kind,
        None => "something else".to_owned(),
    }
}

/// Reads `name` from `object`; `None` when it is absent or `undefined`.
fn field(object: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name))?;
    Ok((!value.is_undefined()).then_some(value))
}

fn number(
    object: &JsValue,
    name: &str,
    expected: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<Option<f64>, JsValue> {
    match field(object, name)? {
        None => Ok(None),
        Some(value) => match value.as_f64() {
            Some(number) if number.is_finite() && ok(number) => Ok(Some(number)),
            _ => Err(type_error(name, expected, &value)),
        },
    }
}

fn millis(object: &JsValue, name: &str) -> Result<Option<Duration>, JsValue> {
    Ok(
        number(object, name, "a number of milliseconds, 0 or more", |n| {
            n >= 0.0
        })?
        .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
    )
}

/// A count: a whole number, 0 or more.
fn count(object: &JsValue, name: &str) -> Result<Option<usize>, JsValue> {
    Ok(number(object, name, "a whole number, 0 or more", |n| {
        n >= 0.0 && n.fract() == 0.0
    })?
    .map(|n| n as usize))
}

/// `null` turns the feature off; absent keeps the default.
fn nullable<T>(
    object: &JsValue,
    name: &str,
    read: impl Fn(&JsValue, &str) -> Result<Option<T>, JsValue>,
) -> Result<Option<Option<T>>, JsValue> {
    match field(object, name)? {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(Some(None)),
        Some(_) => Ok(read(object, name)?.map(Some)),
    }
}

fn function(object: &JsValue, name: &str) -> Result<Option<Function>, JsValue> {
    match field(object, name)? {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(None),
        Some(value) => match value.dyn_into::<Function>() {
            Ok(function) => Ok(Some(function)),
            Err(value) => Err(type_error(name, "a function", &value)),
        },
    }
}

fn choice<'a>(
    object: &JsValue,
    name: &str,
    choices: &[&'a str],
) -> Result<Option<&'a str>, JsValue> {
    match field(object, name)? {
        None => Ok(None),
        Some(value) => {
            let text = value.as_string();
            match choices
                .iter()
                .find(|choice| Some(**choice) == text.as_deref())
            {
                Some(choice) => Ok(Some(choice)),
                None => {
                    let listed = choices
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>();
                    Err(type_error(
                        name,
                        &format!("one of {}", listed.join(", ")),
                        &value,
                    ))
                }
            }
        }
    }
}

/// Reads and checks the options object (`undefined` or `null`: all defaults).
pub(crate) fn parse(options: &JsValue) -> Result<JsOptions, JsValue> {
    if options.is_undefined() || options.is_null() {
        return parse(&Object::new());
    }
    if !options.is_object() {
        return Err(type_error("options", "an object", options));
    }
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
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
    if let Some(delay) = millis(options, "minDelay")? {
        backoff.min_delay = delay;
    }
    if let Some(delay) = millis(options, "maxDelay")? {
        backoff.max_delay = delay;
    }
    if let Some(factor) = number(options, "factor", "a number, 1 or more", |n| n >= 1.0)? {
        backoff.factor = factor;
    }
    if let Some(jitter) = choice(options, "jitter", &["full", "decorrelated", "none"])? {
        backoff.jitter = match jitter {
            "decorrelated" => Jitter::Decorrelated,
            "none" => Jitter::None,
            _ => Jitter::Full,
        };
    }
    if let Some(retries) = nullable(options, "maxRetries", count)? {
        backoff.max_retries = retries.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    }
    if let Some(stable) = millis(options, "stableAfter")? {
        backoff.stable_after = stable;
    }
    if backoff.min_delay > backoff.max_delay {
        return Err(js_sys::TypeError::new(
            "ReconnectingWebSocket: option \"minDelay\" must not be above \"maxDelay\"",
        )
        .into());
    }

    let mut limits = QueueLimits::default();
    if let Some(messages) = count(options, "maxQueuedMessages")? {
        limits.max_messages = messages;
    }
    if let Some(bytes) = count(options, "maxQueuedBytes")? {
        limits.max_bytes = bytes;
    }
    if let Some(overflow) = choice(options, "overflow", &["reject", "drop-oldest"])? {
        limits.overflow = match overflow {
            "drop-oldest" => Overflow::DropOldest,
            _ => Overflow::RejectNew,
        };
    }

    let mut machine = MachineConfig::default().backoff(backoff).queue(limits);
    if let Some(timeout) = nullable(options, "connectTimeout", millis)? {
        machine.connect_timeout = timeout;
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
                millis(&heartbeat, "interval")?,
                millis(&heartbeat, "timeout")?,
            ) else {
                return Err(type_error(
                    "heartbeat",
                    "an object with \"interval\" and \"timeout\" in milliseconds",
                    &heartbeat,
                ));
            };
            machine.heartbeat = Some(Heartbeat::new(interval, timeout));
            if let Some(value) = field(&heartbeat, "ping")? {
                let bytes = super::byte_length(&value).map_err(|_| {
                    type_error("heartbeat.ping", "a string or an ArrayBuffer", &value)
                })?;
                ping = JsPayload { value, bytes };
            }
            is_pong = function(&heartbeat, "isPong")?;
        }
        Some(value) => return Err(type_error("heartbeat", "an object or null", &value)),
    }
    if machine
        .heartbeat
        .is_some_and(|h| h.interval.is_zero() || h.timeout.is_zero())
    {
        return Err(js_sys::TypeError::new(
            "ReconnectingWebSocket: option \"heartbeat\" needs an interval and a timeout above 0",
        )
        .into());
    }

    let on_open = function(options, "onOpen")?;
    machine.has_open_hook = on_open.is_some();
    let high_water_mark = number(
        options,
        "highWaterMark",
        "a number of bytes, 0 or more",
        |n| (0.0..=f64::from(u32::MAX)).contains(&n),
    )?
    .map_or(crate::DEFAULT_HIGH_WATER_MARK, |n| n as u32);

    Ok(JsOptions {
        machine,
        high_water_mark,
        ping,
        is_pong,
        should_reconnect: function(options, "shouldReconnect")?,
        on_open,
    })
}
