//! Signature contenders: our batch verification, and the peer libraries as they ship:
//! ed25519-dalek's `verify_batch` and its single `verify`/`verify_strict`, one by one on one
//! thread.

use crate::{Runner, Scheme};
use ed25519_dalek::{Signer, SigningKey, Verifier};
use offload_engine::sig::ed25519::{self, Item, Policy};
use offload_engine::sig::keys::Keys;
use offload_engine::sig::Verdict;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// `batch` valid Ed25519 signatures on 32..96-byte messages from 64 keys.
pub fn ed25519_inputs(
    batch: usize,
    seed: u64,
) -> Vec<(
    ed25519_dalek::VerifyingKey,
    ed25519_dalek::Signature,
    Vec<u8>,
)> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let keys: Vec<SigningKey> = (0..64).map(|_| SigningKey::generate(&mut r)).collect();
    (0..batch)
        .map(|i| {
            let k = &keys[i % keys.len()];
            let len = r.gen_range(32..96);
            let msg: Vec<u8> = (0..len).map(|_| r.gen()).collect();
            (k.verifying_key(), k.sign(&msg), msg)
        })
        .collect()
}

/// The seed of a batch's inputs, shared by every contender (CPU, peers, devices).
pub(crate) fn ed25519_seed(batch: usize) -> u64 {
    0x0ff1_0ad2 + batch as u64
}

/// Verdicts as one byte each (1 = valid).
pub(crate) fn digest(valid: impl Iterator<Item = bool>) -> Vec<u8> {
    valid.map(u8::from).collect()
}

struct Ours {
    policy: Policy,
    pks: Vec<[u8; 32]>,
    sigs: Vec<[u8; 64]>,
    msgs: Vec<Vec<u8>>,
    /// A tenant's key cache, kept across runs: warm after the warm-up, as a validator's is
    /// after its first batch.
    keys: Option<Keys>,
    out: Vec<Verdict>,
}

impl Runner for Ours {
    fn name(&self) -> String {
        match self.keys {
            Some(_) => "cpu:key-cache".into(),
            None => "cpu".into(),
        }
    }
    fn run(&mut self) {
        let items: Vec<Item> = (0..self.pks.len())
            .map(|i| Item {
                public_key: &self.pks[i],
                signature: &self.sigs[i],
                message: &self.msgs[i],
            })
            .collect();
        self.out = match &self.keys {
            Some(keys) => ed25519::verify_batch_cached(self.policy, &items, keys),
            None => ed25519::verify_batch(self.policy, &items),
        };
    }
    fn digest(&self) -> Vec<u8> {
        digest(self.out.iter().map(Verdict::is_valid))
    }
}

/// What a validator receives: key bytes, signature, message. The peers parse keys inside the
/// timed run, as we do.
type DalekInputs = Vec<([u8; 32], ed25519_dalek::Signature, Vec<u8>)>;

type PeerFn = fn(&DalekInputs) -> Vec<bool>;

fn key(b: &[u8; 32]) -> Option<ed25519_dalek::VerifyingKey> {
    ed25519_dalek::VerifyingKey::from_bytes(b).ok()
}

/// A contender that maps its inputs to one verdict per signature.
pub(crate) struct Contender<I> {
    pub name: &'static str,
    pub inputs: I,
    pub run: fn(&I) -> Vec<bool>,
    pub out: Vec<bool>,
}

