//! Reading what the user handed the class: the URL and protocols (values or functions), and
//! what their callbacks answer.

use super::*;

/// `shouldReconnect`'s answer: a number of milliseconds above 0 retries after at least that
/// long (plus the backoff's jitter); otherwise its truthiness; false (reported) if it threw.
pub(super) fn retry_answer(result: Result<JsValue, JsValue>) -> resocket::Retry {
    match &result {
        Ok(value) => match value.as_f64() {
            Some(millis) if millis > 0.0 => {
                let millis = millis.min(resocket::MAX_TIMER_DELAY.as_secs_f64() * 1000.0);
                // Whole milliseconds: the cast saturates, and the value is capped above.
                resocket::Retry::After(std::time::Duration::from_millis(millis as u64))
            }
            _ => answer(result).into(),
        },
        Err(_) => answer(result).into(),
    }
}

/// A user predicate's answer: its truthiness, or false (reported) if it threw.
pub(super) fn answer(result: Result<JsValue, JsValue>) -> bool {
    match result {
        Ok(answer) => answer.is_truthy(),
        Err(thrown) => {
            report_error(&thrown);
            false
        }
    }
}

/// A URL as a string: a string, or anything with an `href` (a `URL`).
fn url_string(value: &JsValue) -> Option<String> {
    value.as_string().or_else(|| {
        Reflect::get(value, &JsValue::from_str("href"))
            .ok()
            .and_then(|href| href.as_string())
    })
}

/// The subprotocols argument: absent, a string, or an array of strings.
pub(super) fn protocol_list(protocols: &JsValue) -> Result<Vec<String>, JsValue> {
    if protocols.is_undefined() || protocols.is_null() {
        return Ok(Vec::new());
    }
    if let Some(protocol) = protocols.as_string() {
        return Ok(vec![protocol]);
    }
    if Array::is_array(protocols) {
        return Array::from(protocols)
            .iter()
            .map(|protocol| {
                protocol.as_string().ok_or_else(|| {
                    JsValue::from(js_sys::TypeError::new("each subprotocol must be a string"))
                })
            })
            .collect();
    }
    Err(
        js_sys::TypeError::new("protocols must be a string, an array of strings or a function")
            .into(),
    )
}

/// What user code threw, reported (`reportError`) and returned as the core's error.
fn reported(thrown: JsValue) -> Error {
    report_error(&thrown);
    resocket::internals::browser_error(&thrown)
}

/// Calls the user's `function` with `argument` and awaits its result if it is a promise.
/// What it throws or rejects with is reported (`reportError`) and returned as the error.
pub(super) async fn call_maybe_async(
    function: &Function,
    argument: &JsValue,
) -> Result<JsValue, Error> {
    let result = function
        .call1(&JsValue::UNDEFINED, argument)
        .map_err(reported)?;
    match result.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(reported),
        Err(value) => Ok(value),
    }
}

/// The URL argument: a string or `URL`, or a function (sync or async) called before every
/// attempt. Subprotocols given as a function make the target a provider too.
pub(super) fn url_source(url: JsValue, protocols: JsValue) -> Result<UrlSource, JsValue> {
    let url_function = url.dyn_ref::<Function>().cloned();
    let protocols_function = protocols.dyn_ref::<Function>().cloned();
    // Read once: a URL object's `href` may be a getter.
    let fixed_url = match (&url_function, url_string(&url)) {
        (None, None) => {
            return Err(js_sys::TypeError::new("url must be a string, a URL or a function").into())
        }
        (_, fixed_url) => fixed_url,
    };
    if let (None, None, Some(url)) = (&url_function, &protocols_function, &fixed_url) {
        return Ok(UrlSource::Fixed(url.clone()));
    }
    let fixed_protocols = match protocols_function {
        Some(_) => None,
        None => Some(protocol_list(&protocols)?),
    };
    let provider: UrlProvider = Rc::new(move || {
        let url_function = url_function.clone();
        let protocols_function = protocols_function.clone();
        let fixed_url = fixed_url.clone();
        let fixed_protocols = fixed_protocols.clone();
        let future: LocalBoxFuture<'static, Result<Target, Error>> = Box::pin(async move {
            let url = match (&url_function, fixed_url) {
                (Some(function), _) => {
                    let value = call_maybe_async(function, &JsValue::UNDEFINED).await?;
                    url_string(&value).ok_or_else(|| {
                        let reason = "the URL function must return a string or a URL";
                        report_error(
                            &js_sys::TypeError::new(&format!("ReconnectingWebSocket: {reason}"))
                                .into(),
                        );
                        Error::InvalidUrl {
                            url: format!("{value:?}"),
                            reason: reason.to_owned(),
                        }
                    })?
                }
                (None, Some(url)) => url,
                (None, None) => String::new(),
            };
            let protocols = match (&protocols_function, fixed_protocols) {
                (Some(function), _) => {
                    let value = call_maybe_async(function, &JsValue::UNDEFINED).await?;
                    protocol_list(&value).map_err(reported)?
                }
                (None, protocols) => protocols.unwrap_or_default(),
            };
            Ok((url, Some(protocols)))
        });
        future
    });
    Ok(UrlSource::Provider(provider))
}
