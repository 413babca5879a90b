//! The `onOpen` option as the driver's open hook, and the socket object the hook is given.

use super::*;

/// The `onOpen` option as the driver's hook: called with an object whose `send` writes on the
/// fresh connection, ahead of everything queued; awaited if it returns a promise. What it
/// throws or rejects with is reported and fails the attempt.
pub(super) fn open_hook(hook: Function) -> OpenHook<JsPayload> {
    Rc::new(move |connection: Rc<Connection<JsPayload>>| {
        let hook = hook.clone();
        Box::pin(async move {
            let socket = HookSocket::new(connection);
            call_maybe_async(&hook, &socket.object).await?;
            Ok(())
        })
    })
}

/// The socket the `onOpen` hook gets. It works only while the hook runs: dropping this (when
/// the hook has settled, or its attempt was abandoned) makes its `send` throw an
/// `InvalidStateError` that says so, and lets the closure go.
struct HookSocket {
    object: JsValue,
    end: Function,
    _send: Closure<dyn Fn(JsValue) -> Result<(), JsValue>>,
}

impl HookSocket {
    fn new(connection: Rc<Connection<JsPayload>>) -> Self {
        let send = Closure::<dyn Fn(JsValue) -> Result<(), JsValue>>::new(move |data: JsValue| {
            let bytes = byte_length(&data)?;
            connection
                .start_send(&JsPayload { value: data, bytes })
                .map_err(to_js_error)
        });
        let parts = open_hook_socket(send.as_ref());
        HookSocket {
            object: parts.get(0),
            end: parts.get(1).unchecked_into(),
            _send: send,
        }
    }
}

impl Drop for HookSocket {
    fn drop(&mut self) {
        // Before the closure goes: afterwards the socket must no longer reach it.
        let _ = self.end.call0(&JsValue::UNDEFINED);
    }
}
