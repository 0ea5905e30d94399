//! A seedable generator of a realistic account (organizations, users, groups,
//! tickets with their history of comments, status changes and attachments,
//! satisfaction ratings, agent activities), and the account activity that
//! happens afterwards (status changes, new comments, deletions), for the
//! Zendesk Source's tests and benchmark.
//!
//! The same seed gives the same account on every machine and version: the
//! generator uses its own SplitMix64 rather than a library RNG whose stream
//! may change between releases.

use serde_json::{json, Map};

use crate::history::{add_comment, change, deleted, record_audit};
use crate::store::{
    now, Group, Identity, Membership, Organization, SatisfactionRating, Store, Ticket, TicketLifecycle, Timestamp, User,
};
use crate::FakeZendesk;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct AccountSpec {
    pub tickets: usize,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeneratedAccount {
    pub organizations: usize,
    pub users: usize,
    pub groups: usize,
    pub tickets: usize,
    pub ticket_events: usize,
    pub satisfaction_ratings: usize,
    pub activities: usize,
    pub attachments: usize,
}

const DAY: Timestamp = 24 * 3600;
/// How far back the account's history goes: past the source's default
/// one-year backfill, so the oldest records show the lookback at work.
pub const HISTORY: Timestamp = 420 * DAY;
/// The newest generated change is this old: exports leave out the last
/// minute, and tests add changes after it.
pub const QUIET_PERIOD: Timestamp = 2 * 3600;

const WORDS: &[&str] = &[
    "order", "refund", "login", "invoice", "shipping", "password", "upgrade", "billing", "export", "integration",
    "mobile", "checkout", "delay", "damaged", "account", "report", "api", "sso", "renewal", "crash",
];
const STATUSES: &[&str] = &["open", "pending", "solved"];
const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
const KINDS: &[&str] = &["question", "incident", "problem", "task"];

/// SplitMix64: tiny, fast, and stable forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn between(&mut self, low: Timestamp, high: Timestamp) -> Timestamp {
        low + (self.next() % (high - low).max(1) as u64) as Timestamp
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| *self.pick(WORDS)).collect::<Vec<_>>().join(" ")
    }
}

impl FakeZendesk {
    /// Adds a generated account of `spec.tickets` tickets (with users,
    /// organizations, groups and history in proportion), its changes spread
    /// over the last 420 days and ending two hours ago.
    pub fn generate_account(&self, spec: AccountSpec) -> GeneratedAccount {
        self.with_store(|store| Generator::new(store, spec).run())
    }

    /// A status change by the ticket's assignee (or requester) at `at`.
    /// Returns false for an unknown or deleted ticket.
    pub fn change_ticket_status(&self, ticket_id: u64, status: &str, at: Timestamp) -> bool {
        self.with_store(|store| {
            let Some(ticket) = store.tickets.get(&ticket_id).filter(|_| !deleted(store, ticket_id)) else {
                return false;
            };
            let author = ticket.assignee_id.unwrap_or(ticket.requester_id);
            let previous = json!(ticket.status);
            let event_id = store.next_id();
            record_audit(store, ticket_id, author, at, vec![change(event_id, "status", json!(status), Some(previous))]);
            if let Some(ticket) = store.tickets.get_mut(&ticket_id) {
                ticket.status = status.to_string();
            }
            true
        })
    }

    /// A comment by `author_id` at `at` with `attachments` files; returns its id.
    pub fn add_ticket_comment(&self, ticket_id: u64, author_id: u64, body: &str, public: bool, attachments: usize, at: Timestamp) -> Option<u64> {
        self.with_store(|store| {
            if !store.tickets.contains_key(&ticket_id) || deleted(store, ticket_id) {
                return None;
            }
            Some(add_comment(store, ticket_id, author_id, body, public, attachments, at))
        })
    }

    /// Soft-deletes a ticket at `at`: the export then shows it with status `deleted`.
    pub fn delete_ticket(&self, ticket_id: u64, at: Timestamp) -> bool {
        self.with_store(|store| {
            if !store.tickets.contains_key(&ticket_id) {
                return false;
            }
            store.ticket_lifecycle.entry(ticket_id).or_default().deleted_at = Some(at);
            true
        })
    }

    /// Turns satisfaction ratings off, as on plans without them (403).
    pub fn disable_satisfaction_ratings(&self) {
        self.with_store(|store| store.satisfaction_ratings_disabled = true);
    }
}

struct Generator<'a> {
    store: &'a mut Store,
    rng: Rng,
    tickets: usize,
    start: Timestamp,
    end: Timestamp,
    out: GeneratedAccount,
}

