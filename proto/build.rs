//! Generates the offload.v1 code with protox, a protobuf compiler in Rust, so that building
//! needs no system `protoc`. The descriptor set is also kept for server reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "offload/v1/offload.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("offload_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    // Every call counts repeated fields before decoding (see `codec`).
    tonic_prost_build::configure()
        .codec_path("crate::codec::GuardedCodec")
        .compile_fds(fds)?;
    Ok(())
}
