//! Between the wire (offload.v1) and the domain (offload-core): enums both ways, verdicts out,
//! and the one mapping from `JobError` to a gRPC status.

use offload_core::job::{FieldId, SigScheme};
use offload_core::wire::{CurveId, PointEncoding};
use offload_core::JobError;
use offload_engine::ntt::{Direction, Order};
use offload_engine::sig::ed25519::Policy as EdPolicy;
use offload_engine::sig::secp256k1::{EcdsaConfig, Encoding};
use offload_engine::sig::Verdict;
use offload_proto::v1 as pb;
use tonic::{Code, Status};

/// The longest status message the daemon sends.
pub const MAX_STATUS_TEXT: usize = 512;

pub fn status(e: JobError) -> Status {
    let code = match &e {
        JobError::InvalidArgument { .. } => Code::InvalidArgument,
        JobError::NotFound(_) => Code::NotFound,
        JobError::ResourceExhausted(_) => Code::ResourceExhausted,
        JobError::Unsupported(_) => Code::Unimplemented,
        JobError::Backend { .. } | JobError::Internal(_) => Code::Internal,
        JobError::DeadlineExceeded(_) => Code::DeadlineExceeded,
        JobError::DataLoss(_) => Code::DataLoss,
        JobError::PermissionDenied(_) => Code::PermissionDenied,
        JobError::Aborted(_) => Code::Aborted,
    };
    let mut text = e.to_string();
    if text.len() > MAX_STATUS_TEXT {
        // Whatever a client sent that reached an error, the answer stays short.
        let mut cut = MAX_STATUS_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    Status::new(code, text)
}

fn unknown(field: &str, v: i32) -> JobError {
    JobError::invalid(field, format!("unknown value {v}"))
}

pub fn curve(v: i32) -> Result<CurveId, JobError> {
    let c = pb::Curve::try_from(v).map_err(|_| unknown("curve", v))?;
    CurveId::try_from(c).map_err(|_| JobError::invalid("curve", "not given"))
}

pub fn curve_out(c: CurveId) -> i32 {
    pb::Curve::from(c) as i32
}

pub fn encoding(field: &str, v: i32) -> Result<PointEncoding, JobError> {
    match pb::PointEncoding::try_from(v) {
        Ok(pb::PointEncoding::Unspecified | pb::PointEncoding::ArkCompressed) => {
            Ok(PointEncoding::ArkCompressed)
        }
        Ok(pb::PointEncoding::ArkUncompressed) => Ok(PointEncoding::ArkUncompressed),
        Ok(pb::PointEncoding::Eip196) => Ok(PointEncoding::Eip196),
        Ok(pb::PointEncoding::Eip2537) => Ok(PointEncoding::Eip2537),
        Err(_) => Err(unknown(field, v)),
    }
}

pub fn field(v: i32) -> Result<FieldId, JobError> {
    let f = pb::NttField::try_from(v).map_err(|_| unknown("field", v))?;
    FieldId::try_from(f).map_err(|_| JobError::invalid("field", "not given"))
}

pub fn direction(v: i32) -> Result<Direction, JobError> {
    match pb::NttDirection::try_from(v) {
        Ok(pb::NttDirection::Forward) => Ok(Direction::Forward),
        Ok(pb::NttDirection::Inverse) => Ok(Direction::Inverse),
        Ok(pb::NttDirection::Unspecified) => Err(JobError::invalid("direction", "not given")),
        Err(_) => Err(unknown("direction", v)),
    }
}

pub fn order(name: &str, v: i32) -> Result<Order, JobError> {
    match pb::Ordering::try_from(v) {
        Ok(pb::Ordering::Natural) => Ok(Order::Natural),
        Ok(pb::Ordering::BitReversed) => Ok(Order::BitReversed),
        Err(_) => Err(unknown(name, v)),
    }
}

pub fn scheme(scheme: i32, policy: i32) -> Result<SigScheme, JobError> {
    let s = pb::Scheme::try_from(scheme).map_err(|_| unknown("scheme", scheme))?;
    let p = pb::Policy::try_from(policy).map_err(|_| unknown("policy", policy))?;
    use pb::Policy as P;
    let bad = || {
        JobError::invalid(
            "policy",
            format!("{} does not apply to {}", p.as_str_name(), s.as_str_name()),
        )
    };
    let ecdsa = |low_s, encoding| SigScheme::Ecdsa(EcdsaConfig { encoding, low_s });
    Ok(match s {
        pb::Scheme::Unspecified => return Err(JobError::invalid("scheme", "not given")),
        pb::Scheme::Ed25519 => SigScheme::Ed25519(match p {
            P::Default | P::Ed25519Zip215 => EdPolicy::Zip215,
            P::Ed25519Strict => EdPolicy::Strict,
            P::Ed25519Rfc8032 => EdPolicy::Rfc8032,
            _ => return Err(bad()),
        }),
        pb::Scheme::EcdsaSecp256k1 => match p {
            P::Default | P::EcdsaLowS => ecdsa(true, Encoding::Compact),
            P::EcdsaAnyS => ecdsa(false, Encoding::Compact),
            P::EcdsaLowSDer => ecdsa(true, Encoding::Der),
            P::EcdsaAnySDer => ecdsa(false, Encoding::Der),
            _ => return Err(bad()),
        },
        pb::Scheme::Bip340 if p == P::Default => SigScheme::Bip340,
        pb::Scheme::Bls12381Eth if p == P::Default => SigScheme::BlsEth,
        _ => return Err(bad()),
    })
}

pub fn verdict(v: &Verdict) -> pb::Verdict {
    match v {
        Verdict::Valid => pb::Verdict {
            outcome: pb::Outcome::Valid as i32,
            reason: String::new(),
        },
        Verdict::Invalid => pb::Verdict {
            outcome: pb::Outcome::Invalid as i32,
            reason: String::new(),
        },
        Verdict::Malformed(m) => pb::Verdict {
            outcome: pb::Outcome::Malformed as i32,
            reason: m.to_string(),
        },
    }
}