impl<'a> Generator<'a> {
    fn new(store: &'a mut Store, spec: AccountSpec) -> Generator<'a> {
        let now = now();
        Generator {
            store,
            rng: Rng(spec.seed ^ 0x5EED_0F_2E4D_E5C),
            tickets: spec.tickets,
            start: now - HISTORY,
            end: now - QUIET_PERIOD,
            out: GeneratedAccount::default(),
        }
    }

    fn run(mut self) -> GeneratedAccount {
        let groups = self.groups((self.tickets / 500 + 2).min(20));
        let organizations = self.organizations((self.tickets / 50).max(1), &groups);
        let agents = self.users((self.tickets / 200).max(2), "agent", &[]);
        let end_users = self.users((self.tickets / 3).max(3), "end-user", &organizations);
        for _ in 0..self.tickets {
            self.ticket(&groups, &agents, &end_users);
        }
        self.out.activities = self.store.activities.len();
        self.out
    }

    fn groups(&mut self, n: usize) -> Vec<u64> {
        let mut live = Vec::new();
        for i in 0..n {
            let id = self.store.next_id();
            let created_at = self.rng.between(self.start, self.start + 30 * DAY);
            // One group in ten was deleted later: it stays listed, flagged.
            let deleted = i > 1 && self.rng.chance(10);
            let updated_at = if deleted { self.rng.between(created_at, self.end) } else { created_at };
            let name = format!("{} {}", ["Support", "Billing", "Tier 2", "Escalations", "Sales"][i % 5], i + 1);
            self.store.groups.insert(id, Group { id, name, description: self.rng.words(4), default: i == 0, is_public: !self.rng.chance(20), deleted, created_at, updated_at });
            if !deleted {
                live.push(id);
            }
        }
        self.out.groups = n;
        live
    }

    fn organizations(&mut self, n: usize, groups: &[u64]) -> Vec<u64> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let id = self.store.next_id();
            let created_at = self.rng.between(self.start, self.end - DAY);
            let updated_at = if self.rng.chance(40) { self.rng.between(created_at, self.end) } else { created_at };
            let deleted_at = self.rng.chance(3).then(|| updated_at);
            let mut fields = Map::new();
            fields.insert("tier".into(), json!(["gold", "silver", "bronze"][i % 3]));
            self.store.organizations.insert(id, Organization {
                id,
                name: format!("Org {i} {}", self.rng.words(1)),
                external_id: Some(format!("org-{i}")),
                domain_names: vec![format!("org{i}.example.com")],
                tags: vec![self.rng.pick(WORDS).to_string()],
                details: None,
                notes: None,
                group_id: groups.first().copied().filter(|_| self.rng.chance(30)),
                shared_tickets: self.rng.chance(50),
                shared_comments: false,
                organization_fields: fields,
                created_at,
                updated_at,
                deleted_at,
            });
            ids.push(id);
        }
        self.out.organizations = n;
        ids
    }

    fn users(&mut self, n: usize, role: &str, organizations: &[u64]) -> Vec<u64> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let id = self.store.next_id();
            let identity_id = self.store.next_id();
            let created_at = self.rng.between(self.start, self.end - DAY);
            let updated_at = if self.rng.chance(50) { self.rng.between(created_at, self.end) } else { created_at };
            let organization_id = (!organizations.is_empty() && self.rng.chance(80)).then(|| *self.rng.pick(organizations));
            let email = format!("{role}-{i}-{id}@example.com").replace("end-user", "customer");
            if let Some(org) = organization_id {
                let membership = self.store.next_id();
                self.store.memberships.insert(membership, Membership { id: membership, user_id: id, organization_id: org, default: true, created_at, updated_at: created_at });
            }
            self.store.users.insert(id, User {
                id,
                name: format!("{} {i}", if role == "agent" { "Agent" } else { "Customer" }),
                external_id: (role == "end-user").then(|| format!("user-{i}")),
                phone: None,
                time_zone: "Europe/Paris".into(),
                locale: "en-US".into(),
                organization_id,
                role: role.into(),
                verified: true,
                active: !self.rng.chance(2),
                suspended: false,
                tags: if self.rng.chance(30) { vec!["vip".into()] } else { vec![] },
                details: None,
                notes: None,
                alias: None,
                user_fields: Map::new(),
                identities: vec![Identity { id: identity_id, user_id: id, kind: "email".into(), value: email, primary: true, verified: true, created_at, updated_at: created_at }],
                created_at,
                updated_at,
            });
            ids.push(id);
        }
        self.out.users += n;
        ids
    }

    /// A ticket and its history: creation, then agent replies and status
    /// changes until solved (or still open), sometimes a rating, a system
    /// update or a deletion.
    fn ticket(&mut self, groups: &[u64], agents: &[u64], end_users: &[u64]) {
        let id = self.store.next_id();
        let created_at = self.rng.between(self.start, self.end - 3 * DAY);
        let requester = *self.rng.pick(end_users);
        let organization_id = self.store.users.get(&requester).and_then(|u| u.organization_id);
        let group_id = (!groups.is_empty()).then(|| *self.rng.pick(groups));
        let assignee_id = (!self.rng.chance(10)).then(|| *self.rng.pick(agents));
        let subject = format!("Problem with {}", self.rng.words(2));
        let body = format!("Hello, {}.", self.rng.words(8));
        let priority = *self.rng.pick(PRIORITIES);
        let tags = vec![self.rng.pick(WORDS).to_string()];
        self.store.tickets.insert(id, Ticket {
            id,
            subject: Some(subject.clone()),
            description: body.clone(),
            status: "new".into(),
            priority: Some(priority.into()),
            kind: Some(self.rng.pick(KINDS).to_string()),
            requester_id: requester,
            submitter_id: requester,
            assignee_id,
            organization_id,
            group_id,
            brand_id: None,
            ticket_form_id: None,
            external_id: None,
            due_at: None,
            tags: tags.clone(),
            custom_fields: vec![json!({"id": 360_001, "value": self.rng.pick(WORDS)})],
            collaborator_ids: vec![],
            comments: vec![],
            created_at,
            updated_at: created_at,
        });
        let attachments = usize::from(self.rng.chance(15));
        add_comment(self.store, id, requester, &body, true, attachments, created_at);
        let creates = vec![
            change(self.store.next_id(), "status", json!("new"), None),
            change(self.store.next_id(), "priority", json!(priority), None),
            change(self.store.next_id(), "subject", json!(subject), None),
            change(self.store.next_id(), "group_id", json!(group_id), None),
            change(self.store.next_id(), "assignee_id", json!(assignee_id), None),
            change(self.store.next_id(), "tags", json!(tags), None),
        ];
        if let Some(create) = self.store.ticket_audits.last_mut() {
            create.events.extend(creates);
        }
        self.out.ticket_events += 1;
        self.out.attachments += attachments;

        let mut at = created_at;
        let mut status = "new";
        let steps = self.rng.below(4);
        for step in 0..steps {
            at = self.rng.between(at + 600, (at + 5 * DAY).min(self.end)).min(self.end);
            let author = assignee_id.unwrap_or(agents[0]);
            let files = usize::from(self.rng.chance(10));
            add_comment(self.store, id, author, &format!("Thanks, {}.", self.rng.words(6)), !self.rng.chance(20), files, at);
            self.out.attachments += files;
            let next = if step + 1 == steps { "solved" } else { *self.rng.pick(STATUSES) };
            if next != status {
                let event = change(self.store.next_id(), "status", json!(next), Some(json!(status)));
                if let Some(audit) = self.store.ticket_audits.last_mut() {
                    audit.events.push(event);
                }
                status = next;
            }
            self.out.ticket_events += 1;
        }
        if let Some(ticket) = self.store.tickets.get_mut(&id) {
            ticket.status = status.to_string();
        }
        if status == "solved" && self.rng.chance(40) {
            self.rating(id, requester, assignee_id, group_id, at);
        }
        let mut lifecycle = TicketLifecycle::default();
        if self.rng.chance(10) {
            lifecycle.system_updated_at = Some(self.rng.between(at, self.end).max(at));
        }
        if self.rng.chance(1) {
            lifecycle.deleted_at = Some(self.rng.between(at, self.end).max(at));
        }
        if lifecycle != TicketLifecycle::default() {
            self.store.ticket_lifecycle.insert(id, lifecycle);
        }
        self.out.tickets += 1;
    }

    fn rating(&mut self, ticket_id: u64, requester_id: u64, assignee_id: Option<u64>, group_id: Option<u64>, solved_at: Timestamp) {
        let id = self.store.next_id();
        let created_at = (solved_at + 3600).min(self.end);
        let good = self.rng.chance(80);
        // Some customers change their mind later: only updated_at moves.
        let updated_at = if self.rng.chance(20) { self.rng.between(created_at, self.end) } else { created_at };
        self.store.satisfaction_ratings.insert(id, SatisfactionRating {
            id,
            ticket_id,
            requester_id,
            assignee_id,
            group_id,
            score: if good { "good" } else { "bad" }.into(),
            comment: Some(self.rng.words(5)),
            reason: (!good).then(|| "The issue took too long to resolve".into()),
            created_at,
            updated_at,
        });
        self.out.satisfaction_ratings += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_account_and_history_ends_before_the_quiet_period() {
        let a = FakeZendesk::demo();
        let b = FakeZendesk::demo();
        let spec = AccountSpec { tickets: 200, seed: 7 };
        let made = a.generate_account(spec);
        assert_eq!(made, b.generate_account(spec));
        assert_eq!(made.tickets, 200);
        assert!(made.ticket_events >= 200 && made.satisfaction_ratings > 0);
        let newest = a.with_store(|s| s.ticket_audits.iter().map(|x| x.created_at).max().unwrap_or(0));
        assert!(newest <= now() - QUIET_PERIOD + 1);
        let subjects = |f: &FakeZendesk| f.with_store(|s| s.tickets.values().map(|t| t.subject.clone()).collect::<Vec<_>>());
        assert_eq!(subjects(&a), subjects(&b));
    }
}
