//! The decoders beneath the service, straight from bytes (offload_daemon::fuzz::decoders).

fn main() {
    afl::fuzz!(|data: &[u8]| offload_daemon::fuzz::decoders(data));
}
