//! offloadd as a separate process, for the tests that need one (a crash, a restart, a resource
//! limit of its own).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// offloadd on 127.0.0.1:`port` with its data under `dir`, `toml` added to its configuration
/// and, if given, a hard limit on open files; returns once it accepts connections.
pub fn offloadd(dir: &Path, port: u16, toml: &str, nofile: Option<u64>) -> Child {
    let cfg = dir.join("offload.toml");
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics_listen = \"\"\nskip_calibration = true\n\
             cuda = false\ndata_dir = \"{}\"\n{toml}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_offloadd"));
    cmd.arg("--config")
        .arg(&cfg)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(n) = nofile {
        // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                use rustix::process::{setrlimit, Resource, Rlimit};
                setrlimit(
                    Resource::Nofile,
                    Rlimit {
                        current: Some(n),
                        maximum: Some(n),
                    },
                )
                .map_err(std::io::Error::from)
            });
        }
    }
    let mut child = cmd.spawn().expect("offloadd starts");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("offloadd exited ({status}): {err}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "offloadd did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
