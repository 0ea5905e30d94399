//! The `Analytics` object the page calls: resolves the arguments, builds the
//! event at call time, maps it with the core and queues it; [`delivery`]
//! sends the queue.

mod delivery;

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use zendesk_analytics_core::text::{sentence, Piece::Int};
use zendesk_analytics_core::{map_event, Event, Map, Outcome, Settings, ToJson, Value};

use crate::args::{as_id, resolve, Args, Kind, EVENT_TYPES};
use crate::callbacks::{after, Callback};
use crate::context::{current_page, StaticContext};
use crate::emitter::{emit, Delivery};
use crate::event::{build, finish, put, Built};
use crate::identity::{Identity, Party};
use crate::js::{get, get_string, invoke, parse_json, parse_json_value, take_refusal, to_map, to_value, warn, Array, Function, Promise};
use crate::json::ObjectText;
use crate::persist::Persisted;
use crate::queue::{Queue, Queued};
use crate::transport::{accepted, get_request, status};

/// Flush this long after an event is queued at the latest.
const FLUSH_INTERVAL_MS: f64 = 5_000.0;

/// The SDK instance behind `window.analytics`. The page calls it through
/// the facade (src/browser.js), whose every method is one call of
/// [`Analytics::call`]: one entry into the wasm rather than an export, its
/// wrapper and a glue method per method.
struct Analytics {
    inner: &'static Inner,
}

struct Inner {
    write_key: String,
    url: String,
    /// Destination settings from the proxy; `None` when the proxy could not
    /// be asked (then nothing is dropped in the browser: the proxy maps every
    /// event again anyway).
    settings: &'static RefCell<Option<Settings>>,
    /// Settles once the settings request has finished, either way, and
    /// `settings` and `ready` are set: calls waiting on it map with them.
    settings_loaded: Promise,
    ready: &'static Cell<bool>,
    identity: RefCell<Identity>,
    context: StaticContext,
    /// The page a snippet call was made on, for the next replayed call.
    replay_page: RefCell<Option<Map>>,
    queue: RefCell<Queue>,
    persisted: Persisted,
    debug: Cell<bool>,
    /// The sending in progress, if any (`flush()` waits for it).
    sending: RefCell<Option<Promise>>,
    /// When the pending flush timer fires (ms since epoch), if one is set.
    timer_due: Cell<Option<f64>>,
    /// Counts the flush timers set; only the latest acts when it fires. An
    /// earlier one is left to run out rather than cleared: what a once-closure
    /// holds is freed when it runs, a cleared timer's only by the garbage
    /// collector (never where FinalizationRegistry is missing).
    timer_generation: Cell<u32>,
    /// Not before this time (backoff, Retry-After), except for `flush()`.
    retry_at: Cell<f64>,
    save_scheduled: Cell<bool>,
    /// Whether the console was told the queue is full (once per page).
    queue_full_warned: Cell<bool>,
    /// Set on `pagehide`, cleared on `pageshow`: while the page is gone (or
    /// in the back/forward cache) its stored queue is marked closed, free for
    /// the next page to adopt. A `visibilitychange` after `pagehide` (the
    /// order Chromium fires them in) must not mark it live again.
    closing: Cell<bool>,
    /// Events already handed to a keepalive request on page exit (a list:
    /// the queue holds at most 1,000, and a set's hashing code costs more wasm).
    exit_sent: RefCell<Vec<String>>,
    /// The page's `on()` listeners of each [`Delivery`] event, in its order:
    /// JS arrays, added to and removed from by the facade.
    listeners: JsValue,
}

