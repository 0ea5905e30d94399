//! The `Analytics` object the page calls.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use zendesk_analytics_core::{map_event, Event, Map, Settings, Value};

use crate::args::{resolve_id_call, resolve_track};
use crate::event::{self, Identity};
use crate::js::{get_string, to_js, uuid_v4};
use crate::queue::{Queue, FLUSH_AT};
use crate::transport::{send_batch, SendError};

/// Flush this long after the first queued event at the latest.
const FLUSH_INTERVAL_MS: i32 = 5_000;
/// Wait before re-sending a batch the proxy could not take.
const RETRY_DELAY_MS: i32 = 1_000;

/// The SDK instance behind `window.analytics`.
#[wasm_bindgen]
pub struct Analytics {
    inner: Rc<Inner>,
}

struct Inner {
    write_key: String,
    proxy_url: String,
    /// Destination settings from the proxy; `None` until loaded, or when the
    /// proxy could not be asked (then nothing is dropped in the browser: the
    /// proxy maps every event again anyway).
    settings: Rc<RefCell<Option<Settings>>>,
    /// Resolves once the settings request has finished, either way.
    settings_loaded: Promise,
    queue: RefCell<Queue>,
    user_id: RefCell<Option<String>>,
    anonymous_id: String,
    debug: Cell<bool>,
    flush_scheduled: Cell<bool>,
}

