//! Standard gRPC clients on the Unix socket: gRPC's C core (grpcio and every language built on
//! it) and grpc-java send the socket's path, percent-encoded or not, as `:authority`. That is not
//! an HTTP authority, and the HTTP/2 stack beneath tonic (h2) resets every such stream with
//! PROTOCOL_ERROR before the service sees it (hyperium/h2#487, open upstream). So that clients
//! work with their defaults, the bytes a Unix-socket client sends pass through `Rewriter` first:
//! it follows the HTTP/2 frames, decodes each header block with the client's HPACK state, and
//! hands h2 the same headers re-encoded as literals, with an `:authority` that h2 would refuse
//! replaced by `localhost`. Nothing else changes: other frames pass untouched (DATA is read
//! straight into h2's buffer), and the daemon never routes or authorizes by `:authority`.
//!
//! A block is bounded (`MAX_BLOCK` encoded, the same decoded) before it is decoded, so a client
//! cannot make the rewriter hold more than that per connection; a malformed frame or block
//! closes the connection, as h2 would have with a connection error.

use std::borrow::Cow;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the client sends first on an HTTP/2 connection with prior knowledge.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// Every HTTP/2 peer accepts frames this large (SETTINGS_MAX_FRAME_SIZE's minimum).
const OUT_FRAME: usize = 16_384;
/// The largest header block taken, encoded or decoded (HPACK's size: name + value + 32 per
/// field). h2 answers anything over its own 16 KiB list limit, so no request it would take is
/// refused here.
pub const MAX_BLOCK: usize = 64 * 1024;
/// HPACK's default dynamic table size, which h2 advertises and so the client's encoder uses.
const TABLE_SIZE: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RewriteError {
    #[error("a header block over {MAX_BLOCK} bytes")]
    TooLarge,
    #[error("a HEADERS frame shorter than its padding and priority fields")]
    Padding,
    #[error("a frame other than CONTINUATION inside a header block")]
    Interleaved,
    #[error("a CONTINUATION frame outside a header block")]
    StrayContinuation,
    #[error("an undecodable header block: {0}")]
    Hpack(String),
}

enum State {
    /// This many bytes go through unchanged (the preface, or a frame's payload).
    Pass(usize),
    /// Gathering a frame header.
    Header,
    /// Gathering a HEADERS or CONTINUATION frame's payload of this length.
    Payload(usize),
}

/// The client-to-server byte stream of one HTTP/2 connection, rewritten as the module says.
/// Sans I/O: `feed` takes bytes in any chunking and appends what h2 should read.
pub struct Rewriter {
    state: State,
    /// The frame header or payload being gathered.
    pending: Vec<u8>,
    /// The header block being gathered across HEADERS and CONTINUATION frames.
    block: Vec<u8>,
    /// The HEADERS frame that opened `block`: stream, flags kept, priority fields.
    opened: Option<Opened>,
    decoder: loona_hpack::Decoder<'static>,
}

struct Opened {
    stream: [u8; 4],
    end_stream: bool,
    priority: Option<[u8; 5]>,
}

impl Default for Rewriter {
    fn default() -> Self {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(TABLE_SIZE);
        Rewriter {
            state: State::Pass(PREFACE_LEN),
            pending: Vec::new(),
            block: Vec::new(),
            opened: None,
            decoder,
        }
    }
}

impl Rewriter {
    /// Bytes that may go to h2 unchanged before anything else must be looked at (0 when the
    /// rewriter is gathering).
    pub fn passing(&self) -> usize {
        match self.state {
            State::Pass(n) => n,
            _ => 0,
        }
    }

    /// Count `n` (≤ `passing()`) bytes as passed straight through by the caller.
    pub fn passed(&mut self, n: usize) {
        if let State::Pass(left) = &mut self.state {
            *left -= n.min(*left);
            if *left == 0 {
                self.state = State::Header;
            }
        }
    }