/// `load({writeKey, proxyUrl})`: creates the SDK, restores identity and any
/// queued events, and fetches the destination settings from the proxy.
/// Returns the facade the page calls.
pub fn load(options: &JsValue) -> Result<JsValue, JsError> {
    let write_key = get_string(options, "writeKey")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| JsError::new("load() needs a writeKey: load({writeKey: '…', proxyUrl: 'https://…'})"))?;
    let proxy_url = get_string(options, "proxyUrl")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| JsError::new("load() needs the proxyUrl of your zendesk-analytics proxy: load({writeKey, proxyUrl: 'https://…'})"))?;
    // The API paths follow the proxy URL without its trailing slashes (bytes,
    // not a char pattern: str's pattern searching would be linked in for it).
    let base = &proxy_url[..proxy_url.bytes().rposition(|b| b != b'/').map_or(0, |last| last + 1)];
    let settings_url = [base, "/v1/projects/", &write_key, "/settings"].concat();
    let settings = leak(RefCell::new(None));
    let ready = leak(Cell::new(false));
    let settings_loaded = fetch_settings(&settings_url, move |loaded| {
        match loaded {
            Ok(loaded) => *settings.borrow_mut() = Some(loaded),
            Err(reason) => warn(&["could not load settings from the proxy (", &reason, "); events are sent unfiltered"].concat()),
        }
        ready.set(true);
    });
    let inner = leak(Inner {
        url: [base, "/v1/batch"].concat(),
        persisted: Persisted::new(&write_key),
        write_key,
        settings,
        settings_loaded: settings_loaded.clone(),
        ready,
        identity: RefCell::new(Identity::load()),
        context: StaticContext::read(),
        replay_page: RefCell::new(None),
        queue: RefCell::new(Queue::default()),
        debug: Cell::new(false),
        sending: RefCell::new(None),
        timer_due: Cell::new(None),
        timer_generation: Cell::new(0),
        retry_at: Cell::new(0.0),
        save_scheduled: Cell::new(false),
        queue_full_warned: Cell::new(false),
        closing: Cell::new(false),
        exit_sent: RefCell::new(Vec::new()),
        listeners: parse_json("[[],[],[]]"),
    });
    inner.adopt_orphans();
    inner.save();
    inner.listen();
    let _ = after(&settings_loaded, move |_| {
        if inner.queue.borrow().is_empty() {
            return JsValue::UNDEFINED;
        }
        inner.drain(false)
    });
    let analytics = Analytics { inner };
    // JS owns it: it lives as long as the facade.
    let call = Closure::<Callback>::new(move |args: JsValue| analytics.call(args.unchecked_ref()));
    Ok(facade(&call.into_js_value(), &inner.listeners))
}

/// Moves `value` to the heap for the rest of the page's life. The SDK's state
/// is never freed anyway (the page's event listeners hold it), and callbacks
/// that hold a plain reference need no reference counting and no drop code.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// What the facade can ask of [`Analytics::call`].
#[derive(Clone, Copy)]
enum Method {
    Event(Kind),
    Flush,
    Ready,
    Debug,
    Reset,
    SetAnonymousId,
    ReplayPage,
    // The methods of the views `user()` and `group()` return; the first
    // argument says whose (`true`: the group's).
    Id,
    AnonymousId,
    Traits,
}

/// The methods by the index the facade calls them with (src/browser.js): the
/// analytics object's in the order of its list of names, then the views'.
const METHODS: [Method; 14] = {
    use Kind::*;
    use Method::*;
    [
        Event(Identify), Event(Track), Event(Page), Event(Group), Event(Alias),
        Flush, Ready, Debug, Reset, SetAnonymousId, ReplayPage,
        Id, AnonymousId, Traits,
    ]
};

impl Analytics {
    /// `call([method, a, b, c, d, e])`: runs the facade's method of that index
    /// with its arguments (missing ones are `undefined`).
    fn call(&self, args: &Array) -> JsValue {
        let Some(&method) = args.get(0).as_f64().and_then(|index| METHODS.get(index as usize)) else {
            return JsValue::UNDEFINED;
        };
        // Not `[1, 2, 3, 4, 5].map(…)`: an array map is a loop of its own.
        let [a, b, c, d, e] = [args.get(1), args.get(2), args.get(3), args.get(4), args.get(5)];
        match method {
            Method::Event(Kind::Group) if [&a, &b, &c, &d].iter().all(|v| v.is_undefined()) => {
                // `group()` reads the group: no event; for `undefined` the
                // facade returns the group's view.
                self.inner.replay_page.borrow_mut().take();
                JsValue::UNDEFINED
            }
            Method::Event(kind) => self.make_call(kind, &[a, b, c, d, e]),
            Method::Flush => self.flush().into(),
            Method::Ready => self.ready(a).into(),
            Method::Debug => {
                self.inner.debug.set(a.is_undefined() || a.is_truthy());
                JsValue::UNDEFINED
            }
            Method::Reset => {
                self.inner.identity.borrow_mut().reset();
                JsValue::UNDEFINED
            }
            Method::SetAnonymousId => self.set_anonymous_id(&a),
            Method::ReplayPage => {
                if let Some(page) = to_map(&a) {
                    *self.inner.replay_page.borrow_mut() = Some(page);
                }
                JsValue::UNDEFINED
            }
            Method::Id => self.id(a.is_truthy()),
            Method::AnonymousId => self.inner.identity.borrow().anonymous_id.as_str().into(),
            Method::Traits => self.traits(a.is_truthy()),
        }
    }

