//! Ed25519 batch verification as a [`Plan`]: keys, signatures and messages packed into word
//! buffers, one `ed25519_verify` thread per signature, one verdict code back per signature.
//! Lengths are checked here, as the CPU engine checks them first; only well-sized items go
//! to the device.

use crate::plan::{Arg, Launch, Plan};
use offload_engine::sig::ed25519::{Item, Policy};
use offload_engine::sig::{Field, Malformed, Verdict};

/// Message bytes one plan may carry: offsets on the device are 32-bit.
pub const MAX_MESSAGE_BYTES: usize = u32::MAX as usize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigPlanError {
    #[error("the batch's messages hold {0} bytes, more than one device run takes")]
    MessagesTooLong(usize),
}

/// Where each item's verdict comes from: its index in the plan's result buffer, or why it
/// never went to the device.
pub struct Slots(Vec<Result<usize, Malformed>>);

fn policy_code(p: Policy) -> u32 {
    match p {
        Policy::Zip215 => 0,
        Policy::Strict => 1,
        Policy::Rfc8032 => 2,
    }
}

/// Bytes as little-endian words, zero-padded to a whole word.
fn push_bytes(out: &mut Vec<u32>, bytes: &[u8]) {
    for c in bytes.chunks(4) {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        out.push(u32::from_le_bytes(w));
    }
}

fn length(bytes: &[u8], field: Field, expected: usize) -> Result<(), Malformed> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(Malformed::BadLength {
            field,
            expected,
            got: bytes.len(),
        })
    }
}

/// The plan for `items` under `policy`, and where to find each verdict after it ran.
pub fn ed25519(policy: Policy, items: &[Item]) -> Result<(Plan, Slots), SigPlanError> {
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    let mut msgs: Vec<u8> = Vec::new();
    let mut spans = Vec::new();
    let mut slots = Vec::with_capacity(items.len());
    let mut n = 0usize;
    for it in items {
        let sized = length(it.public_key, Field::PublicKey, 32)
            .and_then(|()| length(it.signature, Field::Signature, 64));
        if let Err(m) = sized {
            slots.push(Err(m));
            continue;
        }
        push_bytes(&mut keys, it.public_key);
        push_bytes(&mut sigs, it.signature);
        spans.push(msgs.len() as u32);
        spans.push(it.message.len() as u32);
        msgs.extend_from_slice(it.message);
        if msgs.len() > MAX_MESSAGE_BYTES {
            return Err(SigPlanError::MessagesTooLong(msgs.len()));
        }
        slots.push(Ok(n));
        n += 1;
    }
    let mut msg_words = Vec::with_capacity(msgs.len().div_ceil(4));
    push_bytes(&mut msg_words, &msgs);
    let plan = Plan {
        module: "ed25519.cu",
        buffers: vec![keys, sigs, msg_words, spans, vec![u32::MAX; n]],
        launches: vec![Launch::new(
            "ed25519_verify".into(),
            n as u64,
            vec![
                Arg::Buf(0),
                Arg::Buf(1),
                Arg::Buf(2),
                Arg::Buf(3),
                Arg::Buf(4),
                Arg::U32(n as u32),
                Arg::U32(policy_code(policy)),
            ],
        )],
        result: 4,
        resident: Vec::new(),
    };
    Ok((plan, Slots(slots)))
}

/// A verdict code the device returned that no kernel writes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("signature {index}: the device returned verdict code {code}")]
pub struct BadVerdict {
    pub index: usize,
    pub code: u32,
}

fn verdict(code: u32) -> Option<Verdict> {
    Some(match code {
        0 => Verdict::Valid,
        1 => Verdict::Invalid,
        2 => Verdict::Malformed(Malformed::NotOnCurve {
            field: Field::PublicKey,
        }),
        3 => Verdict::Malformed(Malformed::NotOnCurve { field: Field::R }),
        4 => Verdict::Malformed(Malformed::NonCanonical { field: Field::R }),
        5 => Verdict::Malformed(Malformed::ScalarOutOfRange { field: Field::S }),
        _ => return None,
    })
}

impl Slots {
    /// One verdict per item, after `plan` ran. The result buffer starts filled with a code
    /// no kernel writes, so a thread that never ran is an error, not a verdict.
    pub fn verdicts(&self, plan: &Plan) -> Result<Vec<Verdict>, BadVerdict> {
        let codes = plan.buffers.get(plan.result).map_or(&[][..], |b| &b[..]);
        self.0
            .iter()
            .enumerate()
            .map(|(index, s)| match s {
                Err(m) => Ok(Verdict::Malformed(*m)),
                Ok(i) => {
                    let code = codes.get(*i).copied().unwrap_or(u32::MAX);
                    verdict(code).ok_or(BadVerdict { index, code })
                }
            })
            .collect()
    }
}