    /// Take the next bytes the client sent; append to `out` what h2 should read in their place.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), RewriteError> {
        while !data.is_empty() {
            match self.state {
                State::Pass(n) => {
                    let take = n.min(data.len());
                    out.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    self.passed(take);
                }
                State::Header => {
                    let take = (FRAME_HEADER - self.pending.len()).min(data.len());
                    self.pending.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.pending.len() == FRAME_HEADER {
                        self.frame_header(out)?;
                    }
                }
                State::Payload(len) => {
                    let have = self.pending.len() - FRAME_HEADER;
                    let take = (len - have).min(data.len());
                    self.pending.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.pending.len() - FRAME_HEADER == len {
                        self.header_payload(out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn frame_header(&mut self, out: &mut Vec<u8>) -> Result<(), RewriteError> {
        let h = &self.pending;
        let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
        let kind = h[3];
        match (kind, self.opened.is_some()) {
            (HEADERS, false) | (CONTINUATION, true) => {
                if self.block.len() + len > MAX_BLOCK + 256 {
                    return Err(RewriteError::TooLarge);
                }
                self.state = State::Payload(len);
                if len == 0 {
                    self.header_payload(out)?;
                }
            }
            (CONTINUATION, false) => return Err(RewriteError::StrayContinuation),
            (_, true) => return Err(RewriteError::Interleaved),
            (_, false) => {
                out.extend_from_slice(&self.pending);
                self.pending.clear();
                self.state = if len == 0 {
                    State::Header
                } else {
                    State::Pass(len)
                };
            }
        }
        Ok(())
    }

    fn header_payload(&mut self, out: &mut Vec<u8>) -> Result<(), RewriteError> {
        let frame = std::mem::take(&mut self.pending);
        let (head, mut payload) = frame.split_at(FRAME_HEADER);
        let flags = head[4];
        if head[3] == HEADERS {
            if flags & PADDED != 0 {
                let (&pad, rest) = payload.split_first().ok_or(RewriteError::Padding)?;
                let pad = usize::from(pad);
                if pad > rest.len() {
                    return Err(RewriteError::Padding);
                }
                payload = &rest[..rest.len() - pad];
            }
            let mut priority = None;
            if flags & PRIORITY != 0 {
                let p: [u8; 5] = payload
                    .get(..5)
                    .and_then(|p| p.try_into().ok())
                    .ok_or(RewriteError::Padding)?;
                priority = Some(p);
                payload = &payload[5..];
            }
            let mut stream = [0; 4];
            stream.copy_from_slice(&head[5..9]);
            self.opened = Some(Opened {
                stream,
                end_stream: flags & END_STREAM != 0,
                priority,
            });
        }
        if self.block.len() + payload.len() > MAX_BLOCK {
            return Err(RewriteError::TooLarge);
        }
        self.block.extend_from_slice(payload);
        self.state = State::Header;
        if flags & END_HEADERS != 0 {
            self.rewrite_block(out)?;
        }
        Ok(())
    }

    fn rewrite_block(&mut self, out: &mut Vec<u8>) -> Result<(), RewriteError> {
        let block = std::mem::take(&mut self.block);
        let Some(opened) = self.opened.take() else {
            return Err(RewriteError::StrayContinuation);
        };
        let mut encoded = Vec::with_capacity(block.len() + 64);
        let mut size = 0usize;
        let mut over = false;
        self.decoder
            .decode_with_cb(&block, |name: Cow<[u8]>, value: Cow<[u8]>| {
                size += name.len() + value.len() + 32;
                if size > MAX_BLOCK {
                    over = true;
                    return;
                }
                let value: &[u8] = if &*name == b":authority" && !valid_authority(&value) {
                    b"localhost"
                } else {
                    &value
                };
                literal(&name, value, &mut encoded);
            })
            .map_err(|e| RewriteError::Hpack(format!("{e:?}")))?;
        if over {
            return Err(RewriteError::TooLarge);
        }
        // Room for the priority fields in the first frame.
        let mut chunks = encoded.chunks(OUT_FRAME - 5).peekable();
        let mut first = true;
        // An empty block still takes one HEADERS frame.
        let empty: &[u8] = &[];
        let mut next = chunks.next().or(Some(empty));
        while let Some(chunk) = next {
            next = chunks.next();
            let last = next.is_none();
            let mut flags = if last { END_HEADERS } else { 0 };
            let (kind, extra) = if first {
                if opened.end_stream {
                    flags |= END_STREAM;
                }
                if opened.priority.is_some() {
                    flags |= PRIORITY;
                }
                (HEADERS, opened.priority.map_or(0, |_| 5))
            } else {
                (CONTINUATION, 0)
            };
            let len = chunk.len() + extra;
            out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
            out.extend_from_slice(&opened.stream);
            if first {
                if let Some(p) = opened.priority {
                    out.extend_from_slice(&p);
                }
            }
            out.extend_from_slice(chunk);
            first = false;
        }
        Ok(())
    }
}

/// One HTTP/2 frame, as a client writes it (the tests' and the fuzz corpus's inputs).
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn valid_authority(v: &[u8]) -> bool {
    http::uri::Authority::try_from(v).is_ok()
}

/// HPACK "literal header field never indexed, new name" with raw strings: h2's table stays
/// empty, so its state never depends on the client's.
fn literal(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.push(0x10);
    for s in [name, value] {
        integer(s.len(), 7, out);
        out.extend_from_slice(s);
    }
}

fn integer(mut v: usize, prefix: u32, out: &mut Vec<u8>) {
    let max = (1usize << prefix) - 1;
    if v < max {
        out.push(v as u8);
        return;
    }
    out.push(max as u8);
    v -= max;
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A connection's byte stream with its reads rewritten (writes pass untouched).
pub struct Rewritten<IO> {
    io: IO,
    rewriter: Rewriter,
    out: Vec<u8>,
    at: usize,
    failed: bool,
}

impl<IO> Rewritten<IO> {
    pub fn new(io: IO) -> Self {
        Rewritten {
            io,
            rewriter: Rewriter::default(),
            out: Vec::new(),
            at: 0,
            failed: false,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Rewritten<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.at < this.out.len() {
                let n = (this.out.len() - this.at).min(buf.remaining());
                buf.put_slice(&this.out[this.at..this.at + n]);
                this.at += n;
                if this.at == this.out.len() {
                    this.out.clear();
                    this.at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.failed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "closed: a malformed HTTP/2 header block",
                )));
            }
            let passing = this.rewriter.passing();
            if passing > 0 {
                // Payloads go straight into the caller's buffer.
                let limit = passing.min(buf.remaining());
                let mut direct = ReadBuf::new(buf.initialize_unfilled_to(limit));
                std::task::ready!(Pin::new(&mut this.io).poll_read(cx, &mut direct))?;
                let n = direct.filled().len();
                buf.advance(n);
                this.rewriter.passed(n);
                return Poll::Ready(Ok(()));
            }
            let mut scratch = [0u8; 4096];
            let mut rb = ReadBuf::new(&mut scratch);
            std::task::ready!(Pin::new(&mut this.io).poll_read(cx, &mut rb))?;
            if rb.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            if let Err(e) = this.rewriter.feed(rb.filled(), &mut this.out) {
                tracing::debug!(error = %e, "closing a Unix-socket connection");
                // What was rewritten before the fault still goes out, then the error.
                this.failed = true;
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Rewritten<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
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
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// What h2 would see: every frame, header blocks decoded (HEADERS flags, priority, headers).
    #[derive(Debug, PartialEq)]
    enum Seen {
        Headers(u32, u8, Option<Vec<u8>>, Vec<(String, String)>),
        Other(u8, u8, u32, Vec<u8>),
    }

    fn read_back(bytes: &[u8]) -> Vec<Seen> {
        assert_eq!(&bytes[..24], PREFACE);
        let mut d = loona_hpack::Decoder::new();
        let (mut at, mut seen, mut open) = (24, Vec::new(), None::<(u32, u8, Option<Vec<u8>>)>);
        let mut block = Vec::new();
        while at < bytes.len() {
            let h = &bytes[at..at + 9];
            let len = (h[0] as usize) << 16 | (h[1] as usize) << 8 | h[2] as usize;
            assert!(len <= OUT_FRAME || (h[3] != HEADERS && h[3] != CONTINUATION));
            let stream = u32::from_be_bytes(h[5..9].try_into().unwrap());
            let mut p = &bytes[at + 9..at + 9 + len];
            let (kind, flags) = (h[3], h[4]);
            at += 9 + len;
            match kind {
                HEADERS => {
                    assert_eq!(flags & PADDED, 0, "padding is dropped");
                    let prio = (flags & PRIORITY != 0).then(|| {
                        let v = p[..5].to_vec();
                        p = &p[5..];
                        v
                    });
                    open = Some((stream, flags, prio));
                    block.extend_from_slice(p);
                }
                CONTINUATION => block.extend_from_slice(p),
                _ => {
                    assert!(open.is_none());
                    seen.push(Seen::Other(kind, flags, stream, p.to_vec()));
                    continue;
                }
            }
            if flags & END_HEADERS != 0 {
                let (s, f, prio) = open.take().unwrap();
                let headers = d
                    .decode(&block)
                    .unwrap()
                    .into_iter()
                    .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
                    .collect();
                block.clear();
                seen.push(Seen::Headers(s, f & (END_STREAM | PRIORITY), prio, headers));
            }
        }
        seen
    }

    fn rewrite(input: &[u8], chunk: usize) -> Result<Vec<u8>, RewriteError> {
        let mut r = Rewriter::default();
        let mut out = Vec::new();
        for c in input.chunks(chunk) {
            r.feed(c, &mut out)?;
        }
        Ok(out)
    }

    fn request(path: &str, authority: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
    }

    fn strings(h: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, String)> {
        h.iter()
            .map(|(n, v)| {
                (
                    String::from_utf8(n.clone()).unwrap(),
                    String::from_utf8(v.clone()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn a_socket_path_authority_becomes_localhost_across_indexed_requests() {
        // As gRPC's C core sends it: literals with new names, incrementally indexed; then the
        // second call by table reference (its new :path inserted first, shifting the rest).
        let first = request("/offload.v1.Offload/GetInfo", "tmp%2Fuds%2Fo.sock");
        let second = request("/offload.v1.Offload/Msm", "tmp%2Fuds%2Fo.sock");
        let indexed = |(n, v): &(Vec<u8>, Vec<u8>), out: &mut Vec<u8>| {
            out.push(0x40);
            for s in [n, v] {
                integer(s.len(), 7, out);
                out.extend_from_slice(s);
            }
        };
        let mut b1 = Vec::new();
        first.iter().for_each(|h| indexed(h, &mut b1));
        // Table after b1, newest first: te 62, content-type 63, :authority 64, :path 65,
        // :scheme 66, :method 67.
        let mut b2 = vec![0x80 | 67, 0x80 | 66];
        indexed(&second[2], &mut b2);
        b2.extend([0x80 | 65, 0x80 | 64, 0x80 | 63]);
        let mut input = PREFACE.to_vec();
        input.extend(frame(0x4, 0, 0, &[0, 4, 0, 0, 0x10, 0])); // SETTINGS
        input.extend(frame(HEADERS, END_HEADERS, 1, &b1));
        input.extend(frame(0x0, END_STREAM, 1, &[0, 0, 0, 0, 3, 1, 2, 3])); // DATA
        input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &b2));
        let whole = rewrite(&input, input.len()).unwrap();
        assert_eq!(
            whole,
            rewrite(&input, 1).unwrap(),
            "chunking changes nothing"
        );
        assert_eq!(whole, rewrite(&input, 7).unwrap());
        let mut want1 = strings(&first);
        want1[3].1 = "localhost".into();
        let mut want2 = strings(&second);
        want2[3].1 = "localhost".into();
        assert_eq!(
            read_back(&whole),
            vec![
                Seen::Other(0x4, 0, 0, vec![0, 4, 0, 0, 0x10, 0]),
                Seen::Headers(1, 0, None, want1),
                Seen::Other(0x0, END_STREAM, 1, vec![0, 0, 0, 0, 3, 1, 2, 3]),
                Seen::Headers(3, END_STREAM, None, want2),
            ]
        );
    }

    #[test]
    fn a_valid_authority_and_huffman_strings_are_kept() {
        // RFC 7541 C.4.1: ":authority: www.example.com", the value Huffman-coded.
        let block = [
            0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
            0x90, 0xf4, 0xff,
        ];
        let mut input = PREFACE.to_vec();
        input.extend(frame(HEADERS, END_HEADERS, 1, &block));
        let want = [
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec();
        assert_eq!(
            read_back(&rewrite(&input, 3).unwrap()),
            vec![Seen::Headers(1, 0, None, want)]
        );
    }

    #[test]
    fn padding_priority_and_continuations_are_followed() {
        let mut enc = loona_hpack::Encoder::new();
        let mut headers = request("/offload.v1.Offload/Verify", "/run/offload.sock");
        // Past one output frame, so the rewritten block needs CONTINUATION too.
        headers.push((b"x-big".to_vec(), vec![b'v'; 20_000]));
        let block = enc.encode(headers.iter().map(|(n, v)| (&n[..], &v[..])));
        let (a, rest) = block.split_at(10);
        let (b, c) = rest.split_at(9_000);
        let mut first = vec![3u8]; // pad length
        first.extend_from_slice(&[0x80, 0, 0, 1, 200]); // exclusive, depends on 1, weight
        first.extend_from_slice(a);
        first.extend_from_slice(&[0, 0, 0]);
        let mut input = PREFACE.to_vec();
        input.extend(frame(HEADERS, PADDED | PRIORITY | END_STREAM, 5, &first));
        input.extend(frame(CONTINUATION, 0, 5, b));
        input.extend(frame(CONTINUATION, END_HEADERS, 5, c));
        let out = rewrite(&input, 1000).unwrap();
        let mut want = strings(&headers);
        want[3].1 = "localhost".into();
        assert_eq!(
            read_back(&out),
            vec![Seen::Headers(
                5,
                END_STREAM | PRIORITY,
                Some(vec![0x80, 0, 0, 1, 200]),
                want
            )]
        );
    }

    #[test]
    fn malformed_or_oversized_blocks_are_refused() {
        let mut enc = loona_hpack::Encoder::new();
        let block = enc.encode([(&b":path"[..], &b"/"[..])]);
        let with = |frames: &[Vec<u8>]| {
            let mut v = PREFACE.to_vec();
            frames.iter().for_each(|f| v.extend_from_slice(f));
            rewrite(&v, 5)
        };
        assert_eq!(
            with(&[frame(CONTINUATION, END_HEADERS, 1, &block)]),
            Err(RewriteError::StrayContinuation)
        );
        assert_eq!(
            with(&[frame(HEADERS, 0, 1, &block), frame(0x0, 0, 1, b"x")]),
            Err(RewriteError::Interleaved)
        );
        assert_eq!(
            with(&[frame(HEADERS, PADDED | END_HEADERS, 1, &[9, 1, 2])]),
            Err(RewriteError::Padding)
        );
        assert!(matches!(
            with(&[frame(HEADERS, END_HEADERS, 1, &[0x80])]),
            Err(RewriteError::Hpack(_))
        ));
        // Declared lengths are judged before the bytes arrive.
        let mut big = frame(HEADERS, 0, 1, &[]);
        big[..3].copy_from_slice(&[0x10, 0, 0]);
        assert_eq!(with(&[big]), Err(RewriteError::TooLarge));
        let chunk = vec![0u8; 16_000];
        let mut frames = vec![frame(HEADERS, 0, 1, &chunk)];
        frames.extend((0..4).map(|_| frame(CONTINUATION, 0, 1, &chunk)));
        assert_eq!(with(&frames), Err(RewriteError::TooLarge));
        // A small block that decodes past the bound: one table entry referenced many times.
        let mut amp = enc.encode([(&b"x-a"[..], &vec![b'a'; 4000][..])]);
        amp.extend(std::iter::repeat_n(0xbe, 40));
        assert_eq!(
            with(&[frame(HEADERS, END_HEADERS, 1, &amp)]),
            Err(RewriteError::TooLarge)
        );
    }
}
