//! The client commands (`offload info|bases|msm|ntt|verify`) against a daemon started in this
//! test on an ephemeral port, and the hand-off of other commands to their tools.

use ark_ec::{CurveGroup, PrimeGroup};
use ark_std::UniformRand;
use offload_core::wire::{self, PointEncoding};
use rand::SeedableRng;
use std::process::Command;

fn offload(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_offload"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn client_commands_against_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let running = rt
        .block_on(offload_daemon::serve(offload_daemon::Config::ephemeral(
            dir.path(),
        )))
        .unwrap();
    let addr = format!("http://{}", running.addr);
    let run = |args: &[&str]| {
        let mut v = args.to_vec();
        v.extend(["--addr", &addr]);
        offload(&v)
    };

    let (ok, out, err) = run(&["info"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("backend cpu") && out.contains("healthy"),
        "{out}"
    );
    // The limits GetInfo reports, the open tenant's (no quotas of its own) among them.
    assert!(out.contains("connections: 1024 in all"), "{out}");
    assert!(out.contains("sets none, stored bytes none"), "{out}");

    // Bases in EIP-196, scalars packed; the MSM equals the engine's.
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let g = ark_bn254::G1Projective::generator();
    let pts: Vec<_> = (0..100).map(|_| g * ark_bn254::Fr::rand(&mut r)).collect();
    let pts = ark_bn254::G1Projective::normalize_batch(&pts);
    let s: Vec<ark_bn254::Fr> = (0..100).map(|_| ark_bn254::Fr::rand(&mut r)).collect();
    let mut pbytes = Vec::new();
    for p in &pts {
        wire::encode_point::<ark_bn254::g1::Config>(PointEncoding::Eip196, p, &mut pbytes).unwrap();
    }
    let bases = dir.path().join("bases.bin");
    let scalars = dir.path().join("scalars.bin");
    std::fs::write(&bases, &pbytes).unwrap();
    std::fs::write(&scalars, wire::encode_elements(&s)).unwrap();
    let (ok, out, err) = run(&[
        "bases",
        "upload",
        bases.to_str().unwrap(),
        "--curve",
        "bn254",
        "--encoding",
        "eip196",
        "--label",
        "t",
    ]);
    assert!(ok, "{err}");
    let handle = out.trim().to_string();
    assert_eq!(handle.len(), 64);
    let (ok, out, _) = run(&["bases", "list"]);
    assert!(
        ok && out.contains(&handle) && out.contains("100 points") && out.contains("table "),
        "{out}"
    );
    let (ok, out, err) = run(&[
        "msm",
        "--curve",
        "bn254",
        "--handle",
        &handle,
        "--encoding",
        "eip196",
        "--scalars",
        scalars.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let want = offload_engine::msm::msm(&pts, &s).unwrap().into_affine();
    let mut wb = Vec::new();
    wire::encode_point::<ark_bn254::g1::Config>(PointEncoding::Eip196, &want, &mut wb).unwrap();
    assert_eq!(out.trim(), hex::encode(wb));

    // NTT forward then inverse is the identity.
    let col = dir.path().join("col.bin");
    let fwd = dir.path().join("fwd.bin");
    let back = dir.path().join("back.bin");
    let data: Vec<u8> = (0..64u64).flat_map(|i| (i * 77).to_le_bytes()).collect();
    std::fs::write(&col, &data).unwrap();
    let (ok, _, err) = run(&[
        "ntt",
        "--field",
        "goldilocks",
        "--input",
        col.to_str().unwrap(),
        "--output",
        fwd.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_ne!(std::fs::read(&fwd).unwrap(), data);
    let (ok, _, err) = run(&[
        "ntt",
        "--field",
        "goldilocks",
        "--inverse",
        "--input",
        fwd.to_str().unwrap(),
        "--output",
        back.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&back).unwrap(), data);

    // Verify a JSON file: one good, one bad, one malformed.
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let pk = hex::encode(key.verifying_key().to_bytes());
    let sig = hex::encode(key.sign(b"hi").to_bytes());
    let json = format!(
        r#"{{"scheme": "ed25519", "policy": "zip215", "items": [
            {{"public_key": "{pk}", "signature": "{sig}", "message": "6869"}},
            {{"public_key": "{pk}", "signature": "{sig}", "message": "6868"}},
            {{"public_key": "{pk}", "signature": "00", "message": "6869"}}]}}"#
    );
    let vf = dir.path().join("sigs.json");
    std::fs::write(&vf, json).unwrap();
    let (ok, out, err) = run(&["verify", vf.to_str().unwrap()]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0 OUTCOME_VALID");
    assert_eq!(lines[1], "1 OUTCOME_INVALID");
    assert!(
        lines[2].starts_with("2 OUTCOME_MALFORMED signature"),
        "{}",
        lines[2]
    );
    assert!(err.contains("1 of 3 valid"), "{err}");

    // Errors come back with the daemon's precise message and a failing exit status.
    let (ok, _, err) = run(&["bases", "delete", &handle]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "msm",
        "--curve",
        "bn254",
        "--handle",
        &handle,
        "--scalars",
        scalars.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("no base set"), "{err}");
    rt.block_on(running.stop()).unwrap();
}

#[test]
fn other_commands_run_the_tool_of_that_name() {
    // A stand-in tool on PATH: `offload probe ARGS` must run it with ARGS and keep its status.
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("offload-probe");
    std::fs::write(&tool, "#!/bin/sh\necho \"probe: $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_offload"))
        .args(["probe", "--op", "msm two"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "probe: --op msm two\n"
    );

    // A tool that is nowhere: the message names it; for the workspace's own tools, how to build it.
    let (ok, _, err) = offload(&["no-such-tool"]);
    assert!(!ok);
    assert!(
        err.contains("no offload-no-such-tool beside this binary or on PATH"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_offload"))
        .args(["hw", "list"])
        .env("PATH", dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        assert!(
            err.contains("cargo build --release -p offload-hdl"),
            "{err}"
        );
    }
    // Names that could reach outside the tool namespace are refused, not looked up.
    let (ok, _, err) = offload(&["../x"]);
    assert!(!ok);
    assert!(err.contains("is not a command"), "{err}");
}
