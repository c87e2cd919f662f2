//! The offload.v1 wire contract: messages, the `Offload` service's server trait and client.
//! Encodings are documented in `offload/v1/offload.proto`.

#[allow(clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("offload.v1");
}

pub mod codec;
pub mod ids;

/// The encoded file descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/offload_descriptor.bin"));
