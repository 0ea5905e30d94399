//! Any bytes a client could POST: the proxy's body parser must answer with a
//! refusal or a map, and every event in it must map (or be skipped) under
//! every kind of settings, without a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zendesk_analytics_core::{map_event, ConnectSettings, Event, Settings, Value, ZendeskSettings};
use zendesk_proxy::ingest::parse_body;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = parse_body(data) else { return };
    let events = match body.get("batch") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![Value::Object(body)],
    };
    let every_setting_on = Settings {
        zendesk: Some(ZendeskSettings {
            subdomain: "fuzz".into(),
            events: Some(vec!["*".into()]),
            create_users_as_verified: true,
            send_group_calls_without_user_id: true,
            create_missing_custom_fields: true,
            update_primary_email: true,
            ..ZendeskSettings::default()
        }),
        connect: Some(ConnectSettings { public_key: "fuzz".into() }),
        ..Settings::default()
    };
    for event in &events {
        if let Ok(event) = Event::from_value(event) {
            let first = map_event(&event, &every_setting_on);
            // Deterministic: the browser and the proxy must agree.
            assert_eq!(format!("{first:?}"), format!("{:?}", map_event(&event, &every_setting_on)));
            let _ = map_event(&event, &Settings::default());
        }
    }
});
