//! Listening: who is on the other end of a connection, how many connections there may be, and
//! closing them all when a drain runs past its deadline.
//!
//! tonic's own accept loop retries a failed `accept` at once, so a daemon out of file
//! descriptors spins at full CPU while new clients hang. Here a failed accept waits before the
//! next try, and no connection is accepted while `max_connections` are open: the kernel's
//! backlog holds the rest. One source (an IP address, a uid) may hold at most
//! `max_connections_per_source` of them, so a single client cannot take every slot.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::transport::server::Connected;

/// The client of a call, as the connection tells it (request extensions carry it).
#[derive(Clone, Debug)]
pub struct Peer {
    pub transport: Transport,
    /// The connection's calls in progress, for its idle limit.
    pub activity: Arc<Activity>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp {
        remote: Option<std::net::SocketAddr>,
        /// Over TLS; with the names of the client's certificate if it sent one (verified
        /// against the configured client CA).
        tls: bool,
        client_names: Vec<String>,
    },
    /// A Unix-socket client and its credentials (SO_PEERCRED).
    Unix { uid: Option<u32>, gid: Option<u32> },
}

/// Calls open on one connection, and since when it has had none.
#[derive(Debug)]
pub struct Activity {
    open: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        })
    }

    /// A call begins; it ends when the guard is dropped (its answer sent or abandoned).
    pub fn begin(self: &Arc<Self>) -> CallGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        CallGuard(self.clone())
    }

    /// When the connection has been idle since, if it is.
    fn idle_since(&self) -> Option<Instant> {
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        (self.open.load(Ordering::Acquire) == 0).then_some(since)
    }
}

pub struct CallGuard(Arc<Activity>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    }
}

impl Peer {
    /// The Unix credentials of a Unix-socket client; None over TCP.
    pub fn unix_ids(&self) -> Option<(u32, u32)> {
        match self.transport {
            Transport::Unix {
                uid: Some(u),
                gid: Some(g),
            } => Some((u, g)),
            _ => None,
        }
    }
}

/// A connection that counts against the daemon's limit while it is open, is closed once it
/// has had no call for the idle limit, and fails every read and write once `kill` fires.
pub struct Conn<IO> {
    io: IO,
    peer: Peer,
    _slot: OwnedSemaphorePermit,
    _source: SourceSlot,
    kill: Pin<Box<WaitForCancellationFutureOwned>>,
    idle: Duration,
    check: Pin<Box<tokio::time::Sleep>>,
}

impl<IO> Conn<IO> {
    fn killed(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.kill.as_mut().poll(cx).is_ready() {
            return Some(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed: the daemon's drain deadline passed",
            ));
        }
        // HTTP/2 pings keep bytes flowing on an idle connection, so idleness is judged by
        // calls, checked when the timer fires (and re-armed for the earliest it could end).
        while self.check.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match self.peer.activity.idle_since() {
                Some(since) if now.duration_since(since) >= self.idle => {
                    return Some(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "closed: no call on this connection within the idle limit",
                    ));
                }
                Some(since) => self.check.as_mut().reset((since + self.idle).into()),
                None => self.check.as_mut().reset((now + self.idle).into()),
            }
        }
        None
    }
}

use std::future::Future;

impl<IO: AsyncRead + Unpin> AsyncRead for Conn<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Conn<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl<IO> Connected for Conn<IO> {
    type ConnectInfo = Peer;
    fn connect_info(&self) -> Peer {
        self.peer.clone()
    }
}

/// Who a connection counts against for `max_connections_per_source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    Ip(std::net::IpAddr),
    Uid(u32),
    Unknown,
}

impl Source {
    fn of(t: &Transport) -> Self {
        match t {
            Transport::Tcp {
                remote: Some(a), ..
            } => Source::Ip(a.ip()),
            Transport::Unix { uid: Some(u), .. } => Source::Uid(*u),
            _ => Source::Unknown,
        }
    }
}

