//! The tables NTT plans read (twiddles; coset powers, with 1/n for the inverse), kept resident
//! on the device: a prover runs the same sizes over and over, and uploading a table the size
//! of the data with every transform would cost as much transfer as the data itself. Each
//! distinct table has one owner token here; while the token lives an executor keeps its copy.

use crate::field::DeviceField;
use crate::plan::Resident;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// scale·base^idx(pos) for pos < count, where idx reverses the low `rev_bits` bits of pos
/// (when given): the table multiplies data held in that order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    field: &'static str,
    base: Vec<u32>,
    scale: Vec<u32>,
    count: usize,
    rev_bits: Option<u32>,
}

/// Distinct tables the registry holds before it forgets them all: coset generators come from
/// clients, so the set of keys is theirs to grow. Forgotten tables' device copies are freed.
const MAX_TABLES: usize = 256;

type Token = Arc<dyn Any + Send + Sync>;

fn registry() -> &'static Mutex<HashMap<Key, Token>> {
    static R: OnceLock<Mutex<HashMap<Key, Token>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

fn words<F: DeviceField>(x: F) -> Vec<u32> {
    let mut w = Vec::with_capacity(F::WORDS);
    x.push_words(&mut w);
    w
}

pub(crate) fn rev(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

/// The words of scale·base^idx(pos), pos < count.
pub fn powers<F: DeviceField>(base: F, scale: F, count: usize, rev_bits: Option<u32>) -> Vec<u32> {
    let mut p = Vec::with_capacity(count);
    let mut acc = scale;
    for _ in 0..count {
        p.push(acc);
        acc = acc * base;
    }
    let mut out = Vec::with_capacity(count * F::WORDS);
    for pos in 0..count {
        let idx = rev_bits.map_or(pos, |b| rev(pos, b));
        p[idx].push_words(&mut out);
    }
    out
}

/// Buffer `buffer` of a plan as the resident table [`powers`] describes.
pub fn resident<F: DeviceField>(
    buffer: usize,
    base: F,
    scale: F,
    count: usize,
    rev_bits: Option<u32>,
) -> Resident {
    let key = Key {
        field: F::SUFFIX,
        base: words(base),
        scale: words(scale),
        count,
        rev_bits,
    };
    let token = {
        // A poisoned lock only means another thread panicked while inserting; the map is
        // still a valid cache.
        let mut map = registry().lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TABLES && !map.contains_key(&key) {
            map.clear();
        }
        map.entry(key)
            .or_insert_with(|| Arc::new(count) as Token)
            .clone()
    };
    Resident {
        buffer,
        key: (
            Arc::as_ptr(&token) as *const u8 as usize,
            0..count * F::WORDS,
        ),
        owner: Arc::downgrade(&token),
        // The plan holds the token while it lives, so its key cannot name another table
        // made at the same address after the registry forgot this one.
        fill: Arc::new(move || {
            let _held = &token;
            powers(base, scale, count, rev_bits)
        }),
    }
}
