//! The gRPC service. Handlers are thin: who calls, what memory the request holds, then the
//! operation's module (decoding, the job, the answer), with every error through one mapping
//! (`convert::status`). Decoding and encoding of large payloads run on rayon, never on tokio's
//! threads.

mod bases;
mod decode;
mod info;
mod msm;
mod ntt;
mod verify;

pub use bases::MAX_LABEL_BYTES;

use crate::auth::{Auth, Tenant};
use crate::bases::BaseStore;
use crate::budget::{Budget, Charge};
use crate::config::Config;
use crate::convert::status;
use crate::metrics::Metrics;
use crate::net::Peer;
use crate::scheduler::{Report, Scheduler};
use crate::shm::ShmDir;
use offload_core::JobError;
use offload_proto::v1 as pb;
use offload_proto::v1::offload_server::Offload;
use std::future::Future;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};
use verify::VerifyStream;

pub struct State {
    pub config: Config,
    pub scheduler: Arc<Scheduler>,
    pub store: Arc<BaseStore>,
    pub metrics: Arc<Metrics>,
    /// Backends configured but not registered, with the reason (GetInfo lists them).
    pub absent: Vec<(String, String)>,
    /// The shared-memory directory, when enabled and opened.
    pub shm: Option<Arc<ShmDir>>,
    /// Memory in flight, all requests together.
    pub budget: Arc<Budget>,
    /// Uploads in progress.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Resumable uploads, sending or parked.
    pub resumable: Arc<crate::resume::Resumable>,
    /// The tenants, and who each call comes from.
    pub auth: Arc<Auth>,
}

/// Who a call comes from: its tenant, and the connection it arrived on.
#[derive(Clone)]
pub struct Caller {
    pub tenant: Tenant,
    pub peer: Option<Peer>,
    /// When the client stops waiting (its `grpc-timeout`): jobs still queued or running then
    /// are stopped and answered DEADLINE_EXCEEDED.
    pub deadline: Option<std::time::Instant>,
}

impl Caller {
    /// An empty charge against the daemon's memory budget and the tenant's quota.
    fn charge(&self, st: &State) -> Charge {
        st.budget.charge_with(self.tenant.quota.budget.as_ref())
    }
}

#[derive(Clone)]
pub struct Service {
    st: Arc<State>,
}

impl Service {
    pub fn new(st: Arc<State>) -> Self {
        Self { st }
    }
}

/// Run `f` on rayon's pool and await it from async code.
pub async fn on_rayon<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| JobError::Internal("a decoding task panicked".into()))
}

/// The report of an empty batch, answered at once: no backend ran it.
fn nothing_ran() -> pb::JobReport {
    pb::JobReport::default()
}

fn report(r: &Report) -> pb::JobReport {
    pb::JobReport {
        backend: r.backend.clone(),
        queue_ms: r.queued.as_secs_f64() * 1e3,
        run_ms: r.ran.as_secs_f64() * 1e3,
        fallback: r.fallback,
    }
}

impl Service {
    /// Who `req` comes from, or UNAUTHENTICATED.
    fn caller<T>(&self, req: &Request<T>) -> Result<Caller, Status> {
        let peer = req.extensions().get::<Peer>().cloned();
        let tenant = self.st.auth.identify(req.metadata(), peer.as_ref())?;
        let arrived = req.extensions().get::<crate::deadline::Arrived>().copied();
        let deadline = crate::deadline::from_metadata(req.metadata(), arrived);
        Ok(Caller {
            tenant,
            peer,
            deadline,
        })
    }

    /// A unary call that runs a job: its bytes counted, a job slot of the tenant's taken and
    /// the request's memory charged while `run` works on it.
    async fn unary<Req: prost::Message, Resp, F>(
        &self,
        rpc: &'static str,
        req: Request<Req>,
        run: impl FnOnce(Arc<State>, Caller, Charge, Req) -> F,
    ) -> Result<Response<Resp>, Status>
    where
        F: Future<Output = Result<Resp, JobError>>,
    {
        let caller = self.caller(&req)?;
        let req = req.into_inner();
        let len = req.encoded_len();
        self.st.metrics.rpc_bytes(rpc, len);
        let st = self.st.clone();
        let r = async {
            let _job = caller.tenant.begin_job()?;
            let mut charge = caller.charge(&st);
            charge.add("the request", len)?;
            run(st, caller, charge, req).await
        }
        .await;
        self.checked(rpc, r)
    }

