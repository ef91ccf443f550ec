//! Short-lived caches of what every request would otherwise read again: list totals, the
//! anchors of deep list pages, and the principal behind a token.
//!
//! Every list page reports `total`, the number of rows matching its filters; counting them
//! is a scan of every match (11–15 ms for 100,000 delegates on PostgreSQL, more than the
//! page itself, `bench/README.md`). A page far down a list (`page=1000`) skips every row
//! before it, unless it can start from an anchor, a row whose position is known. Every
//! request resolves its token to a user and scope (two or three queries). These answers
//! change only when something is written.
//!
//! A value is served from the cache only if no write was made through this server since
//! it was read (every non-read request ends by calling [`Recent::invalidate`], revoking a
//! token or signing out included) and it is younger than the time to live, which bounds
//! how long a write made elsewhere (the CLI, another server on the same PostgreSQL
//! database) can go unseen. With a time to live of zero, nothing is cached.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most values kept at once; when full, the cache starts again empty.
const CAPACITY: usize = 4096;

/// List totals by list key (resource, filters, scope).
pub type Counts = Recent<u64>;

/// What list pages reuse, by list key (resource, filters, scope): the total, and the ids of
/// every [`ANCHOR_STRIDE`]-th row in the list's order (`services::crud::list`).
#[derive(Debug)]
pub struct Lists {
    pub totals: Counts,
    pub anchors: Recent<Arc<[i64]>>,
}

/// Rows between two anchors: a page at any offset skips fewer rows than this.
pub const ANCHOR_STRIDE: u64 = 500;

impl Lists {
    /// Caches whose values live at most `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            totals: Counts::new(ttl),
            anchors: Recent::new(ttl),
        }
    }

    /// Forgets every total and anchor: something was written.
    pub fn invalidate(&self) {
        self.totals.invalidate();
        self.anchors.invalidate();
    }
}

/// Values by key, forgotten after a write or a time to live.
#[derive(Debug)]
pub struct Recent<V> {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<V>>>,
    /// One lock per key being read, so that the requests missing the same key read it
    /// once ([`Recent::get_or_load`]) instead of all at once.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
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
            loading: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value of `key`, or the value `load` reads, stored for the next ones.
    /// Concurrent callers missing the same key wait for the first one's read instead of
    /// reading it too: when a total or the anchors of a list of 100,000 rows expire under
    /// load, one request reads them rather than every request in flight.
    pub async fn get_or_load<F, Fut, E>(&self, key: &str, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Ok(v) = self.get(key) {
            return Ok(v);
        }
        if self.ttl.is_zero() {
            return load().await;
        }
        let gate = {
            let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
            if loading.len() >= CAPACITY {
                loading.clear();
            }
            loading.entry(key.to_owned()).or_default().clone()
        };
        let _turn = gate.lock().await;
        // The one before may have stored it meanwhile.
        let ticket = match self.get(key) {
            Ok(v) => return Ok(v),
            Err(ticket) => ticket,
        };
        let value = load().await?;
        self.put(key.to_owned(), ticket, value.clone());
        Ok(value)
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

    #[tokio::test]
    async fn concurrent_misses_of_one_key_load_it_once() {
        use std::sync::atomic::AtomicUsize;
        let c = Arc::new(Counts::new(Duration::from_secs(60)));
        let loads = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (c, loads) = (c.clone(), loads.clone());
                tokio::spawn(async move {
                    c.get_or_load("delegates", || async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>(7)
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // A write forgets it: the next miss loads again; a failed load stores nothing.
        c.invalidate();
        assert_eq!(
            c.get_or_load("delegates", || async { Err(()) }).await,
            Err(())
        );
        assert_eq!(
            c.get_or_load("delegates", || async { Ok::<_, ()>(8) })
                .await,
            Ok(8)
        );
        assert_eq!(c.get("delegates").ok(), Some(8));
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
