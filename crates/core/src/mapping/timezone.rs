//! Time zone names: Zendesk's (Rails ActiveSupport) ↔ IANA.
//!
//! Zendesk's `time_zone` takes its own names ("Pacific Time (US & Canada)");
//! browsers and analytics libraries report IANA names ("America/Los_Angeles");
//! Connect accepts only IANA names. Both spellings are accepted everywhere and
//! converted to what each destination takes.

/// ActiveSupport's `TimeZone::MAPPING`, one `Zendesk name=IANA name` a line,
/// or the IANA name alone where the Zendesk name is its city (`Europe/Paris`
/// for `Paris=Europe/Paris`, two thirds of the zones). Where several Zendesk
/// names share an IANA zone, the one listed first is the one an IANA name
/// converts to. One string rather than a slice of pairs: the pairs' pointers
/// and lengths would weigh more on the wasm than the names.
const ZONES: &str = "\
International Date Line West=Etc/GMT+12
Midway Island=Pacific/Midway
American Samoa=Pacific/Pago_Pago
Hawaii=Pacific/Honolulu
Alaska=America/Juneau
Pacific Time (US & Canada)=America/Los_Angeles
America/Tijuana
Mountain Time (US & Canada)=America/Denver
Arizona=America/Phoenix
America/Chihuahua
America/Mazatlan
Central Time (US & Canada)=America/Chicago
Saskatchewan=America/Regina
Mexico City=America/Mexico_City
Guadalajara=America/Mexico_City
America/Monterrey
Central America=America/Guatemala
Eastern Time (US & Canada)=America/New_York
Indiana (East)=America/Indiana/Indianapolis
America/Bogota
America/Lima
Quito=America/Lima
Atlantic Time (Canada)=America/Halifax
America/Caracas
La Paz=America/La_Paz
America/Santiago
Newfoundland=America/St_Johns
Brasilia=America/Sao_Paulo
Buenos Aires=America/Argentina/Buenos_Aires
America/Montevideo
Georgetown=America/Guyana
Puerto Rico=America/Puerto_Rico
Greenland=America/Godthab
Mid-Atlantic=Atlantic/South_Georgia
Atlantic/Azores
Cape Verde Is.=Atlantic/Cape_Verde
Europe/Dublin
Europe/London
Edinburgh=Europe/London
Europe/Lisbon
Africa/Casablanca
Africa/Monrovia
Etc/UTC
Europe/Belgrade
Europe/Bratislava
Europe/Budapest
Europe/Ljubljana
Europe/Prague
Europe/Sarajevo
Europe/Skopje
Europe/Warsaw
Europe/Zagreb
Europe/Brussels
Europe/Copenhagen
Europe/Madrid
Europe/Paris
Europe/Amsterdam
Europe/Berlin
Europe/Zurich
Bern=Europe/Zurich
Europe/Rome
Europe/Stockholm
Europe/Vienna
West Central Africa=Africa/Algiers
Europe/Bucharest
Africa/Cairo
Europe/Helsinki
Kyiv=Europe/Kiev
Europe/Riga
Europe/Sofia
Europe/Tallinn
Europe/Vilnius
Europe/Athens
Europe/Istanbul
Europe/Minsk
Asia/Jerusalem
Africa/Harare
Pretoria=Africa/Johannesburg
Europe/Kaliningrad
Europe/Moscow
St. Petersburg=Europe/Moscow
Europe/Volgograd
Europe/Samara
Asia/Kuwait
Asia/Riyadh
Africa/Nairobi
Asia/Baghdad
Asia/Tehran
Asia/Muscat
Abu Dhabi=Asia/Muscat
Asia/Baku
Asia/Tbilisi
Asia/Yerevan
Asia/Kabul
Ekaterinburg=Asia/Yekaterinburg
Asia/Karachi
Islamabad=Asia/Karachi
Asia/Tashkent
Asia/Kolkata
Chennai=Asia/Kolkata
Mumbai=Asia/Kolkata
New Delhi=Asia/Kolkata
Asia/Kathmandu
Asia/Dhaka
Astana=Asia/Dhaka
Sri Jayawardenepura=Asia/Colombo
Asia/Almaty
Asia/Novosibirsk
Asia/Rangoon
Asia/Bangkok
Hanoi=Asia/Bangkok
Asia/Jakarta
Asia/Krasnoyarsk
Beijing=Asia/Shanghai
Asia/Chongqing
Hong Kong=Asia/Hong_Kong
Asia/Urumqi
Kuala Lumpur=Asia/Kuala_Lumpur
Asia/Singapore
Asia/Taipei
Australia/Perth
Asia/Irkutsk
Asia/Ulaanbaatar
Asia/Seoul
Asia/Tokyo
Osaka=Asia/Tokyo
Sapporo=Asia/Tokyo
Asia/Yakutsk
Australia/Darwin
Australia/Adelaide
Australia/Melbourne
Canberra=Australia/Melbourne
Australia/Sydney
Australia/Brisbane
Australia/Hobart
Asia/Vladivostok
Pacific/Guam
Port Moresby=Pacific/Port_Moresby
Asia/Magadan
Asia/Srednekolymsk
Solomon Is.=Pacific/Guadalcanal
New Caledonia=Pacific/Noumea
Pacific/Fiji
Asia/Kamchatka
Marshall Is.=Pacific/Majuro
Pacific/Auckland
Wellington=Pacific/Auckland
Nuku'alofa=Pacific/Tongatapu
Tokelau Is.=Pacific/Fakaofo
Chatham Is.=Pacific/Chatham
Samoa=Pacific/Apia";

