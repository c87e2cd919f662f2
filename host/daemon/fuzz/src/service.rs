//! Every request type through the service layer (offload_daemon::fuzz::Harness::call).

use offload_daemon::fuzz::Harness;
use std::sync::OnceLock;

fn main() {
    // Started in the forked child at its first input: the daemon's threads would not survive
    // the fork of afl's (deferred) fork server.
    static HARNESS: OnceLock<(tempfile::TempDir, Harness)> = OnceLock::new();
    afl::fuzz!(|data: &[u8]| {
        let (_, h) = HARNESS.get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let h = Harness::new(dir.path()).expect("the daemon starts");
            (dir, h)
        });
        h.call(data);
    });
}