#[wasm_bindgen]
impl Analytics {
    /// `Analytics.load({writeKey, proxyUrl})`: creates the SDK and fetches the
    /// destination settings from the proxy.
    pub fn load(options: JsValue) -> Result<Analytics, JsError> {
        let write_key = get_string(&options, "writeKey")
            .filter(|k| !k.is_empty())
            .ok_or_else(|| JsError::new("load() needs a writeKey: Analytics.load({writeKey: '…', proxyUrl: '…'})"))?;
        let proxy_url = get_string(&options, "proxyUrl")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| JsError::new("load() needs the proxyUrl of your zendesk-analytics proxy"))?;
        let settings = Rc::new(RefCell::new(None));
        let settings_loaded = {
            let settings = settings.clone();
            let (url, key) = (proxy_url.clone(), write_key.clone());
            future_to_promise(async move {
                match fetch_settings(&url, &key).await {
                    Ok(loaded) => *settings.borrow_mut() = Some(loaded),
                    Err(reason) => warn(&format!(
                        "could not load settings from the proxy ({reason}); events are sent unfiltered"
                    )),
                }
                Ok(JsValue::UNDEFINED)
            })
        };
        Ok(Analytics {
            inner: Rc::new(Inner {
                write_key,
                proxy_url,
                settings,
                settings_loaded,
                queue: RefCell::new(Queue::default()),
                user_id: RefCell::new(None),
                anonymous_id: uuid_v4(),
                debug: Cell::new(false),
                flush_scheduled: Cell::new(false),
            }),
        })
    }

    /// `identify(userId?, traits?, options?, callback?)`.
    pub fn identify(&self, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> Promise {
        let call = resolve_id_call(&a, &b, &c, &d);
        if let Some(id) = &call.id {
            *self.inner.user_id.borrow_mut() = Some(id.clone());
        }
        let mut fields = Map::new();
        fields.insert("traits".into(), Value::Object(call.traits));
        let event = self.build("identify", fields, call.options);
        self.inner.clone().dispatch(event, call.callback)
    }

    /// `track(event, properties?, options?, callback?)`.
    pub fn track(&self, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> Promise {
        let Some(call) = resolve_track(&a, &b, &c, &d) else {
            return Promise::reject(&JsError::new("track() needs an event name").into());
        };
        let mut fields = Map::new();
        fields.insert("event".into(), call.event.into());
        fields.insert("properties".into(), Value::Object(call.properties));
        let event = self.build("track", fields, call.options);
        self.inner.clone().dispatch(event, call.callback)
    }

    /// Sends every queued event now; the Promise settles once the proxy has
    /// them (or once they are back in the queue for a retry).
    pub fn flush(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            // Calls made before this flush finish mapping first (promise
            // callbacks run in registration order).
            let _ = JsFuture::from(inner.settings_loaded.clone()).await;
            inner.send_now().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `debug(true)` logs the Zendesk operations each call produces.
    pub fn debug(&self, on: bool) {
        self.inner.debug.set(on);
    }
}

impl Analytics {
    fn build(&self, kind: &str, fields: Map, options: Map) -> Value {
        let user_id = self.inner.user_id.borrow();
        let identity = Identity { user_id: user_id.as_deref(), anonymous_id: &self.inner.anonymous_id };
        event::build(kind, identity, fields, options)
    }
}

impl Inner {
    /// Maps the event in the browser, queues it unless it maps to nothing,
    /// and settles the call's Promise (and callback) with what happened.
    fn dispatch(self: Rc<Self>, event: Value, callback: Option<Function>) -> Promise {
        future_to_promise(async move {
            let _ = JsFuture::from(self.settings_loaded.clone()).await;
            let result = Object::new();
            let _ = Reflect::set(&result, &"event".into(), &to_js(&event));
            match Event::from_value(&event) {
                Err(e) => {
                    let _ = Reflect::set(&result, &"invalid".into(), &e.to_string().into());
                    warn(&format!("event not sent: {e}"));
                }
                Ok(parsed) => {
                    let settings = self.settings.borrow().clone();
                    let send = match settings {
                        Some(settings) => {
                            let mapping = map_event(&parsed, &settings);
                            if self.debug.get() {
                                web_sys::console::log_2(
                                    &JsValue::from_str(&format!("zendesk-analytics {}:", parsed.kind.as_str())),
                                    &to_js(&mapping),
                                );
                            }
                            let _ = Reflect::set(&result, &"mapping".into(), &to_js(&mapping));
                            !mapping.is_empty()
                        }
                        None => true,
                    };
                    if send {
                        self.enqueue(event);
                    }
                    let _ = Reflect::set(&result, &"queued".into(), &send.into());
                }
            }
            if let Some(cb) = callback {
                let _ = cb.call1(&JsValue::NULL, &result);
            }
            Ok(result.into())
        })
    }

    fn enqueue(self: &Rc<Self>, event: Value) {
        let len = {
            let mut queue = self.queue.borrow_mut();
            queue.push(event);
            queue.len()
        };
        if len >= FLUSH_AT {
            let inner = self.clone();
            wasm_bindgen_futures::spawn_local(async move { inner.send_now().await });
        } else {
            self.schedule_flush(FLUSH_INTERVAL_MS);
        }
    }

    fn schedule_flush(self: &Rc<Self>, delay_ms: i32) {
        if self.flush_scheduled.replace(true) {
            return;
        }
        let inner = self.clone();
        let tick = Closure::once_into_js(move || {
            inner.flush_scheduled.set(false);
            wasm_bindgen_futures::spawn_local(async move { inner.send_now().await });
        });
        let scheduled = web_sys::window().map(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(tick.unchecked_ref(), delay_ms)
        });
        if !matches!(scheduled, Some(Ok(_))) {
            self.flush_scheduled.set(false);
        }
    }

    async fn send_now(self: &Rc<Self>) {
        let events = self.queue.borrow_mut().take();
        if events.is_empty() {
            return;
        }
        match send_batch(&self.proxy_url, &self.write_key, &events).await {
            Ok(()) => {}
            Err(SendError::Retryable(reason)) => {
                warn(&format!("sending failed ({reason}); will retry"));
                self.queue.borrow_mut().restore(events);
                self.schedule_flush(RETRY_DELAY_MS);
            }
            Err(SendError::Refused(reason)) => {
                warn(&format!("the proxy refused {} event(s): {reason}", events.len()));
            }
        }
    }
}

async fn fetch_settings(proxy_url: &str, write_key: &str) -> Result<Settings, String> {
    let url = format!("{}/v1/projects/{}/settings", proxy_url.trim_end_matches('/'), write_key);
    let response = gloo_net::http::Request::get(&url).send().await.map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(format!("the proxy answered {}", response.status()));
    }
    let text = response.text().await.map_err(|e| e.to_string())?;
    let json = js_sys::JSON::parse(&text).map_err(|_| "the settings are not JSON".to_owned())?;
    let integrations = Reflect::get(&json, &"integrations".into()).map_err(|_| "no integrations".to_owned())?;
    serde_wasm_bindgen::from_value(integrations).map_err(|e| e.to_string())
}

fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("zendesk-analytics: {message}")));
}
