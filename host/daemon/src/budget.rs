//! Memory in flight, daemon-wide: bytes of requests being received, decoded payloads, answers
//! being built. Every holder takes its bytes before it allocates them and gives them back
//! when it is dropped; a request that would pass the budget is refused with RESOURCE_EXHAUSTED
//! at once (waiting could deadlock: each of many half-received requests holding part of it).
//!
//! The request-body guard below also reads each gRPC message's declared length from its
//! five-byte prefix, so a message over the limit is refused as RESOURCE_EXHAUSTED before any
//! of it is buffered, and the bytes of a message still arriving count against the budget.

use bytes::{Buf, Bytes};
use http_body::{Body, Frame};
use offload_core::JobError;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;

#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
    /// Whose budget and which setting, for the refusal's text.
    name: String,
}

impl Budget {
    /// The daemon-wide budget.
    pub fn new(limit: usize) -> Arc<Self> {
        Self::named(limit, "the daemon's budget (max_inflight_bytes)".into())
    }

    /// A budget named in refusals as `name`, e.g. a tenant's quota.
    pub fn named(limit: usize, name: String) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: AtomicUsize::new(0),
            name,
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|&t| t <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// An empty charge, to grow as a request's data arrives.
    pub fn charge(self: &Arc<Self>) -> Charge {
        Charge {
            budget: self.clone(),
            tenant: None,
            held: 0,
        }
    }

    /// An empty charge against this budget and a tenant's own.
    pub fn charge_with(self: &Arc<Self>, tenant: Option<&Arc<Budget>>) -> Charge {
        Charge {
            budget: self.clone(),
            tenant: tenant.cloned(),
            held: 0,
        }
    }

    /// A charge of `n` bytes, or RESOURCE_EXHAUSTED saying what was asked for.
    pub fn take_for(self: &Arc<Self>, what: &str, n: usize) -> Result<Charge, JobError> {
        let mut c = self.charge();
        c.add(what, n)?;
        Ok(c)
    }

    fn exhausted(&self, what: &str, n: usize) -> JobError {
        JobError::ResourceExhausted(format!(
            "memory in flight: {what} needs {n} bytes and {} of {} has {} left; try again later",
            self.name,
            self.limit,
            self.limit.saturating_sub(self.used())
        ))
    }
}

/// Bytes held against the budget (and a tenant's, if any) until dropped.
pub struct Charge {
    budget: Arc<Budget>,
    tenant: Option<Arc<Budget>>,
    held: usize,
}

impl Charge {
    pub fn add(&mut self, what: &str, n: usize) -> Result<(), JobError> {
        if let Some(t) = &self.tenant {
            if !t.take(n) {
                return Err(t.exhausted(what, n));
            }
        }
        if !self.budget.take(n) {
            if let Some(t) = &self.tenant {
                t.give(n);
            }
            return Err(self.budget.exhausted(what, n));
        }
        self.held += n;
        Ok(())
    }

    pub fn release(&mut self) {
        let n = std::mem::take(&mut self.held);
        self.budget.give(n);
        if let Some(t) = &self.tenant {
            t.give(n);
        }
    }

    pub fn held(&self) -> usize {
        self.held
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.release();
    }
}

/// Where a request body is within its gRPC messages.
struct Framing {
    /// Bytes of the five-byte prefix seen so far.
    prefix: [u8; 5],
    have: usize,
    /// Bytes of the current message still to come.
    left: usize,
}

/// A request body whose messages are held to `max_message` bytes and whose bytes in transit
/// count against the budget.
pub struct Guarded<B> {
    inner: B,
    max_message: usize,
    framing: Framing,
    charge: Charge,
    failed: bool,
}

impl<B> Guarded<B> {
    pub fn new(inner: B, budget: &Arc<Budget>, max_message: usize) -> Self {
        Self {
            inner,
            max_message,
            framing: Framing {
                prefix: [0; 5],
                have: 0,
                left: 0,
            },
            charge: budget.charge(),
            failed: false,
        }
    }