/// Connections open per source.
type Sources = Arc<Mutex<HashMap<Source, usize>>>;

/// A connection counted against its source until dropped.
pub struct SourceSlot {
    sources: Sources,
    source: Source,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut m = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.source);
            }
        }
    }
}

/// What every listener of one daemon shares.
#[derive(Clone)]
pub struct Gate {
    slots: Arc<Semaphore>,
    sources: Sources,
    per_source: usize,
    kill: CancellationToken,
    idle: Duration,
    /// When the last warning about a failed accept was logged (one a second at most).
    warned: Arc<Mutex<Option<Instant>>>,
}

impl Gate {
    pub fn new(
        max_connections: usize,
        per_source: usize,
        idle: Duration,
        kill: CancellationToken,
    ) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_connections)),
            sources: Arc::default(),
            per_source: per_source.max(1),
            kill,
            idle,
            warned: Arc::default(),
        }
    }

    /// Count a new connection against its source, or None when the source holds its limit.
    fn admit(&self, t: &Transport) -> Option<SourceSlot> {
        let source = Source::of(t);
        let mut m = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(source).or_insert(0);
        if *n >= self.per_source {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            sources: self.sources.clone(),
            source,
        })
    }

    /// Log `what` unless something was logged this past second: under a flood it repeats
    /// many times a second.
    fn warn(&self, what: std::fmt::Arguments<'_>) {
        let mut w = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(1)) {
            tracing::warn!("{what}");
            *w = Some(Instant::now());
        }
    }

    /// Connections open now.
    pub fn open(&self, max: usize) -> usize {
        max.saturating_sub(self.slots.available_permits())
    }
}

/// One `accept` in progress: the connection and who is on its other end.
pub type Accepting<'a, IO> = Pin<Box<dyn Future<Output = io::Result<(IO, Transport)>> + Send + 'a>>;

