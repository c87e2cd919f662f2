//! The codec every offload.v1 call uses, on both ends: prost, with two guards prost lacks.
//!
//! A repeated field's entries are counted on the wire before anything is decoded: an empty
//! `Elements` or `VerifyItem` costs two bytes to send but tens of bytes once decoded, so a
//! 7 MiB request of millions of empty entries would otherwise cost the receiver a gigabyte.
//! Those counts are the contract's hard maxima ([`MAX_SCALAR_VECTORS`], [`MAX_NTT_COLUMNS`],
//! [`MAX_VERIFY_ITEMS`]); a daemon may set lower ones. And a message that does not decode is
//! the sender's fault, INVALID_ARGUMENT, where plain prost answers INTERNAL.

use crate::v1;
use prost::Message;
use std::marker::PhantomData;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// Scalar vectors in one MSM request (one MSM each).
pub const MAX_SCALAR_VECTORS: usize = 1024;
/// Columns in one NTT request.
pub const MAX_NTT_COLUMNS: usize = 1 << 16;
/// Signatures in one verify request.
pub const MAX_VERIFY_ITEMS: usize = 1 << 20;

/// A field whose occurrences are counted before decoding, and the caps inside each occurrence.
pub struct Cap {
    pub field: u32,
    pub name: &'static str,
    pub max: usize,
    pub nested: &'static [Cap],
}

/// The counted fields of a message type.
pub trait WireCaps {
    const CAPS: &'static [Cap] = &[];
}

const MSM_REQUEST: &[Cap] = &[Cap {
    field: 4,
    name: "scalars",
    max: MAX_SCALAR_VECTORS,
    nested: &[],
}];

impl WireCaps for v1::MsmRequest {
    const CAPS: &'static [Cap] = MSM_REQUEST;
}
impl WireCaps for v1::MsmStreamRequest {
    const CAPS: &'static [Cap] = &[Cap {
        field: 1,
        name: "header",
        max: usize::MAX,
        nested: MSM_REQUEST,
    }];
}
impl WireCaps for v1::NttRequest {
    const CAPS: &'static [Cap] = &[Cap {
        field: 6,
        name: "columns",
        max: MAX_NTT_COLUMNS,
        nested: &[],
    }];
}
impl WireCaps for v1::VerifyRequest {
    const CAPS: &'static [Cap] = &[Cap {
        field: 3,
        name: "items",
        max: MAX_VERIFY_ITEMS,
        nested: &[],
    }];
}
macro_rules! uncapped {
    ($($t:ident),*) => { $(impl WireCaps for v1::$t {})* };
}
uncapped!(
    GetInfoRequest,
    GetInfoResponse,
    UploadBasesRequest,
    UploadProgressRequest,
    UploadProgressResponse,
    BaseSetInfo,
    ListBasesRequest,
    ListBasesResponse,
    DeleteBasesRequest,
    DeleteBasesResponse,
    MsmResponse,
    NttResponse,
    VerifyResponse
);

fn malformed(what: &str) -> Status {
    Status::invalid_argument(format!("the message does not decode: {what}"))
}

fn varint(b: &mut &[u8]) -> Result<u64, Status> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b
            .split_first()
            .ok_or_else(|| malformed("truncated varint"))?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(malformed("varint longer than ten bytes"))
}

fn take<'a>(b: &mut &'a [u8], n: u64) -> Result<&'a [u8], Status> {
    let n = usize::try_from(n).map_err(|_| malformed("length past the message"))?;
    if n > b.len() {
        return Err(malformed("length past the message"));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

/// Walk `msg`'s fields (no allocation) and refuse it when a capped field occurs too often.
pub fn check_caps(mut msg: &[u8], caps: &[Cap]) -> Result<(), Status> {
    if caps.is_empty() {
        return Ok(());
    }
    let mut counts = vec![0usize; caps.len()];
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        let field = u32::try_from(key >> 3).map_err(|_| malformed("field number"))?;
        let body = match key & 7 {
            0 => {
                varint(&mut msg)?;
                None
            }
            1 => {
                take(&mut msg, 8)?;
                None
            }
            2 => {
                let len = varint(&mut msg)?;
                Some(take(&mut msg, len)?)
            }
            5 => {
                take(&mut msg, 4)?;
                None
            }
            _ => return Err(malformed("unknown wire type")),
        };
        let Some(i) = caps.iter().position(|c| c.field == field) else {
            continue;
        };
        let cap = &caps[i];
        let seen = &mut counts[i];
        *seen += 1;
        if *seen > cap.max {
            return Err(Status::invalid_argument(format!(
                "{}: more than {} entries, the most one request may carry",
                cap.name, cap.max
            )));
        }
        if let Some(body) = body {
            check_caps(body, cap.nested)?;
        }
    }
    Ok(())
}

/// One message as the codec decodes it: the counts checked first, then prost, and a message
/// that does not decode INVALID_ARGUMENT.
pub fn decode_guarded<U: Message + Default + WireCaps>(bytes: &[u8]) -> Result<U, Status> {
    check_caps(bytes, U::CAPS)?;
    U::decode(bytes).map_err(|e| malformed(&e.to_string()))
}

/// prost with the counts checked first and decode errors as INVALID_ARGUMENT.
pub struct GuardedCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for GuardedCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for GuardedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + WireCaps + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = GuardedEncoder<T>;
    type Decoder = GuardedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        GuardedEncoder(PhantomData)
    }
    fn decoder(&mut self) -> Self::Decoder {
        GuardedDecoder(PhantomData)
    }
}

pub struct GuardedEncoder<T>(PhantomData<T>);

impl<T: Message> Encoder for GuardedEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf)
            .map_err(|e| Status::internal(format!("encoding a message: {e}")))
    }
}

pub struct GuardedDecoder<U>(PhantomData<U>);

impl<U> Default for GuardedDecoder<U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<U: Message + Default + WireCaps> Decoder for GuardedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        use prost::bytes::Buf;
        if !U::CAPS.is_empty() {
            if buf.chunk().len() == buf.remaining() {
                check_caps(buf.chunk(), U::CAPS)?;
            } else {
                let whole = buf.copy_to_bytes(buf.remaining());
                return decode_guarded(&whole).map(Some);
            }
        }
        U::decode(buf)
            .map(Some)
            .map_err(|e| malformed(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(items: usize) -> Vec<u8> {
        v1::VerifyRequest {
            items: vec![v1::VerifyItem::default(); items],
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn counts_are_checked_before_decoding() {
        assert!(check_caps(&verify(3), v1::VerifyRequest::CAPS).is_ok());
        let caps = &[Cap {
            field: 3,
            name: "items",
            max: 2,
            nested: &[],
        }];
        let e = check_caps(&verify(3), caps).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.message().starts_with("items: more than 2"), "{e}");
        // A header nested in a stream message is checked too.
        let header = v1::MsmStreamRequest {
            part: Some(v1::msm_stream_request::Part::Header(v1::MsmRequest {
                scalars: vec![v1::Elements::default(); MAX_SCALAR_VECTORS + 1],
                ..Default::default()
            })),
        }
        .encode_to_vec();
        let e = check_caps(&header, v1::MsmStreamRequest::CAPS).unwrap_err();
        assert!(e.message().starts_with("scalars: more than 1024"), "{e}");
    }

    #[test]
    fn malformed_input_is_refused_not_misread() {
        let mut m = verify(2);
        m.truncate(m.len() - 1);
        for bad in [&m[..], &[0x1a, 0xff][..], &[0x1f][..], &[0x80; 11][..]] {
            let e = check_caps(bad, v1::VerifyRequest::CAPS).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
    }
}