    fn checked<T>(&self, rpc: &str, r: Result<T, JobError>) -> Result<Response<T>, Status> {
        match r {
            Ok(v) => Ok(Response::new(v)),
            Err(e) => {
                if matches!(
                    e,
                    JobError::InvalidArgument { .. } | JobError::ResourceExhausted(_)
                ) {
                    self.st.metrics.rpc_rejected(rpc);
                }
                tracing::debug!(rpc, error = %e, "request refused");
                Err(status(e))
            }
        }
    }
}

#[tonic::async_trait]
impl Offload for Service {
    async fn get_info(
        &self,
        req: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::GetInfoResponse>, Status> {
        let caller = self.caller(&req)?;
        Ok(Response::new(info::info(&self.st, &caller)))
    }

    async fn upload_bases(
        &self,
        req: Request<Streaming<pb::UploadBasesRequest>>,
    ) -> Result<Response<pb::BaseSetInfo>, Status> {
        let tenant = self.caller(&req)?.tenant;
        let r = bases::upload(self.st.clone(), tenant, req.into_inner()).await;
        self.checked("UploadBases", r)
    }

    async fn upload_progress(
        &self,
        req: Request<pb::UploadProgressRequest>,
    ) -> Result<Response<pb::UploadProgressResponse>, Status> {
        let tenant = self.caller(&req)?.tenant;
        let r = (self.st.resumable)
            .progress(&tenant.name, &req.into_inner().upload_id)
            .map(|(received, count, active)| pb::UploadProgressResponse {
                received,
                count,
                active,
            });
        self.checked("UploadProgress", r)
    }

    async fn list_bases(
        &self,
        req: Request<pb::ListBasesRequest>,
    ) -> Result<Response<pb::ListBasesResponse>, Status> {
        let tenant = self.caller(&req)?.tenant;
        Ok(Response::new(bases::list(
            &self.st,
            &tenant.name,
            req.into_inner(),
        )))
    }

    async fn delete_bases(
        &self,
        req: Request<pb::DeleteBasesRequest>,
    ) -> Result<Response<pb::DeleteBasesResponse>, Status> {
        let tenant = self.caller(&req)?.tenant;
        let handle = req.into_inner().handle;
        let store = self.st.store.clone();
        let r = on_rayon(move || store.delete(&tenant.name, &handle))
            .await
            .and_then(|r| r)
            .map(|deleted| pb::DeleteBasesResponse { deleted });
        self.checked("DeleteBases", r)
    }

    async fn msm(&self, req: Request<pb::MsmRequest>) -> Result<Response<pb::MsmResponse>, Status> {
        self.unary("Msm", req, msm::msm).await
    }

    async fn msm_stream(
        &self,
        req: Request<Streaming<pb::MsmStreamRequest>>,
    ) -> Result<Response<pb::MsmResponse>, Status> {
        let caller = self.caller(&req)?;
        let r = msm::msm_stream(self.st.clone(), caller, req.into_inner()).await;
        self.checked("MsmStream", r)
    }

    async fn ntt(&self, req: Request<pb::NttRequest>) -> Result<Response<pb::NttResponse>, Status> {
        self.unary("Ntt", req, ntt::ntt).await
    }

    async fn verify(
        &self,
        req: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        self.unary("Verify", req, verify::verify).await
    }

    type VerifyStreamStream = VerifyStream;

    async fn verify_stream(
        &self,
        req: Request<Streaming<pb::VerifyRequest>>,
    ) -> Result<Response<VerifyStream>, Status> {
        let caller = self.caller(&req)?;
        Ok(Response::new(Box::pin(verify::verify_stream_task(
            self.st.clone(),
            caller,
            req.into_inner(),
        ))))
    }
}
