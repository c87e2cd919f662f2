//! BLS12-381 contenders: our batch verification against blst's own batch call,
//! `verify_multiple_aggregate_signatures`, both starting from bytes.

use crate::sig::Contender;
use crate::Runner;
use blst::min_pk::{PublicKey, SecretKey, Signature};
use blst::{blst_scalar, BLST_ERROR};
use offload_engine::sig::bls::{verify_batch, verify_batch_cached, Item, DST};
use offload_engine::sig::keys::Keys;
use offload_engine::sig::Verdict;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// (public key, signature, message) as bytes: distinct keys and messages.
pub type Inputs = Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>;

fn items(v: &Inputs) -> Vec<Item<'_>> {
    v.iter()
        .map(|(k, s, m)| Item {
            public_key: k,
            signature: s,
            message: m,
        })
        .collect()
}

fn ours(v: &Inputs) -> Vec<bool> {
    verify_batch(&items(v))
        .iter()
        .map(Verdict::is_valid)
        .collect()
}

/// Ours with a tenant's key cache kept across runs: warm after the warm-up, as a validator's
/// is for a validator set it sees in every batch.
struct Cached {
    inputs: Inputs,
    keys: Keys,
    out: Vec<bool>,
}

impl Runner for Cached {
    fn name(&self) -> String {
        "cpu:key-cache".into()
    }
    fn run(&mut self) {
        let v = verify_batch_cached(&items(&self.inputs), &self.keys);
        self.out = v.iter().map(Verdict::is_valid).collect();
    }
    fn digest(&self) -> Vec<u8> {
        crate::sig::digest(self.out.iter().copied())
    }
}

/// blst as a caller uses it on bytes: KeyValidate, signature subgroup check, one batch call.
fn peer(v: &Inputs) -> Vec<bool> {
    let pks: Option<Vec<PublicKey>> = v
        .iter()
        .map(|(k, _, _)| PublicKey::key_validate(k).ok())
        .collect();
    let sigs: Option<Vec<Signature>> = v
        .iter()
        .map(|(_, s, _)| Signature::sig_validate(s, false).ok())
        .collect();
    let (Some(pks), Some(sigs)) = (pks, sigs) else {
        return vec![false; v.len()];
    };
    let mut r = ChaCha20Rng::seed_from_u64(v.len() as u64);
    let rands: Vec<blst_scalar> = (0..v.len())
        .map(|_| {
            let mut s = blst_scalar::default();
            let mut b = [0u8; 8];
            r.fill_bytes(&mut b);
            b[0] |= 1;
            s.b[..8].copy_from_slice(&b);
            s
        })
        .collect();
    let msgs: Vec<&[u8]> = v.iter().map(|(_, _, m)| m.as_slice()).collect();
    let ok = Signature::verify_multiple_aggregate_signatures(
        &msgs,
        DST,
        &pks.iter().collect::<Vec<_>>(),
        false,
        &sigs.iter().collect::<Vec<_>>(),
        false,
        &rands,
        64,
    ) == BLST_ERROR::BLST_SUCCESS;
    vec![ok; v.len()]
}

pub fn runners(batch: usize, compare: bool) -> Vec<Box<dyn Runner>> {
    let inputs = inputs(batch);
    let mut v: Vec<Box<dyn Runner>> = vec![Contender::boxed("cpu", inputs.clone(), ours)];
    if compare {
        v.push(Box::new(Cached {
            inputs: inputs.clone(),
            keys: Keys::default(),
            out: Vec::new(),
        }));
        v.push(Contender::boxed(
            "peer:blst-verify-multiple-aggregate-signatures",
            inputs,
            peer,
        ));
    }
    v
}

/// `batch` valid signatures, each by its own key over its own message.
pub fn inputs(batch: usize) -> Inputs {
    let mut r = ChaCha20Rng::seed_from_u64(0x0ff1_0ad5 + batch as u64);
    (0..batch)
        .map(|i| {
            let sk =
                SecretKey::key_gen(&r.gen::<[u8; 32]>(), &[]).expect("32 bytes of key material");
            let msg = format!("block root {i}").into_bytes();
            (
                sk.sk_to_pk().compress().to_vec(),
                sk.sign(&msg, DST, &[]).compress().to_vec(),
                msg,
            )
        })
        .collect()
}
