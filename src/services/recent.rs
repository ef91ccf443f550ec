//! Short-lived caches of what every request would otherwise read again: list totals and
//! the principal behind a token.
//!
//! Every list page reports `total`, the number of rows matching its filters; counting them
//! is a scan of every match (11–15 ms for 100,000 delegates on PostgreSQL, more than the
//! page itself, `bench/README.md`). Every request resolves its token to a user and scope
//! (two or three queries). Both answers change only when something is written.
//!
//! A value is served from the cache only if no write was made through this server since
//! it was read (every non-read request ends by calling [`Recent::invalidate`], revoking a
//! token or signing out included) and it is younger than the time to live, which bounds
//! how long a write made elsewhere (the CLI, another server on the same PostgreSQL
//! database) can go unseen. With a time to live of zero, nothing is cached.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Most values kept at once; when full, the cache starts again empty.
const CAPACITY: usize = 4096;

/// List totals by list key (resource, filters, scope).
pub type Counts = Recent<u64>;

/// Values by key, forgotten after a write or a time to live.
#[derive(Debug)]
pub struct Recent<V> {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

#[derive(Clone, Debug)]
struct Entry<V> {
    generation: u64,
    at: Instant,
    value: V,
}

/// What a reader takes before reading, and hands back with the value read.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

impl<V: Clone> Recent<V> {
    /// A cache whose values live at most `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every value: something was written.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cached value of `key`, or a ticket to store one read now. The ticket holds the
    /// generation taken *before* reading, so a value that raced with a write is stored as
    /// already stale.
    pub fn get(&self, key: &str) -> Result<V, Ticket> {
        let generation = self.generation.load(Ordering::SeqCst);
        if self.ttl.is_zero() {
            return Err(Ticket(generation));
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(e) if e.generation == generation && e.at.elapsed() < self.ttl => {
                Ok(e.value.clone())
            }
            _ => Err(Ticket(generation)),
        }
    }

    /// Stores `value`, read after `ticket` was taken.
    pub fn put(&self, key: String, ticket: Ticket, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation: ticket.0,
                at: Instant::now(),
                value,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_is_served_until_a_write() {
        let c = Counts::new(Duration::from_secs(60));
        let t = c.get("delegates").expect_err("empty cache");
        c.put("delegates".into(), t, 7);
        assert_eq!(c.get("delegates").ok(), Some(7));
        assert!(c.get("units").is_err());
        c.invalidate();
        assert!(c.get("delegates").is_err());
    }

    #[test]
    fn a_count_racing_a_write_is_not_served() {
        let c = Counts::new(Duration::from_secs(60));
        let t = c.get("delegates").expect_err("empty cache");
        c.invalidate(); // a write commits while the count runs
        c.put("delegates".into(), t, 7);
        assert!(c.get("delegates").is_err());
    }

    #[test]
    fn totals_expire_and_zero_disables() {
        let c = Counts::new(Duration::from_millis(1));
        let t = c.get("k").expect_err("empty cache");
        c.put("k".into(), t, 1);
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.get("k").is_err());
        let off = Counts::new(Duration::ZERO);
        let t = off.get("k").expect_err("disabled");
        off.put("k".into(), t, 1);
        assert!(off.get("k").is_err());
    }
}
