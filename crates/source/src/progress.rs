//! What a run reports while it works: on a terminal, one live line per
//! collection (pages, rows, requests, waits); otherwise one log line per page.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counters of one stream (one export or list endpoint).
#[derive(Debug)]
pub struct StreamProgress {
    pub name: &'static str,
    pages: AtomicU64,
    records: AtomicU64,
    rows: AtomicU64,
    requests: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    waited_ms: AtomicU64,
    bar: Option<ProgressBar>,
}

/// A snapshot of [`StreamProgress`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pages: u64,
    /// Records of the stream's own collection (tickets, users…).
    pub records: u64,
    /// Rows written, including derived tables (ticket metrics, attachments).
    pub rows: u64,
    pub requests: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Retries after 5xx or connection failures.
    pub retries: u64,
    /// Time spent waiting for the budget, a 429 pause or a backoff.
    pub waited: Duration,
}

impl StreamProgress {
    pub fn counts(&self) -> Counts {
        Counts {
            pages: self.pages.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            waited: Duration::from_millis(self.waited_ms.load(Ordering::Relaxed)),
        }
    }

    pub fn request_sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    pub fn waited(&self, duration: Duration) {
        if !duration.is_zero() {
            self.waited_ms.fetch_add(duration.as_millis() as u64, Ordering::Relaxed);
            self.refresh();
        }
    }

    /// A page was committed to the warehouse; `position` says where the stream is.
    pub fn page_committed(&self, records: u64, rows: u64, position: &str) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
        match &self.bar {
            Some(_) => self.refresh(),
            None => {
                let c = self.counts();
                tracing::info!(
                    stream = self.name,
                    pages = c.pages,
                    records = c.records,
                    rows = c.rows,
                    requests = c.requests,
                    throttled = c.throttled,
                    waited_s = c.waited.as_secs(),
                    position,
                    "page committed"
                );
            }
        }
    }

    pub fn finish(&self, outcome: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(format!("{} · {outcome}", self.line())),
            None => tracing::info!(stream = self.name, "{}", outcome),
        }
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(self.line());
        }
    }

    fn line(&self) -> String {
        let c = self.counts();
        format!(
            "{:<21} {:>6} pages {:>9} records {:>6} requests {:>4}×429 {:>3} retries waited {}",
            self.name,
            c.pages,
            c.records,
            c.requests,
            c.throttled,
            c.retries,
            humantime::format_duration(Duration::from_secs(c.waited.as_secs()))
        )
    }
}

/// The display of a whole run.
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Live lines when stderr is a terminal, log lines otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress { multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())) }
        } else {
            Progress::plain()
        }
    }

    /// Log lines only.
    pub fn plain() -> Progress {
        Progress { multi: None }
    }

    /// Moves past the live lines so what follows starts on a fresh line.
    pub fn done(&self) {
        if self.multi.is_some() {
            eprintln!();
        }
    }

    pub fn stream(&self, name: &'static str) -> StreamProgress {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let progress = StreamProgress {
            name,
            pages: AtomicU64::new(0),
            records: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            waited_ms: AtomicU64::new(0),
            bar,
        };
        progress.refresh();
        progress
    }
}
