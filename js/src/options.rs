//! The options as the core takes them: the plain object of values the class has already read
//! and checked (js/options.js, the one place with each option's rule and message), converted.

use super::payload::JsPayload;
use js_sys::{Function, Reflect};
use resocket::internals::MachineConfig;
use resocket::Heartbeat;
use resocket::{Backoff, Jitter, MAX_TIMER_DELAY};
use resocket::{Overflow, QueueLimits};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// The class reads and checks the options (js/options.js, which it imports from beside itself:
// this import also puts that file there), and hands on a plain object of checked values.
#[wasm_bindgen(module = "/options.js")]
extern "C" {
    /// A value as an option error shows it: strings quoted, numbers as JavaScript prints them.
    #[wasm_bindgen(js_name = describeValue)]
    fn describe(value: &JsValue) -> String;
}

/// The options, as the core is configured with them.
pub(crate) struct JsOptions {
    pub(crate) machine: MachineConfig,
    pub(crate) high_water_mark: u32,
    pub(crate) ping: JsPayload,
    pub(crate) is_pong: Option<Function>,
    pub(crate) should_reconnect: Option<Function>,
    pub(crate) on_open: Option<Function>,
    pub(crate) receive: resocket::Receive,
}

/// A value the class would have refused: only a core made some other way than through the
/// class sees this (the class's own message, from js/options.js, says what was expected).
fn invalid(option: &str, got: &JsValue) -> JsValue {
    js_sys::TypeError::new(&format!(
        "ReconnectingWebSocket: option \"{option}\" got {}",
        describe(got)
    ))
    .into()
}

/// Reads `name` from `object` once; `None` when it is absent, `undefined` or `null`.
fn field(object: &JsValue, name: &str) -> Result<Option<JsValue>, JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name))?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// A number.
fn number(object: &JsValue, name: &str) -> Result<Option<f64>, JsValue> {
    field(object, name)?
        .map(|value| value.as_f64().ok_or_else(|| invalid(name, &value)))
        .transpose()
}

/// A number of milliseconds a browser timer can wait: never one that would make the
/// `Duration` conversion fail, nor more than [`MAX_TIMER_DELAY`].
fn millis(object: &JsValue, name: &str) -> Result<Option<Duration>, JsValue> {
    number(object, name)?
        .map(|ms| {
            Duration::try_from_secs_f64(ms / 1000.0)
                .ok()
                .filter(|duration| *duration <= MAX_TIMER_DELAY)
                .ok_or_else(|| invalid(name, &JsValue::from_f64(ms)))
        })
        .transpose()
}

/// A count; counts beyond what the platform holds saturate (no limit, in practice).
fn count(object: &JsValue, name: &str) -> Result<Option<usize>, JsValue> {
    Ok(number(object, name)?.map(|n| n as usize))
}

/// One of the strings `choices` names, as its position there.
fn choice(object: &JsValue, name: &str, choices: &[&str]) -> Result<Option<usize>, JsValue> {
    field(object, name)?
        .map(|value| {
            let text = value.as_string();
            choices
                .iter()
                .position(|choice| Some(*choice) == text.as_deref())
                .ok_or_else(|| invalid(name, &value))
        })
        .transpose()
}

fn function(object: &JsValue, name: &str) -> Result<Option<Function>, JsValue> {
    field(object, name)?
        .map(|value| {
            value
                .dyn_into::<Function>()
                .map_err(|value| invalid(name, &value))
        })
        .transpose()
}

/// Reads the plain object of values the class has already read and checked
/// (`readOptions().core` in js/options.js, where every option's rule and message live):
/// absent options keep their defaults. This only converts: a value of the wrong type is a
/// `TypeError` naming the option, and what the configuration refuses (a zero minimum delay,
/// say) the core refuses when it starts, so no value can make it misbehave.
pub(crate) fn read(options: &JsValue) -> Result<JsOptions, JsValue> {
    if !options.is_object() {
        return read(&js_sys::Object::new());
    }
    let mut backoff = Backoff::default();
    if let Some(delay) = millis(options, "minDelay")? {
        backoff.min_delay = delay;
    }
    if let Some(delay) = millis(options, "maxDelay")? {
        backoff.max_delay = delay;
    }
    if let Some(factor) = number(options, "factor")? {
        backoff.factor = factor;
    }
    if let Some(jitter) = choice(options, "jitter", &["full", "decorrelated", "none"])? {
        backoff.jitter = match jitter {
            1 => Jitter::Decorrelated,
            2 => Jitter::None,
            _ => Jitter::Full,
        };
    }
    if has(options, "maxRetries")? {
        // null: no limit (the class turns Infinity into null). Saturating: more retries than
        // a u32 holds is no limit in practice.
        backoff.max_retries = number(options, "maxRetries")?.map(|retries| retries as u32);
    }
    if let Some(after) = millis(options, "stableAfter")? {
        backoff.stable_after = after;
    }

    let mut limits = QueueLimits::default();
    if let Some(messages) = count(options, "maxQueuedMessages")? {
        limits.max_messages = messages;
    }
    if let Some(bytes) = count(options, "maxQueuedBytes")? {
        limits.max_bytes = bytes;
    }
    if choice(options, "overflow", &["reject", "drop-oldest"])? == Some(1) {
        limits.overflow = Overflow::DropOldest;
    }

    let mut machine = MachineConfig::default().backoff(backoff).queue(limits);
    if has(options, "connectTimeout")? {
        machine.connect_timeout = millis(options, "connectTimeout")?;
    }

    let mut ping = JsPayload {
        value: JsValue::from_str("ping"),
        bytes: 4,
    };
    let mut is_pong = None;
    if let Some(heartbeat) = field(options, "heartbeat")? {
        let (Some(interval), Some(timeout)) = (
            millis(&heartbeat, "interval")?,
            millis(&heartbeat, "timeout")?,
        ) else {
            return Err(invalid("heartbeat", &heartbeat));
        };
        machine.heartbeat = Some(Heartbeat::new(interval, timeout));
        if let Some(value) = field(&heartbeat, "ping")? {
            let bytes =
                super::byte_length(&value).map_err(|_| invalid("heartbeat.ping", &value))?;
            // Sent again at every interval: a copy, so reusing the buffer changes nothing.
            ping = JsPayload {
                value: super::snapshot(&value),
                bytes,
            };
        }
        is_pong = function(&heartbeat, "isPong")?;
    }

    let on_open = function(options, "onOpen")?;
    Ok(JsOptions {
        machine,
        // Saturating: the class allows 0 to u32::MAX.
        high_water_mark: number(options, "highWaterMark")?
            .map_or(resocket::DEFAULT_HIGH_WATER_MARK, |bytes| bytes as u32),
        ping,
        is_pong,
        should_reconnect: function(options, "shouldReconnect")?,
        on_open,
        receive: match choice(options, "receive", &["events", "backpressure"])? {
            Some(1) => resocket::Receive::Backpressure,
            _ => resocket::Receive::Events,
        },
    })
}

/// Whether `name` is an own or inherited property of `object` (a `null` there means "none").
fn has(object: &JsValue, name: &str) -> Result<bool, JsValue> {
    Reflect::has(object, &JsValue::from_str(name))
}
