//! What `offload bench` and the criterion benches measure: seeded workloads, our engine and
//! the peer libraries behind one [`Runner`] interface, and the timing loop.
//!
//! Every contender of a case gets the same inputs (converted to its own types before timing)
//! and its result is compared with ours after timing, so a ratio is never quoted for a peer
//! that computed something else.

pub mod bls;
pub mod convert;
pub mod device;
pub mod fleet;
pub mod groth16;
pub mod msm;
pub mod ntt;
pub mod remote;
pub mod secp;
pub mod sig;
pub mod stark;
pub mod timing;

use std::fmt;

/// Curves served by MSM, and fields served by NTT: the API's own names (offload-wire).
pub use offload_wire::ids::{CurveId as Curve, FieldId as Field, Named};

/// Signature schemes served by batch verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Ed25519(offload_engine::sig::ed25519::Policy),
    /// secp256k1 ECDSA, compact signatures, compressed keys; `low_s` required or not.
    Ecdsa {
        low_s: bool,
    },
    /// BIP340 Schnorr.
    Schnorr,
    /// BLS12-381, Ethereum's min-pk POP ciphersuite, independent triples.
    Bls,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Ed25519(_) => "ed25519",
            Scheme::Ecdsa { .. } => "ecdsa",
            Scheme::Schnorr => "schnorr",
            Scheme::Bls => "bls",
        }
    }
    pub fn policy(self) -> &'static str {
        match self {
            Scheme::Ed25519(p) => p.name(),
            Scheme::Ecdsa { low_s: true } => "low-s",
            Scheme::Ecdsa { low_s: false } => "any-s",
            Scheme::Schnorr => "bip340",
            Scheme::Bls => "eth-pop",
        }
    }
}

/// One benchmark case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    Msm {
        curve: Curve,
        log_n: u32,
        fixed_bases: bool,
    },
    Ntt {
        field: Field,
        log_n: u32,
    },
    Verify {
        scheme: Scheme,
        batch: usize,
    },
    /// A Groth16 proof of a Poseidon chain of about 2^log_n constraints on `curve`'s pairing.
    Groth16 {
        curve: Curve,
        log_n: u32,
    },
    /// A STARK proof (Plonky3's Keccak AIR, FRI) of a trace of about 2^log_n rows.
    Stark {
        field: Field,
        log_n: u32,
    },
    /// A matrix of 2^log_n rows of `width` columns stored row by row, every column
    /// transformed (`dft_batch`), or extended by 2 onto a coset (`lde`: `coset_lde_batch`).
    Rows {
        field: Field,
        log_n: u32,
        width: usize,
        lde: bool,
    },
}

impl Case {
    pub fn op(&self) -> &'static str {
        match self {
            Case::Msm { .. } => "msm",
            Case::Ntt { .. } => "ntt",
            Case::Verify { scheme, .. } => scheme.name(),
            Case::Groth16 { .. } => "groth16",
            Case::Stark { .. } => "stark",
            Case::Rows { lde: false, .. } => "ntt-rows",
            Case::Rows { lde: true, .. } => "lde",
        }
    }
    /// log2 of the size (for a batch, of its length rounded down), for plots.
    pub fn log_n(&self) -> u32 {
        match *self {
            Case::Msm { log_n, .. }
            | Case::Ntt { log_n, .. }
            | Case::Groth16 { log_n, .. }
            | Case::Stark { log_n, .. }
            | Case::Rows { log_n, .. } => log_n,
            Case::Verify { batch, .. } => batch.max(1).ilog2(),
        }
    }
    /// Items processed per run.
    pub fn n(&self) -> u64 {
        match *self {
            Case::Verify { batch, .. } => batch as u64,
            Case::Rows { width, .. } => (width as u64) << self.log_n(),
            _ => 1u64 << self.log_n(),
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Case::Msm {
                curve,
                log_n,
                fixed_bases,
            } => write!(
                f,
                "msm {} 2^{log_n}{}",
                curve.name(),
                if *fixed_bases { " fixed-bases" } else { "" }
            ),
            Case::Ntt { field, log_n } => write!(f, "ntt {} 2^{log_n}", field.name()),
            Case::Verify { scheme, batch } => {
                write!(f, "{} {} batch {batch}", scheme.name(), scheme.policy())
            }
            Case::Groth16 { curve, log_n } => write!(f, "groth16 {} 2^{log_n}", curve.name()),
            Case::Stark { field, log_n } => write!(f, "stark keccak {} 2^{log_n}", field.name()),
            Case::Rows {
                field,
                log_n,
                width,
                ..
            } => write!(f, "{} {} 2^{log_n} x {width}", self.op(), field.name()),
        }
    }
}

/// A contender: ours or a peer library, holding its own copy of the inputs.
pub trait Runner {
    /// `cpu` for our engine, `peer:NAME` for a peer library.
    fn name(&self) -> String;
    /// Restore the inputs before a timed run (untimed): in-place transforms consume them.
    fn prepare(&mut self) {}
    /// The timed work.
    fn run(&mut self);
    /// The last result in a canonical byte form, for comparison with ours.
    fn digest(&self) -> Vec<u8>;
}

/// Our runner first, then the peers of the case when `compare` is set.
pub fn runners(case: Case, compare: bool) -> Vec<Box<dyn Runner>> {
    match case {
        Case::Msm {
            curve,
            log_n,
            fixed_bases,
        } => msm::runners(curve, log_n, fixed_bases, compare),
        Case::Ntt { field, log_n } => ntt::runners(field, log_n, compare),
        Case::Verify { scheme, batch } => sig::runners(scheme, batch, compare),
        Case::Groth16 { curve, log_n } => groth16::runners(curve, log_n, compare),
        Case::Stark { field, log_n } => {
            stark::runners(field, log_n, ("cpu", stark::OffloadDft::local()), compare)
        }
        Case::Rows {
            field,
            log_n,
            width,
            lde,
        } => {
            let local = std::sync::Arc::new(offload_prover::Offload::local_with_tables(0));
            ntt::rows_runners(field, log_n, width, lde, ("cpu", local), compare)
        }
    }
}