    /// Resolves the arguments of a `kind` call and makes it: one function for
    /// the five, so what they share is compiled once.
    fn make_call(&self, kind: Kind, args: &[JsValue; 5]) -> JsValue {
        let inner = self.inner;
        take_refusal(); // one left by converting anything else is not this call's
        let Args { ids: [first, second], objects: [object, options], callback } = resolve(kind, args);
        if let Some(reason) = take_refusal() {
            return inner.invalid(reason, callback).into();
        }
        let mut fields = Map::new();
        match kind {
            // The same arguments and fields, applied to the user or the group.
            Kind::Identify | Kind::Group => {
                let mut identity = inner.identity.borrow_mut();
                let applied = match kind {
                    Kind::Group => identity.group(first.as_deref(), &object),
                    _ => identity.identify(first.as_deref(), &object),
                };
                if let Err(reason) = applied {
                    // Released first: the page's callback may read the user.
                    drop(identity);
                    return inner.invalid(&reason, callback).into();
                }
                let party = if let Kind::Group = kind {
                    if let Some(id) = &identity.group.id {
                        put(&mut fields, "groupId", id.as_str().into());
                    }
                    &identity.group
                } else {
                    &identity.user
                };
                put(&mut fields, "traits", Value::Object(party.traits.clone()));
            }
            Kind::Track => {
                let Some(event) = first else {
                    return inner.invalid("track() needs an event name: track('Order Completed', {…})", callback).into();
                };
                put(&mut fields, "event", event.into());
                put(&mut fields, "properties", Value::Object(object));
            }
            Kind::Page => {
                let mut properties = object;
                if let Some(name) = &second {
                    put(&mut fields, "name", name.as_str().into());
                    properties.get_or_insert_with("name".into(), || name.as_str().into());
                }
                if let Some(category) = first {
                    put(&mut fields, "category", category.into());
                }
                put(&mut fields, "properties", Value::Object(properties));
            }
            Kind::Alias => {
                let Some(to) = first else {
                    return inner.invalid("alias() needs the new userId: alias('new-id', 'previous-id')", callback).into();
                };
                let from = second.unwrap_or_else(|| {
                    let identity = inner.identity.borrow();
                    identity.user.id.clone().unwrap_or_else(|| identity.anonymous_id.clone())
                });
                put(&mut fields, "userId", to.into());
                put(&mut fields, "previousId", from.into());
            }
        }
        inner.call(EVENT_TYPES[kind as usize], fields, options, callback).into()
    }

    /// Sends every queued event now; the Promise settles once the proxy has
    /// them, or once they are back in the queue for a retry.
    fn flush(&self) -> Promise {
        let inner = self.inner;
        after(&inner.settings_loaded, move |_| inner.flush_when_idle())
    }

    /// Resolves (and calls `callback`) once the settings are loaded.
    fn ready(&self, callback: JsValue) -> Promise {
        after(&self.inner.settings_loaded, move |_| {
            call_back(callback.dyn_into().ok(), &JsValue::UNDEFINED);
            JsValue::UNDEFINED
        })
    }

    fn set_anonymous_id(&self, id: &JsValue) -> JsValue {
        if let Some(id) = as_id(id) {
            self.inner.identity.borrow_mut().set_anonymous_id(&id);
        }
        self.inner.identity.borrow().anonymous_id.clone().into()
    }

    /// The userId (or groupId), or `undefined`. JsValues out, not Strings:
    /// no conversion code per getter.
    fn id(&self, group: bool) -> JsValue {
        self.party(group, |party| party.id.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str))
    }

    fn traits(&self, group: bool) -> JsValue {
        self.party(group, |party| parse_json(&party.traits.to_json()))
    }

    /// `read` of the user, or of the group.
    fn party(&self, group: bool, read: impl FnOnce(&Party) -> JsValue) -> JsValue {
        let identity = self.inner.identity.borrow();
        read(if group { &identity.group } else { &identity.user })
    }
}

impl Inner {
    /// Builds the event now (messageId, timestamp, page), then maps and
    /// queues it once the settings are known. A valid event made before
    /// that is queued (and stored) at once, unmapped: a page left before the
    /// settings arrive still sends it.
    fn call(&'static self, kind: &str, fields: Map, options: Map, callback: Option<Function>) -> Promise {
        let page = self.replay_page.borrow_mut().take().unwrap_or_else(current_page);
        let value = build(kind, &self.identity.borrow(), fields, options, self.context.with_page(page));
        let built = match finish(value) {
            Ok(built) => built,
            Err(reason) => return self.invalid(&reason, callback),
        };
        if self.ready.get() {
            return Promise::resolve(&self.dispatch(built, callback, false));
        }
        let early = Event::from_value(&built.value).is_ok();
        if early {
            self.enqueue(Queued { message_id: built.message_id.clone(), json: built.json.clone(), attempts: 0, mapped: false });
        }
        after(&self.settings_loaded, move |_| self.dispatch(built, callback, early))
    }