    /// Follow the message boundaries through one data frame.
    fn track(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            let f = &mut self.framing;
            if f.left == 0 && f.have < 5 {
                let n = (5 - f.have).min(data.len());
                f.prefix[f.have..f.have + n].copy_from_slice(&data[..n]);
                f.have += n;
                data = &data[n..];
                if f.have == 5 {
                    let len =
                        u32::from_be_bytes([f.prefix[1], f.prefix[2], f.prefix[3], f.prefix[4]])
                            as usize;
                    if len > self.max_message {
                        return Err(Status::resource_exhausted(format!(
                            "a message of {len} bytes is over this daemon's limit of {} \
                             (max_message_bytes)",
                            self.max_message
                        )));
                    }
                    // The message's bytes are buffered until it is whole: take them now.
                    self.charge.release();
                    self.charge
                        .add("a message being received", len)
                        .map_err(crate::convert::status)?;
                    f.left = len;
                    f.have = if len == 0 { 0 } else { 5 };
                }
                continue;
            }
            let n = f.left.min(data.len());
            f.left -= n;
            data = &data[n..];
            if f.left == 0 {
                f.have = 0;
                // Whole: the handler takes the decoded message's bytes from here on.
                self.charge.release();
            }
        }
        Ok(())
    }
}

impl<B> Body for Guarded<B>
where
    B: Body<Data = Bytes, Error = Status> + Unpin,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(f))) => f,
            other => return other,
        };
        if let Some(data) = frame.data_ref().cloned() {
            if let Err(s) = self.track(data.chunk()) {
                self.failed = true;
                self.charge.release();
                return Poll::Ready(Some(Err(s)));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The tower layer that puts [`Guarded`] around every request body.
#[derive(Clone)]
pub struct GuardLayer {
    pub budget: Arc<Budget>,
    pub max_message: usize,
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = GuardService<S>;
    fn layer(&self, inner: S) -> GuardService<S> {
        GuardService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for GuardService<S>
where
    S: tower::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
    >,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<tonic::body::Body>) -> Self::Future {
        req.extensions_mut()
            .insert(crate::deadline::Arrived(std::time::Instant::now()));
        let (budget, max) = (self.layer.budget.clone(), self.layer.max_message);
        // The call is open on its connection until its answer has been sent or dropped.
        let call = req
            .extensions()
            .get::<crate::net::Peer>()
            .map(|p| p.activity.begin());
        let fut = self
            .inner
            .call(req.map(|b| tonic::body::Body::new(Guarded::new(b, &budget, max))));
        Box::pin(async move {
            let resp = fut.await?;
            Ok(match call {
                Some(call) => resp.map(|b| {
                    tonic::body::Body::new(Tracked {
                        inner: b,
                        _call: call,
                    })
                }),
                None => resp,
            })
        })
    }
}

/// An answer's body, holding its call open on the connection until it is dropped.
struct Tracked<B> {
    inner: B,
    _call: crate::net::CallGuard,
}

impl<B: Body<Data = Bytes, Error = Status> + Unpin> Body for Tracked<B> {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: u32) -> Vec<u8> {
        let mut f = vec![0u8];
        f.extend(len.to_be_bytes());
        f.extend(vec![7u8; len as usize]);
        f
    }

    #[test]
    fn bytes_in_transit_are_charged_and_released() {
        let budget = Budget::new(100);
        let mut g = Guarded::new((), &budget, 80);
        let f = frame(60);
        g.track(&f[..3]).unwrap();
        assert_eq!(budget.used(), 0, "the prefix is not whole yet");
        g.track(&f[3..30]).unwrap();
        assert_eq!(budget.used(), 60, "the declared length is taken at once");
        g.track(&f[30..]).unwrap();
        assert_eq!(budget.used(), 0, "released once whole");
        // Two messages in one frame, then one over the limit.
        let mut two = frame(10);
        two.extend(frame(0));
        g.track(&two).unwrap();
        let e = g.track(&frame(81)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        assert!(e.message().contains("81 bytes"), "{e}");
    }

    #[test]
    fn the_budget_refuses_past_its_limit() {
        let budget = Budget::new(100);
        let a = budget.take_for("a", 70).unwrap();
        let e = budget.take_for("b", 40).map(|_| ()).unwrap_err();
        assert!(matches!(e, JobError::ResourceExhausted(_)), "{e}");
        let mut g = Guarded::new((), &budget, 1000);
        let e = g.track(&frame(40)[..5]).unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        drop(a);
        assert_eq!(budget.used(), 0);
        assert!(budget.take_for("b", 100).is_ok());
    }
}
