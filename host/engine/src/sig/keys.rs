//! Public keys decoded once and kept across calls: a validator sees the same validator set in
//! every batch, and decompressing a key costs about as much as the key's share of the batch
//! equation.
//!
//! Bounded by entry count in two generations: lookups read both and move what they find into
//! the young one; when the young generation is full the old one is dropped and the young one
//! takes its place. Keys in use stay, keys not seen for a generation go, and the bound holds
//! whatever a client sends. One cache per tenant (the daemon keeps one in each tenant's state),
//! so one tenant's keys never evict another's.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// A bounded map from encodings to what they decode to.
pub struct KeyCache<K, V> {
    /// Entries per generation: at most twice this many in all.
    per_generation: usize,
    gens: Mutex<Generations<K, V>>,
}

struct Generations<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
}

impl<K: Eq + Hash + Copy, V: Copy> KeyCache<K, V> {
    /// A cache holding at most `max_keys` entries (0 keeps nothing).
    pub fn new(max_keys: usize) -> Self {
        Self {
            per_generation: max_keys / 2,
            gens: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
            }),
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        let g = self.lock();
        g.young.len() + g.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<K, V>> {
        // A panic elsewhere while holding the lock leaves whole entries behind, never half ones.
        self.gens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What each key decodes to, where the cache has it.
    pub(crate) fn get_many(&self, keys: &[K]) -> Vec<Option<V>> {
        let mut g = self.lock();
        keys.iter()
            .map(|k| {
                if let Some(v) = g.young.get(k) {
                    return Some(*v);
                }
                let v = g.old.remove(k)?;
                g.insert(self.per_generation, *k, v);
                Some(v)
            })
            .collect()
    }

    pub(crate) fn insert_many(&self, entries: impl IntoIterator<Item = (K, V)>) {
        let mut g = self.lock();
        for (k, v) in entries {
            g.insert(self.per_generation, k, v);
        }
    }
}

impl<K: Eq + Hash, V> Generations<K, V> {
    fn insert(&mut self, per_generation: usize, k: K, v: V) {
        if per_generation == 0 {
            return;
        }
        if self.young.len() >= per_generation {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(k, v);
    }
}

/// The distinct keys of a batch in order of first appearance, and each item's index among them
/// (`None` for an item whose key is not of the form cached).
pub(crate) fn distinct<K: Eq + Hash + Copy>(
    keys: impl Iterator<Item = Option<K>>,
) -> (Vec<K>, Vec<Option<u32>>) {
    let mut slot: HashMap<K, u32> = HashMap::new();
    let mut out = Vec::new();
    let of = keys
        .map(|k| {
            let k = k?;
            Some(*slot.entry(k).or_insert_with(|| {
                out.push(k);
                out.len() as u32 - 1
            }))
        })
        .collect();
    (out, of)
}

/// What each of `keys` decodes to: the cache's entry where `usable` accepts it, else
/// `decode`'s (one call for all the others), which the cache then keeps.
pub(crate) fn resolve<K: Eq + Hash + Copy, V: Copy>(
    keys: &[K],
    cache: Option<&KeyCache<K, V>>,
    usable: impl Fn(&V) -> bool,
    decode: impl FnOnce(&[K]) -> Vec<V>,
) -> Vec<V> {
    let mut out: Vec<Option<V>> = match cache {
        Some(c) => c
            .get_many(keys)
            .into_iter()
            .map(|v| v.filter(&usable))
            .collect(),
        None => vec![None; keys.len()],
    };
    let missing: Vec<usize> = (0..keys.len()).filter(|&i| out[i].is_none()).collect();
    let fresh = decode(&missing.iter().map(|&i| keys[i]).collect::<Vec<_>>());
    for (&i, v) in missing.iter().zip(&fresh) {
        out[i] = Some(*v);
    }
    if let Some(c) = cache {
        c.insert_many(missing.iter().zip(fresh).map(|(&i, v)| (keys[i], v)));
    }
    out.into_iter()
        .map(|v| v.expect("every key decoded"))
        .collect()
}

/// Each scheme's decoded keys, for one tenant.
pub struct Keys {
    pub ed25519: KeyCache<[u8; 32], super::ed25519::CachedKey>,
    /// Compressed BLS12-381 G1 keys after KeyValidate.
    pub bls: super::bls::Cache,
}

impl Keys {
    /// Keys per scheme by default: 2^16 Ed25519 keys take about 12 MiB, as many BLS keys
    /// about 15 MiB.
    pub const DEFAULT_PER_SCHEME: usize = 1 << 16;

    pub fn new(per_scheme: usize) -> Self {
        Self {
            ed25519: KeyCache::new(per_scheme),
            bls: KeyCache::new(per_scheme),
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("ed25519", &self.ed25519.len())
            .field("bls", &self.bls.len())
            .finish()
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new(Self::DEFAULT_PER_SCHEME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keeps_what_is_used() {
        let c: KeyCache<u32, u32> = KeyCache::new(8);
        c.insert_many((0..4).map(|k| (k, k * 10)));
        assert_eq!(c.get_many(&[0, 3, 4]), vec![Some(0), Some(30), None]);
        // Key 0 is looked up after every insertion: it survives the turnover of all others.
        for k in 100..1000 {
            c.insert_many([(k, k)]);
            assert_eq!(c.get_many(&[0]), vec![Some(0)], "after {k}");
            assert!(c.len() <= 8, "{} entries", c.len());
        }
        assert_eq!(c.get_many(&[3, 101]), vec![None, None]);
        let none: KeyCache<u32, u32> = KeyCache::new(0);
        none.insert_many([(1, 1)]);
        assert!(none.is_empty());
    }
}
