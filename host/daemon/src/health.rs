//! The gRPC health service (open to every client, as load balancers and Kubernetes probes
//! need): SERVING while some backend can run jobs and the data directory takes writes,
//! NOT_SERVING otherwise, re-checked every few seconds until the daemon stops.

use crate::service::State;
use offload_proto::v1::offload_server::OffloadServer;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService as Inner};
use tonic_health::ServingStatus;

pub type HealthService = HealthServer<Inner>;

const EVERY: Duration = Duration::from_secs(5);

/// Why the daemon cannot serve now, if it cannot. Blocking (it writes a file).
pub fn problem(st: &State) -> Option<String> {
    let lanes = st.scheduler.lanes();
    if !lanes
        .iter()
        .any(|l| matches!(l.backend.health(), offload_core::Health::Healthy))
    {
        return Some("no backend is healthy".into());
    }
    let probe = st.config.data_dir.join("bases").join(".health.tmp");
    if let Err(e) = std::fs::write(&probe, b"ok").and_then(|()| std::fs::remove_file(&probe)) {
        return Some(format!("the data directory takes no writes: {e}"));
    }
    None
}

async fn report(st: &Arc<State>, reporter: &HealthReporter, was: &mut Option<Option<String>>) {
    let s = st.clone();
    let now = tokio::task::spawn_blocking(move || problem(&s))
        .await
        .unwrap_or_else(|e| Some(format!("the health check panicked: {e}")));
    if was.as_ref() == Some(&now) {
        return;
    }
    let status = match &now {
        None => {
            tracing::info!("health: serving");
            ServingStatus::Serving
        }
        Some(why) => {
            tracing::warn!("health: not serving: {why}");
            ServingStatus::NotServing
        }
    };
    reporter.set_service_status("", status).await;
    reporter
        .set_service_status(
            <OffloadServer<crate::service::Service> as tonic::server::NamedService>::NAME,
            status,
        )
        .await;
    *was = Some(now);
}

/// The health service, its first answer already checked, and the task that keeps it true.
pub async fn start(st: Arc<State>, stop: CancellationToken) -> HealthService {
    let reporter = HealthReporter::new();
    let mut was = None;
    report(&st, &reporter, &mut was).await;
    let service = HealthServer::new(Inner::from_health_reporter(reporter.clone()));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(EVERY) => report(&st, &reporter, &mut was).await,
            }
        }
    });
    service
}
