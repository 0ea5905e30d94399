//! Prometheus metrics, served as text on `/metrics`. Labels carry write keys
//! and status codes only: never a credential, never event content.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Every metric the proxy exports; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    pub accepted: Counter,
    pub refused: Family<Vec<(String, String)>, Counter>,
    pub delivered: Counter,
    pub retried: Counter,
    pub dead_lettered: Counter,
    pub queue_depth: Gauge,
    pub zendesk_latency: Family<Vec<(String, String)>, Histogram>,
    pub rate_limit_waits: Counter,
    pub pauses: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("zendesk_proxy");
        let accepted = Counter::default();
        let refused = Family::<Vec<(String, String)>, Counter>::default();
        let delivered = Counter::default();
        let retried = Counter::default();
        let dead_lettered = Counter::default();
        let queue_depth = Gauge::default();
        let zendesk_latency =
            Family::<Vec<(String, String)>, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let rate_limit_waits = Counter::default();
        let pauses = Counter::default();
        registry.register("events_accepted", "Events stored durably and acknowledged", accepted.clone());
        registry.register("requests_refused", "Ingestion requests refused, by HTTP status", refused.clone());
        registry.register("events_delivered", "Events whose operations all reached Zendesk", delivered.clone());
        registry.register("events_retried", "Delivery attempts rescheduled after a retryable failure", retried.clone());
        registry.register("events_dead_lettered", "Events moved to the dead-letter table", dead_lettered.clone());
        registry.register("queue_depth", "Events waiting for delivery", queue_depth.clone());
        registry.register(
            "zendesk_request_duration_seconds",
            "Zendesk API latency by endpoint and status",
            zendesk_latency.clone(),
        );
        registry.register(
            "rate_limit_waits",
            "Zendesk requests that waited for the token bucket",
            rate_limit_waits.clone(),
        );
        registry.register("rate_limit_pauses", "Global pauses after a Zendesk 429", pauses.clone());
        Metrics {
            inner: Arc::new(Inner {
                registry,
                accepted,
                refused,
                delivered,
                retried,
                dead_lettered,
                queue_depth,
                zendesk_latency,
                rate_limit_waits,
                pauses,
            }),
        }
    }
}

impl Metrics {
    pub fn accepted(&self, n: u64) {
        self.inner.accepted.inc_by(n);
    }

    pub fn refused(&self, status: u16) {
        self.inner.refused.get_or_create(&vec![("status".into(), status.to_string())]).inc();
    }

    pub fn delivered(&self) {
        self.inner.delivered.inc();
    }

    pub fn retried(&self) {
        self.inner.retried.inc();
    }

    pub fn dead_lettered(&self) {
        self.inner.dead_lettered.inc();
    }

    pub fn set_queue_depth(&self, depth: u64) {
        self.inner.queue_depth.set(depth as i64);
    }

    pub fn zendesk_request(&self, endpoint: &str, status: u16, seconds: f64) {
        self.inner
            .zendesk_latency
            .get_or_create(&vec![("endpoint".into(), endpoint.to_owned()), ("status".into(), status.to_string())])
            .observe(seconds);
    }

    pub fn rate_limit_wait(&self) {
        self.inner.rate_limit_waits.inc();
    }

    pub fn pause(&self) {
        self.inner.pauses.inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }
}
