//! Jobs as backends receive them: every constructor checks its input, so a backend never sees
//! mismatched lengths, a size its field cannot transform, or an unknown scheme.

use crate::error::JobError;
use crate::wire::{Curve, CurveId};
use ark_ec::short_weierstrass::{Affine, Projective};
use offload_engine::msm::Canonical;
use offload_engine::ntt::{NttConfig, NttField};
use offload_engine::sig::ed25519::Policy;
use offload_engine::sig::secp256k1::EcdsaConfig;
use offload_engine::sig::Verdict;
pub use offload_wire::ids::{FieldId, SchemeId};
use std::fmt;
use std::sync::Arc;

pub use offload_wire::ids::curves::{Bls12_381, Bls12_381G2, Bn254, Bn254G2};

/// `on_curve!(value, Enum, x => body)`: `body` with `x` bound to what `value`, an `MsmJob`,
/// `MsmOutput` or `AnyBases`, holds for its curve; written once for every curve.
#[macro_export]
macro_rules! on_curve {
    ($e:expr, $enum:ident, $x:ident => $body:expr) => {
        match $e {
            $crate::job::$enum::Bn254($x) => $body,
            $crate::job::$enum::Bls12_381($x) => $body,
            $crate::job::$enum::Bn254G2($x) => $body,
            $crate::job::$enum::Bls12_381G2($x) => $body,
        }
    };
}

/// A set of bases, decoded and checked once. An uploaded set has a handle, which names one
/// content forever (the store derives it from the points), so a backend may key what it keeps
/// for the set (a fixed-base table, a device copy) by the handle alone.
pub struct BaseSet<C: Curve> {
    pub points: Vec<Affine<C>>,
    pub handle: Option<String>,
}

impl<C: Curve> fmt::Debug for BaseSet<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseSet")
            .field("curve", &C::ID)
            .field("points", &self.points.len())
            .field("handle", &self.handle)
            .finish()
    }
}

impl<C: Curve> BaseSet<C> {
    /// Bases sent with a request: nothing is kept for them.
    pub fn inline(points: Vec<Affine<C>>) -> Self {
        Self {
            points,
            handle: None,
        }
    }