/// Errors of `accept` that concern one would-be connection, not the listener: try again at once.
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// A listener's accepted connections, for `serve_with_incoming_shutdown`. It never yields an
/// error (tonic would retry at once): out of descriptors or memory, it waits and tries again.
pub fn incoming<L, IO, F>(
    listener: L,
    gate: Gate,
    accept: F,
) -> impl futures::Stream<Item = Result<Conn<IO>, io::Error>>
where
    F: for<'a> Fn(&'a L) -> Accepting<'a, IO>,
{
    futures::stream::unfold(
        (listener, gate, accept),
        |(listener, gate, accept)| async move {
            loop {
                let slot = gate.slots.clone().acquire_owned().await.ok()?;
                match accept(&listener).await {
                    Ok((io, transport)) => {
                        let Some(source) = gate.admit(&transport) else {
                            // Closed at once (dropped): the client sees a reset.
                            gate.warn(format_args!(
                                "a connection from {:?} closed: it has max_connections_per_source \
                                 ({}) open",
                                Source::of(&transport),
                                gate.per_source
                            ));
                            continue;
                        };
                        let conn = Conn {
                            io,
                            peer: Peer {
                                transport,
                                activity: Activity::new(),
                            },
                            _slot: slot,
                            _source: source,
                            kill: Box::pin(gate.kill.clone().cancelled_owned()),
                            idle: gate.idle,
                            check: Box::pin(tokio::time::sleep(gate.idle)),
                        };
                        return Some((Ok(conn), (listener, gate, accept)));
                    }
                    Err(e) if per_connection(&e) => continue,
                    Err(e) => {
                        gate.warn(format_args!(
                            "accepting a connection: {e}; trying again in 100 ms"
                        ));
                        drop(slot);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        },
    )
}

/// Connections for axum's server (the metrics listener) under a gate of their own. A
/// connection lives at most the gate's idle limit: axum's calls are not tracked as gRPC's are.
pub struct Bounded<S> {
    conns: Pin<Box<S>>,
    addr: std::net::SocketAddr,
}

impl<S> Bounded<S> {
    pub fn new(conns: S, addr: std::net::SocketAddr) -> Self {
        Self {
            conns: Box::pin(conns),
            addr,
        }
    }
}

impl<S> axum::serve::Listener for Bounded<S>
where
    S: futures::Stream<Item = Result<Conn<tokio::net::TcpStream>, io::Error>> + Send + 'static,
{
    type Io = Conn<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        use futures::StreamExt;
        loop {
            match self.conns.next().await {
                Some(Ok(c)) => {
                    let remote = match c.peer.transport {
                        Transport::Tcp {
                            remote: Some(a), ..
                        } => a,
                        _ => self.addr,
                    };
                    return (c, remote);
                }
                Some(Err(_)) => continue,
                // `incoming` never ends while its listener lives.
                None => std::future::pending().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

/// A TLS handshake that has not finished in this time closes the connection.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// TCP connections with TLS: each handshake runs in a task of its own (a slow client must not
/// hold up the others) under a deadline, holding its connection slot meanwhile.
pub fn incoming_tls(
    listener: tokio::net::TcpListener,
    gate: Gate,
    tls: Arc<crate::tls::Tls>,
) -> impl futures::Stream<
    Item = Result<Conn<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>, io::Error>,
> {
    use futures::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let plain = incoming(listener, gate, accept_tcp);
        futures::pin_mut!(plain);
        loop {
            let conn = tokio::select! {
                _ = tx.closed() => return,
                c = plain.next() => match c {
                    Some(Ok(c)) => c,
                    _ => return,
                },
            };
            let (tx, acceptor) = (tx.clone(), tls.acceptor());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE, conn.handshake(acceptor)).await {
                    Ok(Ok(c)) => {
                        let _ = tx.send(Ok(c)).await;
                    }
                    Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

impl Conn<tokio::net::TcpStream> {
    async fn handshake(
        self,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> io::Result<Conn<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>> {
        let Conn {
            io,
            mut peer,
            _slot,
            _source,
            kill,
            idle,
            check,
        } = self;
        let io = acceptor.accept(io).await?;
        let names = io
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| crate::tls::cert_names(c))
            .unwrap_or_default();
        if let Transport::Tcp {
            tls, client_names, ..
        } = &mut peer.transport
        {
            *tls = true;
            *client_names = names;
        }
        Ok(Conn {
            io,
            peer,
            _slot,
            _source,
            kill,
            idle,
            check,
        })
    }
}

pub fn accept_tcp(l: &tokio::net::TcpListener) -> Accepting<'_, tokio::net::TcpStream> {
    Box::pin(async move {
        let (s, remote) = l.accept().await?;
        let _ = s.set_nodelay(true);
        Ok((
            s,
            Transport::Tcp {
                remote: Some(remote),
                tls: false,
                client_names: Vec::new(),
            },
        ))
    })
}

/// Unix-socket connections, their header blocks rewritten so that standard gRPC clients'
/// socket-path `:authority` is taken (see `authority`).
pub fn accept_unix(
    l: &tokio::net::UnixListener,
) -> Accepting<'_, crate::authority::Rewritten<tokio::net::UnixStream>> {
    Box::pin(async move {
        let (s, _) = l.accept().await?;
        let cred = s.peer_cred().ok();
        let peer = Transport::Unix {
            uid: cred.as_ref().map(|c| c.uid()),
            gid: cred.as_ref().map(|c| c.gid()),
        };
        Ok((crate::authority::Rewritten::new(s), peer))
    })
}

/// Raise the soft limit on open files to the hard limit (many clients, each a descriptor),
/// and return the soft limit now in force (None: unlimited).
pub fn raise_nofile_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    // None is unlimited.
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, lim) {
            tracing::warn!("raising the open-file limit: {e}");
        }
    }
    getrlimit(Resource::Nofile).current
}