    /// Tells the `on(event)` listeners.
    fn emit(&self, event: Delivery, payload: &JsValue) {
        emit(&self.listeners, event as u32, payload);
    }

    /// A call refused before it became an event: reported, never thrown.
    fn invalid(&self, reason: &str, callback: Option<Function>) -> Promise {
        // A replayed snippet call's page is this call's, not the next one's.
        self.replay_page.borrow_mut().take();
        warn(&["call ignored: ", reason].concat());
        let mut text = ObjectText::new();
        text.value(Delivery::Invalid.name(), reason);
        let result = parse_json(&text.finish());
        self.emit(Delivery::Invalid, &result);
        call_back(callback, &result);
        Promise::resolve(&result)
    }

    /// Maps the event in the browser and queues it unless it maps to
    /// nothing; returns what happened (and tells the callback). An `early`
    /// event was queued unmapped when the call was made.
    fn dispatch(&'static self, built: Built, callback: Option<Function>, early: bool) -> JsValue {
        let mut text = ObjectText::new();
        text.value("messageId", &built.message_id);
        let mut mapped_kind = None;
        // The delivery event and reason when the event goes no further.
        let refused = match Event::from_value(&built.value) {
            Err(e) => {
                let reason = e.message();
                warn(&["event not sent: ", &reason].concat());
                Some((Delivery::Invalid, reason))
            }
            Ok(event) => {
                let mapping = self.settings.borrow().as_ref().map(|s| map_event(&event, s));
                if let Some(mapping) = &mapping {
                    text.value("mapping", mapping);
                    mapped_kind = Some(event.kind.as_str());
                }
                mapping.filter(|m| m.is_empty()).map(|m| (Delivery::Dropped, drop_reason(&m.zendesk)))
            }
        };
        match &refused {
            Some((delivery, reason)) => {
                text.value(delivery.name(), reason);
                text.json("event", &built.json);
            }
            None => text.json("queued", "true"),
        }
        let result = parse_json(&text.finish());
        if let Some(kind) = mapped_kind.filter(|_| self.debug.get()) {
            log_mapping(kind, &get(&result, "mapping"));
        }
        match refused {
            Some((delivery, _)) => {
                self.unqueue(&built.message_id);
                self.emit(delivery, &result);
            }
            // An early event no longer queued was pushed out by a full queue
            // (reported dropped) or delivered by a page exit: it stays out.
            None if early && !self.queue.borrow().contains(&built.message_id) => {}
            None => self.enqueue(Queued { message_id: built.message_id, json: built.json, attempts: 0, mapped: true }),
        }
        call_back(callback, &result);
        result
    }
}

/// The sentence for an event no destination has anything to do with.
fn drop_reason<Op>(zendesk: &Outcome<Op>) -> String {
    match zendesk {
        Outcome::Skipped(skip) => skip.message.clone(),
        Outcome::Disabled => "no destination is enabled for this write key".into(),
        Outcome::Operations { .. } => String::new(),
    }
}

/// Calls the page's callback, if it gave one, with `result`; one that throws
/// is reported on the console, never thrown back into the page.
fn call_back(callback: Option<Function>, result: &JsValue) {
    if callback.is_some_and(|callback| !invoke(&callback, result)) {
        warn("a callback threw");
    }
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// The object `load()` returns: the analytics.js methods, each a call of
    /// `call([method index, ...arguments])`, but for `on` and `off`, which
    /// add to and remove from the `listeners` lists.
    fn facade(call: &JsValue, listeners: &JsValue) -> JsValue;

    /// Logs the mapping of a `kind` call to the console (`debug(true)`).
    #[wasm_bindgen(js_name = logMapping)]
    fn log_mapping(kind: &str, mapping: &JsValue);
}

/// Asks the proxy for the destination settings; `done` gets them or the
/// reason why not. The Promise settles after `done` has run.
fn fetch_settings(url: &str, done: impl FnOnce(Result<Settings, String>) + 'static) -> Promise {
    after(&get_request(url), move |answer| {
        done(match answer {
            Ok(answer) if accepted(&answer) => {
                let json = parse_json_value(&get(&answer, "2"));
                match json.is_object() {
                    true => Settings::from_value(&to_value(&get(&json, "integrations"))).map_err(|e| e.message()),
                    false => Err("the settings are not JSON".into()),
                }
            }
            Ok(answer) => Err(sentence("the proxy answered {}", &[Int(status(&answer).into())])),
            Err(_) => Err("network error".into()),
        });
        JsValue::UNDEFINED
    })
}