    /// An uploaded set, used by `handle`.
    pub fn resident(points: Vec<Affine<C>>, handle: String) -> Self {
        Self {
            points,
            handle: Some(handle),
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// A set of any curve, as the store keeps it and backends are told of it.
#[derive(Clone, Debug)]
pub enum AnyBases {
    Bn254(Arc<BaseSet<Bn254>>),
    Bls12_381(Arc<BaseSet<Bls12_381>>),
    Bn254G2(Arc<BaseSet<Bn254G2>>),
    Bls12_381G2(Arc<BaseSet<Bls12_381G2>>),
}

impl AnyBases {
    pub fn curve(&self) -> CurveId {
        on_curve!(self, AnyBases, b => curve_of(&**b))
    }

    pub fn handle(&self) -> Option<&str> {
        on_curve!(self, AnyBases, b => b.handle.as_deref())
    }

    pub fn len(&self) -> usize {
        on_curve!(self, AnyBases, b => b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Memory the points take.
    pub fn bytes(&self) -> usize {
        on_curve!(self, AnyBases, b => std::mem::size_of_val(b.points.as_slice()))
    }
}

fn curve_of<C: Curve>(_: &BaseSet<C>) -> CurveId {
    C::ID
}

/// The curves jobs are built on, each tied to its arm of the job enums, so that code above
/// the enums writes one generic function instead of one arm per curve.
pub trait JobCurve: Curve {
    fn msm_job(m: Msm<Self>) -> MsmJob;
    fn msm_output(points: Vec<Projective<Self>>) -> MsmOutput;
    /// The points, if `o` is an output of this curve.
    fn msm_results(o: MsmOutput) -> Option<Vec<Projective<Self>>>;
    fn any_bases(set: Arc<BaseSet<Self>>) -> AnyBases;
    /// The set, if `b` is one of this curve.
    fn bases_of(b: AnyBases) -> Option<Arc<BaseSet<Self>>>;
}

macro_rules! job_curve {
    ($c:ty, $v:ident) => {
        impl JobCurve for $c {
            fn msm_job(m: Msm<Self>) -> MsmJob {
                MsmJob::$v(m)
            }
            fn msm_output(points: Vec<Projective<Self>>) -> MsmOutput {
                MsmOutput::$v(points)
            }
            fn msm_results(o: MsmOutput) -> Option<Vec<Projective<Self>>> {
                match o {
                    MsmOutput::$v(v) => Some(v),
                    _ => None,
                }
            }
            fn any_bases(set: Arc<BaseSet<Self>>) -> AnyBases {
                AnyBases::$v(set)
            }
            fn bases_of(b: AnyBases) -> Option<Arc<BaseSet<Self>>> {
                match b {
                    AnyBases::$v(s) => Some(s),
                    _ => None,
                }
            }
        }
    };
}
job_curve!(Bn254, Bn254);
job_curve!(Bls12_381, Bls12_381);
job_curve!(Bn254G2, Bn254G2);
job_curve!(Bls12_381G2, Bls12_381G2);

/// A scalar vector as the MSM takes it: canonical integers, checked below the group order.
pub type Scalars<C> = Vec<Canonical<<C as ark_ec::CurveConfig>::ScalarField>>;

/// A point addition's cost relative to BN254 G1's, from the CPU engine's MSMs at 2^16
/// (docs/PERFORMANCE.md): a prior for the cost model, which the calibration at start-up
/// measures on BN254 G1 only.
fn group_cost(c: CurveId) -> f64 {
    match c {
        CurveId::Bn254 => 1.0,
        CurveId::Bls12_381 => 1.7,
        CurveId::Bn254G2 => 2.5,
        CurveId::Bls12_381G2 => 5.3,
    }
}

/// Σ scalars[v][i]·bases[i] for every vector v.
pub struct Msm<C: Curve> {
    bases: Arc<BaseSet<C>>,
    scalars: Vec<Scalars<C>>,
}

impl<C: Curve> Clone for Msm<C> {
    fn clone(&self) -> Self {
        Self {
            bases: self.bases.clone(),
            scalars: self.scalars.clone(),
        }
    }
}

impl<C: Curve> Msm<C> {
    pub fn new(bases: Arc<BaseSet<C>>, scalars: Vec<Scalars<C>>) -> Result<Self, JobError> {
        if scalars.is_empty() {
            return Err(JobError::invalid("scalars", "no scalar vectors"));
        }
        for (v, s) in scalars.iter().enumerate() {
            if s.len() != bases.len() {
                return Err(JobError::invalid(
                    format!("scalars[{v}]"),
                    format!("{} scalars for {} bases", s.len(), bases.len()),
                ));
            }
        }
        Ok(Self { bases, scalars })
    }

    pub fn bases(&self) -> &Arc<BaseSet<C>> {
        &self.bases
    }

    pub fn scalars(&self) -> &[Scalars<C>] {
        &self.scalars
    }
}

#[derive(Clone)]
pub enum MsmJob {
    Bn254(Msm<Bn254>),
    Bls12_381(Msm<Bls12_381>),
    Bn254G2(Msm<Bn254G2>),
    Bls12_381G2(Msm<Bls12_381G2>),
}

impl MsmJob {
    pub fn curve(&self) -> CurveId {
        on_curve!(self, MsmJob, m => curve_of(m.bases()))
    }

    /// Points per scalar vector.
    pub fn len(&self) -> usize {
        on_curve!(self, MsmJob, m => m.bases.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Scalar vectors.
    pub fn vectors(&self) -> usize {
        on_curve!(self, MsmJob, m => m.scalars.len())
    }
}

pub enum MsmOutput {
    Bn254(Vec<Projective<Bn254>>),
    Bls12_381(Vec<Projective<Bls12_381>>),
    Bn254G2(Vec<Projective<Bn254G2>>),
    Bls12_381G2(Vec<Projective<Bls12_381G2>>),
}

/// A transform of `columns` columns of 2^log_n elements stored back to back.
#[derive(Clone)]
pub struct Ntt<F: NttField> {
    pub cfg: NttConfig<F>,
    log_n: u32,
    columns: usize,
    pub data: Vec<F>,
}

impl<F: NttField> Ntt<F> {
    /// `data` holds `columns` columns of equal power-of-two length.
    pub fn new(cfg: NttConfig<F>, columns: usize, data: Vec<F>) -> Result<Self, JobError> {
        if columns == 0 {
            return Err(JobError::invalid("columns", "no columns"));
        }
        let len = data.len() / columns;
        if len * columns != data.len() || !len.is_power_of_two() {
            return Err(JobError::invalid(
                "columns",
                format!("columns must have one power-of-two length; {len} is not"),
            ));
        }
        let log_n = len.trailing_zeros();
        if log_n > F::TWO_ADICITY {
            return Err(JobError::invalid(
                "columns",
                format!(
                    "2^{log_n} exceeds the largest {} domain, 2^{}",
                    F::NAME,
                    F::TWO_ADICITY
                ),
            ));
        }
        if cfg.coset.is_some_and(|g| g.is_zero()) {
            return Err(JobError::invalid("coset", "the shift must be nonzero"));
        }
        Ok(Self {
            cfg,
            log_n,
            columns,
            data,
        })
    }

    pub fn log_n(&self) -> u32 {
        self.log_n
    }

    pub fn columns(&self) -> usize {
        self.columns
    }
}

#[derive(Clone)]
pub enum NttJob {
    Bn254(Ntt<ark_bn254::Fr>),
    Bls12_381(Ntt<ark_bls12_381::Fr>),
    BabyBear(Ntt<p3_baby_bear::BabyBear>),
    Goldilocks(Ntt<p3_goldilocks::Goldilocks>),
}

/// The fields NTT jobs are built on, each tied to its arm of [`NttJob`].
pub trait JobField: NttField {
    fn ntt_job(n: Ntt<Self>) -> NttJob;
    /// The transform, if `j` is one over this field.
    fn ntt_data(j: NttJob) -> Option<Ntt<Self>>;
}

macro_rules! job_field {
    ($f:ty, $v:ident) => {
        impl JobField for $f {
            fn ntt_job(n: Ntt<Self>) -> NttJob {
                NttJob::$v(n)
            }
            fn ntt_data(j: NttJob) -> Option<Ntt<Self>> {
                match j {
                    NttJob::$v(n) => Some(n),
                    _ => None,
                }
            }
        }
    };
}
job_field!(ark_bn254::Fr, Bn254);
job_field!(ark_bls12_381::Fr, Bls12_381);
job_field!(p3_baby_bear::BabyBear, BabyBear);
job_field!(p3_goldilocks::Goldilocks, Goldilocks);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigScheme {
    Ed25519(Policy),
    Ecdsa(EcdsaConfig),
    Bip340,
    BlsEth,
}

impl SigScheme {
    pub fn id(&self) -> SchemeId {
        match self {
            SigScheme::Ed25519(_) => SchemeId::Ed25519,
            SigScheme::Ecdsa(_) => SchemeId::EcdsaSecp256k1,
            SigScheme::Bip340 => SchemeId::Bip340,
            SigScheme::BlsEth => SchemeId::BlsEth,
        }
    }
}

impl fmt::Display for SigScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.id().fmt(f)
    }
}

/// One signature as sent; the engines check lengths and encodings item by item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigItem {
    pub public_key: Vec<u8>,
    pub signature: Vec<u8>,
    pub message: Vec<u8>,
}

#[derive(Clone)]
pub struct VerifyJob {
    pub scheme: SigScheme,
    pub items: Vec<SigItem>,
    /// The submitting tenant's decoded public keys, kept across its calls (the CPU engine's
    /// Ed25519 batch reads and fills it; `None`: decode every key).
    pub keys: Option<std::sync::Arc<offload_engine::sig::keys::Keys>>,
}

/// Cloned only where a copy must survive a device that may not hand its job back (a run
/// that times out).
#[derive(Clone)]
pub enum Job {
    Msm(MsmJob),
    Ntt(NttJob),
    Verify(VerifyJob),
}

/// What a job computes, for capability checks and the cost model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    Msm(CurveId),
    Ntt(FieldId),
    Verify(SigScheme),
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpKind::Msm(c) => write!(f, "msm {c}"),
            OpKind::Ntt(x) => write!(f, "ntt {x}"),
            OpKind::Verify(s) => write!(f, "verify {s}"),
        }
    }
}

impl OpKind {
    /// The operation's name in metrics and `GetInfo`.
    pub fn op(&self) -> &'static str {
        match self {
            OpKind::Msm(_) => "msm",
            OpKind::Ntt(_) => "ntt",
            OpKind::Verify(_) => "verify",
        }
    }
}