/// IANA names browsers report that ActiveSupport spells differently (links
/// and renamed zones), or that follow exactly the same rules as a listed zone:
/// `alias=IANA name of a listed zone`, one a line.
const IANA_ALIASES: &str = "\
Etc/GMT=Etc/UTC
GMT=Etc/UTC
Asia/Calcutta=Asia/Kolkata
Europe/Kyiv=Europe/Kiev
America/Nuuk=America/Godthab
Asia/Yangon=Asia/Rangoon
Asia/Katmandu=Asia/Kathmandu
Asia/Saigon=Asia/Bangkok
Asia/Ho_Chi_Minh=Asia/Bangkok
America/Anchorage=America/Juneau
America/Vancouver=America/Los_Angeles
America/Edmonton=America/Denver
America/Winnipeg=America/Chicago
America/Toronto=America/New_York
America/Detroit=America/New_York
America/Indianapolis=America/Indiana/Indianapolis
America/Buenos_Aires=America/Argentina/Buenos_Aires
US/Pacific=America/Los_Angeles
US/Mountain=America/Denver
US/Central=America/Chicago
US/Eastern=America/New_York
US/Hawaii=Pacific/Honolulu
US/Alaska=America/Juneau";

/// A time zone as a user sent it, resolved to both spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Zone {
    /// Zendesk's name.
    pub zendesk: &'static str,
    /// The IANA name.
    pub iana: &'static str,
}

/// Resolves a Zendesk name, an IANA name (or a known alias of one), or the
/// city of an IANA name ("Los Angeles", as in Segment's own example).
/// Matching ignores case, and `_` vs space.
pub(super) fn resolve(input: &str) -> Option<Zone> {
    let input = input.trim();
    // Both names in one pass: a Zendesk name has no `/` and an IANA name
    // has one (see the tests), so no input matches one zone's Zendesk name
    // and another's IANA name; an IANA name finds the first zone listed
    // with it.
    for (zendesk, iana) in pairs(ZONES) {
        if same_name(zendesk, input) || same_name(iana, input) {
            return Some(Zone { zendesk, iana });
        }
    }
    for (alias, iana) in pairs(IANA_ALIASES) {
        if same_name(alias, input) {
            return by_iana(iana);
        }
    }
    // An alias stands for a listed zone, whose city is searched already.
    for (zendesk, iana) in pairs(ZONES) {
        if same_name(city(iana), input) {
            return Some(Zone { zendesk, iana });
        }
    }
    None
}

/// Equal but for ASCII case, and `_` vs space. Byte by byte: the names of
/// the tables are ASCII, and other bytes must be equal.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| x.eq_ignore_ascii_case(&y) || matches!((x, y), (b'_', b' ') | (b' ', b'_')))
}

/// The first zone listed with this IANA name.
fn by_iana(iana: &str) -> Option<Zone> {
    pairs(ZONES).find(|(_, i)| *i == iana).map(|(zendesk, iana)| Zone { zendesk, iana })
}

/// The `name=name` lines of a table; a line without `=` is an IANA name
/// whose city is the other name (see [`ZONES`]).
fn pairs(table: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    table.split('\n').map(|line| line.split_once('=').unwrap_or((city(line), line)))
}

/// What follows the last `/` of an IANA name: `Los_Angeles`.
fn city(iana: &str) -> &str {
    iana.bytes().rposition(|b| b == b'/').map_or(iana, |slash| &iana[slash + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_resolves_to_both_names() {
        let pacific = Some(Zone { zendesk: "Pacific Time (US & Canada)", iana: "America/Los_Angeles" });
        assert_eq!(resolve("America/Los_Angeles"), pacific);
        assert_eq!(resolve("Pacific Time (US & Canada)"), pacific);
        assert_eq!(resolve("pacific time (us & canada)"), pacific);
        assert_eq!(resolve("Los Angeles"), pacific);
        assert_eq!(resolve("US/Pacific"), pacific);
        assert_eq!(resolve("Asia/Calcutta").map(|z| z.zendesk), Some("Kolkata"));
        assert_eq!(resolve("Europe/London").map(|z| z.zendesk), Some("London"));
        assert_eq!(resolve("Edinburgh").map(|z| z.iana), Some("Europe/London"));
        assert_eq!(resolve("Etc/UTC").map(|z| z.zendesk), Some("UTC"));
        assert_eq!(resolve("utc").map(|z| z.iana), Some("Etc/UTC"));
        assert_eq!(resolve("America/Springfield"), None);
        assert_eq!(resolve(""), None);
    }

    #[test]
    fn every_zone_converts_back_to_a_name_of_the_same_zone() {
        assert!(IANA_ALIASES.lines().all(|line| line.contains('=')), "an alias without =");
        assert!(ZONES.lines().all(|line| line.contains('/')), "a zone without its IANA name");
        for (zendesk, iana) in pairs(ZONES) {
            // What lets `resolve` search both names in one pass.
            assert!(!zendesk.contains('/') && iana.contains('/'), "{zendesk}={iana}");
            assert_eq!(resolve(zendesk).map(|z| z.iana), Some(iana), "{zendesk}");
            assert_eq!(resolve(iana).map(|z| z.iana), Some(iana), "{iana}");
        }
        for (alias, iana) in pairs(IANA_ALIASES) {
            assert_eq!(resolve(alias).map(|z| z.iana), Some(iana), "{alias}");
        }
    }
}
