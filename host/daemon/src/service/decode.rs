//! Reading what a client sends: inline bytes or shared-memory regions (copied in off the async
//! threads), field elements checked as they decode, and the next message of a client stream
//! within its idle limit.

use super::State;
use crate::net::Peer;
use offload_core::wire::{self, WireField};
use offload_core::JobError;
use offload_proto::v1 as pb;
use tonic::Streaming;

/// Where an `Elements`' bytes are, before any is read.
pub(super) enum Source {
    Inline(Vec<u8>),
    Shared(pb::SharedMemory),
}

impl Source {
    /// The length the client declared.
    pub(super) fn len(&self) -> u64 {
        match self {
            Source::Inline(b) => b.len() as u64,
            Source::Shared(s) => s.length,
        }
    }
}

pub(super) fn source(e: pb::Elements) -> Source {
    match e.source {
        Some(pb::elements::Source::Packed(b)) => Source::Inline(b),
        Some(pb::elements::Source::Shared(s)) => Source::Shared(s),
        None => Source::Inline(Vec::new()),
    }
}

impl State {
    /// The bytes of each source, shared-memory regions copied in off the async threads (their
    /// lengths were checked and their memory charged by the caller). `field(i)` names each.
    pub(super) async fn read(
        &self,
        peer: Option<&Peer>,
        sources: Vec<Source>,
        field: impl Fn(usize) -> String + Send + 'static,
    ) -> Result<Vec<Vec<u8>>, JobError> {
        let shared = sources.iter().position(|s| matches!(s, Source::Shared(_)));
        let Some(first) = shared else {
            return Ok(sources
                .into_iter()
                .map(|s| match s {
                    Source::Inline(b) => b,
                    Source::Shared(_) => Vec::new(),
                })
                .collect());
        };
        let Some(dir) = self.shm.clone() else {
            return Err(JobError::invalid(
                field(first),
                "shared-memory input is not enabled on this daemon (shm_dir)",
            ));
        };
        let Some(ids) = peer.and_then(Peer::unix_ids) else {
            return Err(JobError::invalid(
                field(first),
                "shared memory is read only for clients on the daemon's Unix socket",
            ));
        };
        tokio::task::spawn_blocking(move || {
            sources
                .into_iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Source::Inline(b) => Ok(b),
                    Source::Shared(r) => dir.read(&field(i), ids, &r.path, r.offset, r.length),
                })
                .collect()
        })
        .await
        .map_err(|_| JobError::Internal("a shared-memory read panicked".into()))?
    }
}

pub(super) fn element_error(field: &str, e: wire::ElementError) -> JobError {
    match e {
        wire::ElementError::NotCanonical { index } => {
            JobError::invalid(format!("{field}[{index}]"), "not below the field modulus")
        }
        e => JobError::invalid(field, e),
    }
}

pub(super) fn decode_vector<F: WireField>(field: &str, bytes: &[u8]) -> Result<Vec<F>, JobError> {
    wire::decode_elements::<F>(bytes).map_err(|e| element_error(field, e))
}

/// The next message of a client stream, or DEADLINE_EXCEEDED when none comes within `idle`
/// (`knob` names the setting); a broken stream is the client's INVALID_ARGUMENT.
pub(super) async fn next_message<T>(
    stream: &mut Streaming<T>,
    idle: std::time::Duration,
    knob: &str,
) -> Result<Option<T>, JobError> {
    match tokio::time::timeout(idle, stream.message()).await {
        Err(_) => Err(JobError::DeadlineExceeded(format!(
            "the stream sent nothing for {} s ({knob})",
            idle.as_secs()
        ))),
        Ok(Ok(m)) => Ok(m),
        Ok(Err(s)) if s.code() == tonic::Code::ResourceExhausted => {
            Err(JobError::ResourceExhausted(s.message().to_string()))
        }
        Ok(Err(s)) => Err(JobError::invalid(
            "stream",
            format!("reading the stream: {}", s.message()),
        )),
    }
}
