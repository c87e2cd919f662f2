//! Buffers an executor keeps between plans (an uploaded base set's points), within a limit:
//! the least recently used go first when a new one needs room, and a buffer whose owner has
//! been dropped is freed at the next plan.

use crate::plan::ResidentKey;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Weak;

/// What an executor holds and has moved, for reports and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResidentStats {
    /// Buffers and words held now.
    pub buffers: usize,
    pub words: usize,
    /// Resident buffers made and uploaded, and those found already there.
    pub uploads: u64,
    pub uploaded_words: u64,
    pub hits: u64,
    /// Buffers dropped for room, and for a dead owner.
    pub evicted: u64,
    pub freed: u64,
}

struct Entry<B> {
    owner: Weak<dyn Any + Send + Sync>,
    buf: B,
    words: usize,
    used: u64,
}

pub struct Cache<B> {
    entries: HashMap<ResidentKey, Entry<B>>,
    limit: usize,
    clock: u64,
    stats: ResidentStats,
}

impl<B> Cache<B> {
    /// A cache of at most `limit` words.
    pub fn new(limit: usize) -> Self {
        Self {
            entries: HashMap::new(),
            limit,
            clock: 0,
            stats: ResidentStats::default(),
        }
    }

    /// Free what dead owners left.
    pub fn purge(&mut self) {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.owner.strong_count() > 0);
        self.stats.freed += (before - self.entries.len()) as u64;
        self.recount();
    }

    fn recount(&mut self) {
        self.stats.buffers = self.entries.len();
        self.stats.words = self.entries.values().map(|e| e.words).sum();
    }

    /// Whether `key` is held (and alive); counts a hit and marks it used.
    pub fn touch(&mut self, key: &ResidentKey) -> bool {
        self.clock += 1;
        match self.entries.get_mut(key) {
            Some(e) if e.owner.strong_count() > 0 => {
                e.used = self.clock;
                self.stats.hits += 1;
                true
            }
            _ => false,
        }
    }

    pub fn get(&self, key: &ResidentKey) -> Option<&B> {
        self.entries.get(key).map(|e| &e.buf)
    }

    pub fn get_mut(&mut self, key: &ResidentKey) -> Option<&mut B> {
        self.entries.get_mut(key).map(|e| &mut e.buf)
    }

    /// Keep `buf` (just uploaded, `words` long), evicting the least recently used entries
    /// for room; a buffer larger than the whole limit is handed back to be used once.
    pub fn insert(
        &mut self,
        key: ResidentKey,
        owner: Weak<dyn Any + Send + Sync>,
        buf: B,
        words: usize,
    ) -> Result<(), B> {
        self.stats.uploads += 1;
        self.stats.uploaded_words += words as u64;
        if words > self.limit {
            return Err(buf);
        }
        self.entries.remove(&key);
        let mut held: usize = self.entries.values().map(|e| e.words).sum();
        while held + words > self.limit {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                held -= e.words;
                self.stats.evicted += 1;
            }
        }
        self.clock += 1;
        self.entries.insert(
            key,
            Entry {
                owner,
                buf,
                words,
                used: self.clock,
            },
        );
        self.recount();
        Ok(())
    }

    pub fn stats(&self) -> ResidentStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn owner() -> Arc<dyn Any + Send + Sync> {
        Arc::new(0u8)
    }

    #[test]
    fn least_recently_used_go_first_and_dead_owners_are_freed() {
        let mut c: Cache<Vec<u32>> = Cache::new(10);
        let (a, b, d) = (owner(), owner(), owner());
        let key = |n: usize| (n, 0..4);
        assert!(!c.touch(&key(1)));
        c.insert(key(1), Arc::downgrade(&a), vec![1; 4], 4).unwrap();
        c.insert(key(2), Arc::downgrade(&b), vec![2; 4], 4).unwrap();
        assert!(c.touch(&key(1)));
        // Room for a third only by evicting the least recently used: 2.
        c.insert(key(3), Arc::downgrade(&d), vec![3; 4], 4).unwrap();
        assert!(c.get(&key(2)).is_none() && c.get(&key(1)).is_some());
        assert_eq!(c.stats().evicted, 1);
        // Larger than the limit: used once, never kept.
        assert_eq!(
            c.insert(key(4), Arc::downgrade(&d), vec![4; 11], 11),
            Err(vec![4; 11])
        );
        drop(a);
        assert!(!c.touch(&key(1)), "a dead owner's buffer is never found");
        c.purge();
        let s = c.stats();
        assert_eq!((s.buffers, s.words, s.freed, s.hits), (1, 4, 1, 1));
        assert_eq!((s.uploads, s.uploaded_words), (4, 23));
    }
}