impl Job {
    pub fn kind(&self) -> OpKind {
        match self {
            Job::Msm(m) => OpKind::Msm(m.curve()),
            Job::Ntt(NttJob::Bn254(_)) => OpKind::Ntt(FieldId::Bn254),
            Job::Ntt(NttJob::Bls12_381(_)) => OpKind::Ntt(FieldId::Bls12_381),
            Job::Ntt(NttJob::BabyBear(_)) => OpKind::Ntt(FieldId::BabyBear),
            Job::Ntt(NttJob::Goldilocks(_)) => OpKind::Ntt(FieldId::Goldilocks),
            Job::Verify(v) => OpKind::Verify(v.scheme),
        }
    }

    /// The size a backend's limits refer to: MSM length, NTT length, batch size.
    pub fn size(&self) -> usize {
        match self {
            Job::Msm(m) => m.len(),
            Job::Ntt(NttJob::Bn254(n)) => 1 << n.log_n,
            Job::Ntt(NttJob::Bls12_381(n)) => 1 << n.log_n,
            Job::Ntt(NttJob::BabyBear(n)) => 1 << n.log_n,
            Job::Ntt(NttJob::Goldilocks(n)) => 1 << n.log_n,
            Job::Verify(v) => v.items.len(),
        }
    }

    /// How many independent instances of `size` the job holds (scalar vectors, columns).
    pub fn multiplicity(&self) -> usize {
        match self {
            Job::Msm(m) => m.vectors(),
            Job::Ntt(NttJob::Bn254(n)) => n.columns,
            Job::Ntt(NttJob::Bls12_381(n)) => n.columns,
            Job::Ntt(NttJob::BabyBear(n)) => n.columns,
            Job::Ntt(NttJob::Goldilocks(n)) => n.columns,
            Job::Verify(_) => 1,
        }
    }

    /// Work in the cost model's units: n/log n per MSM (Pippenger), n·log n per NTT column,
    /// one per signature.
    pub fn work(&self) -> f64 {
        let n = self.size().max(1) as f64;
        let m = self.multiplicity() as f64;
        match self {
            Job::Msm(j) => m * n / n.log2().max(1.0) * group_cost(j.curve()),
            Job::Ntt(_) => m * n * n.log2().max(1.0),
            Job::Verify(_) => n,
        }
    }

    /// Signature batches are latency-bound; bulk MSMs and NTTs wait behind them.
    pub fn latency_class(&self) -> bool {
        matches!(self, Job::Verify(_))
    }
}

pub enum Output {
    Msm(MsmOutput),
    /// The job, transformed in place.
    Ntt(NttJob),
    Verify(Vec<Verdict>),
}
