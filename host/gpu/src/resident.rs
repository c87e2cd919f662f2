//! Buffers an executor keeps between plans (an uploaded base set's points), within a limit:
//! the least recently used go first when a new one needs room, and a set's buffers are freed
//! when the set is released.

use crate::plan::ResidentKey;
use std::collections::HashMap;

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
    /// Buffers dropped for room, and because their set was released.
    pub evicted: u64,
    pub freed: u64,
}

struct Entry<B> {
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

    /// Free every buffer of the set `handle`.
    pub fn release(&mut self, handle: &str) {
        let before = self.entries.len();
        self.entries.retain(|k, _| &*k.0 != handle);
        self.stats.freed += (before - self.entries.len()) as u64;
        self.recount();
    }

    fn recount(&mut self) {
        self.stats.buffers = self.entries.len();
        self.stats.words = self.entries.values().map(|e| e.words).sum();
    }

    /// Whether `key` is held; counts a hit and marks it used.
    pub fn touch(&mut self, key: &ResidentKey) -> bool {
        self.clock += 1;
        match self.entries.get_mut(key) {
            Some(e) => {
                e.used = self.clock;
                self.stats.hits += 1;
                true
            }
            None => false,
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
    pub fn insert(&mut self, key: ResidentKey, buf: B, words: usize) -> Result<(), B> {
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

    #[test]
    fn least_recently_used_go_first_and_released_sets_are_freed() {
        let mut c: Cache<Vec<u32>> = Cache::new(10);
        let key = |h: &str, n: usize| (std::sync::Arc::<str>::from(h), n..n + 4);
        assert!(!c.touch(&key("a", 0)));
        c.insert(key("a", 0), vec![1; 4], 4).unwrap();
        c.insert(key("b", 0), vec![2; 4], 4).unwrap();
        assert!(c.touch(&key("a", 0)));
        // Room for a third only by evicting the least recently used: b.
        c.insert(key("a", 4), vec![3; 4], 4).unwrap();
        assert!(c.get(&key("b", 0)).is_none() && c.get(&key("a", 0)).is_some());
        assert_eq!(c.stats().evicted, 1);
        // Larger than the limit: used once, never kept.
        assert_eq!(c.insert(key("d", 0), vec![4; 11], 11), Err(vec![4; 11]));
        c.insert(key("e", 0), vec![5; 2], 2).unwrap();
        // Releasing a set frees all of its ranges and nothing else.
        c.release("a");
        assert!(!c.touch(&key("a", 0)) && !c.touch(&key("a", 4)));
        let s = c.stats();
        assert_eq!((s.buffers, s.words, s.freed, s.hits), (1, 2, 2, 1));
        assert_eq!((s.uploads, s.uploaded_words), (5, 25));
    }
}
