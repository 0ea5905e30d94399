//! Who a person is, as traits spell it: email and name.

use crate::event::Event;
use crate::value::Map;

use super::read;

/// `traits.email`, else a userId that is an email address.
pub(super) fn email(event: &Event) -> Option<&str> {
    read::string(&event.traits, &["email"]).or_else(|| event.user_id.as_deref().filter(|id| looks_like_email(id)))
}

/// Trimmed `name`, else first and last name joined (either alone will do).
pub(super) fn full_name(traits: &Map) -> Option<String> {
    if let Some(name) = read::string(traits, &["name"]) {
        return Some(name.to_owned());
    }
    match (first_name(traits), last_name(traits)) {
        (Some(f), Some(l)) => Some([f, " ", l].concat()),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

/// First and last name: the traits when given, else `name` split at its
/// first space (a one-word name has no last name).
pub(super) fn split_name(traits: &Map) -> (Option<String>, Option<String>) {
    let (mut first, mut last) = (first_name(traits), last_name(traits));
    if let Some(name) = read::string(traits, &["name"]) {
        let (head, rest) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
        first = first.or(Some(head));
        last = last.or(Some(rest.trim()).filter(|s| !s.is_empty()));
    }
    (first.map(str::to_owned), last.map(str::to_owned))
}

fn first_name(traits: &Map) -> Option<&str> {
    read::string(traits, &["firstName", "first_name", "First Name"])
}

fn last_name(traits: &Map) -> Option<&str> {
    read::string(traits, &["lastName", "last_name", "Last Name"])
}

/// Something@something.tld without spaces: enough to catch a userId that is
/// an email, and a trait that is clearly not one.
pub(super) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|part| !part.is_empty())
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}
