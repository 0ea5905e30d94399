//! Property tests: on any JSON at all, and on event-shaped JSON that reaches
//! every rule, the core never panics, maps deterministically, and every
//! operation it emits keeps the invariants the executor relies on.

use proptest::prelude::*;
use zendesk_analytics_core::zendesk::User;
use zendesk_analytics_core::{map_event, ConnectSettings, Event, Map, Number, Outcome, Settings, ToJson, Value, ZendeskOp, ZendeskSettings};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        prop::sample::select(vec![
            "", " ", "ada@example.com", "not an email", "Ada King", "America/Los_Angeles", "Los Angeles",
            "Pacific Time (US & Canada)", "Mars/Olympus", "ios", "android", "*", "Ticket Created", "Ticket Updated",
            "urgent", "solved", "incident", "42", "-7", "2026-11-25T04:00:00Z", "2026-13-99T99:99:99+99:99",
            "Article Read", "a, b c", "true", "日本", "0123456789012345678901234567890123456789012345678901234567890",
        ])
        .prop_map(str::to_owned),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Number(Number::Int(i))),
        (1i64..100_000).prop_map(|i| Value::Number(Number::Int(i))),
        any::<f64>().prop_map(|f| Value::Number(Number::from_f64(f))),
        text().prop_map(Value::String),
    ]
}

/// Keys the mapping looks at, mixed with arbitrary ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "email", "name", "firstName", "lastName", "first_name", "last_name", "phone", "timezone", "locale", "locale_id",
            "organizationId", "company", "id", "remove", "domainNames", "tags", "url", "deleted", "ticket_id", "subject",
            "description", "comment", "requester", "requester_email", "requester_id", "priority", "status", "type",
            "custom_fields", "add_tags", "remove_tags", "updated_stamp", "public", "body", "html_body", "external_id",
            "organization_id", "device", "token", "library", "traits", "zendesk_user_id", "Plan Tier", "12345", "!!!",
        ])
        .prop_map(str::to_owned),
        1 => text(),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(key(), json(), 0..8).prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A Segment-shaped event whose fields hold anything.
fn event() -> impl Strategy<Value = Value> {
    let kind = prop::sample::select(vec!["identify", "track", "group", "alias", "page", "screen", "other"]);
    let id = prop_oneof![Just(Value::Null), scalar(), text().prop_map(Value::String)];
    (kind, id.clone(), id.clone(), id.clone(), id, object(), object(), object(), object(), scalar(), scalar())
        .prop_map(|(kind, user_id, anonymous_id, group_id, previous_id, traits, properties, context, integrations, event, timestamp)| {
            let mut m = Map::new();
            m.insert("type".into(), Value::from(kind));
            for (k, v) in [
                ("userId", user_id),
                ("anonymousId", anonymous_id),
                ("groupId", group_id),
                ("previousId", previous_id),
                ("traits", traits),
                ("properties", properties),
                ("context", context),
                ("integrations", integrations),
                ("event", event),
                ("timestamp", timestamp),
                ("messageId", Value::from("m-1")),
            ] {
                if !v.is_null() {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

fn settings() -> impl Strategy<Value = Settings> {
    let events = prop::option::of(proptest::collection::vec(text(), 0..3));
    (any::<[bool; 7]>(), events, any::<bool>(), any::<bool>()).prop_map(|(flags, events, zendesk_on, connect_on)| Settings {
        zendesk: zendesk_on.then(|| ZendeskSettings {
            subdomain: "demo".into(),
            events,
            create_users_as_verified: flags[0],
            skip_verify_email: flags[1],
            send_group_calls_without_user_id: flags[2],
            remove_users_from_organizations: flags[3],
            create_missing_custom_fields: flags[4],
            update_primary_email: flags[5],
            ..ZendeskSettings::default()
        }),
        connect: connect_on.then(|| ConnectSettings { public_key: if flags[6] { "pk".into() } else { String::new() } }),
    })
}

/// Maps twice, checks determinism and the invariants, and serializes.
fn check(value: &Value, settings: &Settings) -> Result<(), TestCaseError> {
    let Ok(event) = Event::from_value(value) else { return Ok(()) };
    let first = map_event(&event, settings);
    prop_assert_eq!(&first, &map_event(&event, settings));
    prop_assert_eq!(serde_json::to_string(&first).ok(), serde_json::to_string(&map_event(&event, settings)).ok());
    // What the browser shows is what serde serializes, written by the same
    // writer (serde_json's own text would write some floats differently).
    let serialized = serde_json::to_value(&first).and_then(serde_json::from_value::<Value>);
    prop_assert_eq!(Some(first.to_json()), serialized.ok().map(|v| v.to_json()));
    if let Outcome::Skipped(skip) = &first.zendesk {
        prop_assert!(skip.message.starts_with(event.kind.as_str()), "{}", skip.message);
    }
    prop_assert!(first.warnings.iter().all(|w| !w.message.is_empty()));
    let sending = !first.zendesk.operations().is_empty() || !first.connect.operations().is_empty();
    prop_assert!(sending || first.warnings.is_empty(), "warnings without operations: {:?}", first.warnings);
    for op in first.zendesk.operations() {
        match op {
            ZendeskOp::UpsertUser { user: User { name, email, .. }, match_on, .. } => {
                prop_assert!(!name.trim().is_empty());
                prop_assert!(email.as_deref().is_some_and(|e| e.contains('@')));
                prop_assert_eq!(&match_on.email, email);
            }
            ZendeskOp::CreateUserEvent { event: e, .. } => prop_assert!(e.source != "zendesk" && !e.source.is_empty()),
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_json_never_panics_and_maps_deterministically(value in json(), settings in settings()) {
        check(&value, &settings)?;
    }

    #[test]
    fn event_shaped_json_never_panics_and_maps_deterministically(value in event(), settings in settings()) {
        check(&value, &settings)?;
    }
}