impl<I> Contender<I> {
    pub fn boxed(name: &'static str, inputs: I, run: fn(&I) -> Vec<bool>) -> Box<dyn Runner>
    where
        I: 'static,
    {
        Box::new(Contender {
            name,
            inputs,
            run,
            out: Vec::new(),
        })
    }
}

impl<I> Runner for Contender<I> {
    fn name(&self) -> String {
        self.name.into()
    }
    fn run(&mut self) {
        self.out = (self.run)(&self.inputs);
    }
    fn digest(&self) -> Vec<u8> {
        digest(self.out.iter().copied())
    }
}

fn dalek_batch(v: &DalekInputs) -> Vec<bool> {
    let msgs: Vec<&[u8]> = v.iter().map(|(_, _, m)| m.as_slice()).collect();
    let sigs: Vec<_> = v.iter().map(|(_, s, _)| *s).collect();
    let keys: Option<Vec<_>> = v.iter().map(|(k, _, _)| key(k)).collect();
    let ok = keys.is_some_and(|keys| ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok());
    vec![ok; v.len()]
}

/// Keys parsed before the timed run, as a validator holds its validator set.
type ParsedInputs = (
    Vec<ed25519_dalek::VerifyingKey>,
    Vec<ed25519_dalek::Signature>,
    Vec<Vec<u8>>,
);

fn dalek_batch_parsed(v: &ParsedInputs) -> Vec<bool> {
    let msgs: Vec<&[u8]> = v.2.iter().map(Vec::as_slice).collect();
    let ok = ed25519_dalek::verify_batch(&msgs, &v.1, &v.0).is_ok();
    vec![ok; v.0.len()]
}

fn dalek_single(v: &DalekInputs) -> Vec<bool> {
    v.iter()
        .map(|(k, s, m)| key(k).is_some_and(|k| k.verify(m, s).is_ok()))
        .collect()
}

fn dalek_strict(v: &DalekInputs) -> Vec<bool> {
    v.iter()
        .map(|(k, s, m)| key(k).is_some_and(|k| k.verify_strict(m, s).is_ok()))
        .collect()
}

pub fn runners(scheme: Scheme, batch: usize, compare: bool) -> Vec<Box<dyn Runner>> {
    let policy = match scheme {
        Scheme::Ed25519(policy) => policy,
        Scheme::Ecdsa { low_s } => return crate::secp::ecdsa_runners(low_s, batch, compare),
        Scheme::Schnorr => return crate::secp::schnorr_runners(batch, compare),
        Scheme::Bls => return crate::bls::runners(batch, compare),
    };
    let inputs = ed25519_inputs(batch, ed25519_seed(batch));
    let ours = |keys: Option<Keys>| -> Box<dyn Runner> {
        Box::new(Ours {
            policy,
            pks: inputs.iter().map(|(k, _, _)| k.to_bytes()).collect(),
            sigs: inputs.iter().map(|(_, s, _)| s.to_bytes()).collect(),
            msgs: inputs.iter().map(|(_, _, m)| m.clone()).collect(),
            keys,
            out: Vec::new(),
        })
    };
    let mut v: Vec<Box<dyn Runner>> = vec![ours(None)];
    if compare && policy == Policy::Zip215 {
        v.push(ours(Some(Keys::default())));
        let parsed: ParsedInputs = (
            inputs.iter().map(|(k, _, _)| *k).collect(),
            inputs.iter().map(|(_, s, _)| *s).collect(),
            inputs.iter().map(|(_, _, m)| m.clone()).collect(),
        );
        v.push(Contender::boxed(
            "peer:ed25519-dalek-verify-batch-parsed-keys",
            parsed,
            dalek_batch_parsed,
        ));
    }
    if compare {
        let peers: &[(&'static str, PeerFn)] = match policy {
            Policy::Zip215 => &[
                ("peer:ed25519-dalek-verify-batch", dalek_batch),
                ("peer:ed25519-dalek-verify", dalek_single),
            ],
            Policy::Strict => &[("peer:ed25519-dalek-verify-strict", dalek_strict)],
            Policy::Rfc8032 => &[("peer:ed25519-dalek-verify", dalek_single)],
        };
        for (name, f) in peers {
            let bytes: DalekInputs = inputs
                .iter()
                .map(|(k, s, m)| (k.to_bytes(), *s, m.clone()))
                .collect();
            v.push(Contender::boxed(name, bytes, *f));
        }
    }
    v
}
