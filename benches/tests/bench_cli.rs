//! The `offload bench` command (the `offload-bench` binary) as hardware engineers run it.

use std::process::Command;

fn offload(args: &[&str]) -> (bool, String, String) {
    // Written as `offload bench ...`; the user's `offload` hands "bench" to this binary.
    let args = args.strip_prefix(&["bench"]).unwrap_or(args);
    let out = Command::new(env!("CARGO_BIN_EXE_offload-bench"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn msm_json_with_compare() {
    let (ok, out, err) = offload(&[
        "bench",
        "--op",
        "msm",
        "--curve",
        "bn254",
        "--log-n",
        "8",
        "--backend",
        "cpu",
        "--reps",
        "3",
        "--compare",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let rows = json_lines(&out);
    let backends: Vec<&str> = rows
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    assert_eq!(backends, ["cpu", "peer:arkworks", "peer:halo2curves"]);
    for r in &rows {
        assert_eq!(r["op"], "msm");
        assert_eq!(r["curve"], "bn254");
        assert_eq!(r["n"], 256);
        assert_eq!(r["reps"], 3);
        let (min, med, max) = (
            r["min_ms"].as_f64().unwrap(),
            r["median_ms"].as_f64().unwrap(),
            r["max_ms"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max && min > 0.0);
    }
    assert!(rows[0].get("ratio").is_none());
    for r in &rows[1..] {
        assert!(r["ratio"].as_f64().unwrap() > 0.0);
        assert_eq!(r["agrees"], true);
    }
}

#[test]
fn ntt_table_and_plot() {
    let dir = std::env::temp_dir().join(format!("offload-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("ntt.svg");
    let (ok, out, err) = offload(&[
        "bench",
        "--op",
        "ntt",
        "--field",
        "goldilocks",
        "--log-n",
        "6,8",
        "--reps",
        "2",
        "--compare",
        "--format",
        "table",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.lines().next().unwrap().contains("median ms"));
    assert!(out.contains("ntt goldilocks 2^6") && out.contains("ntt goldilocks 2^8"));
    assert!(out.contains("peer:plonky3-radix2-dit-parallel"));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.contains("polyline"),
        "an SVG with lines"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fixed_bases_flag_is_reported() {
    let (ok, out, err) = offload(&[
        "bench",
        "--op",
        "msm",
        "--curve",
        "bls12-381",
        "--log-n",
        "7",
        "--reps",
        "1",
        "--fixed-bases",
    ]);
    assert!(ok, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["fixed_bases"], true);
    assert_eq!(rows[0]["curve"], "bls12-381");
}

#[test]
fn bad_arguments_are_clear_errors() {
    for (args, needle) in [
        (
            vec!["bench", "--op", "msm", "--curve", "secp256k1"],
            "unknown curve 'secp256k1'",
        ),
        (
            vec!["bench", "--op", "ntt", "--field", "mersenne"],
            "unknown field 'mersenne'",
        ),
        (
            vec!["bench", "--op", "msm", "--backend", "tpu"],
            "backend 'tpu' is not available",
        ),
        (
            vec!["bench", "--op", "ntt", "--curve", "bn254"],
            "apply to --op msm",
        ),
        (vec!["bench", "--log-n", "10"], "need --op"),
        (
            vec!["bench", "--op", "msm", "--reps", "0"],
            "--reps must be at least 1",
        ),
    ] {
        let (ok, _, err) = offload(&args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // The GPU backend runs where there is a GPU and says why not elsewhere.
    let (ok, _, err) = offload(&[
        "bench",
        "--op",
        "ntt",
        "--field",
        "babybear",
        "--log-n",
        "4",
        "--reps",
        "1",
        "--backend",
        "cuda",
    ]);
    assert!(ok || err.contains("no usable GPU here"), "{err}");
}

#[test]
fn ed25519_json_reports_throughput() {
    let (ok, out, err) = offload(&[
        "bench",
        "--op",
        "ed25519",
        "--batch",
        "16",
        "--policy",
        "strict",
        "--reps",
        "2",
        "--compare",
    ]);
    assert!(ok, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["backend"], "cpu");
    assert_eq!(rows[1]["backend"], "peer:ed25519-dalek-verify-strict");
    for r in &rows {
        assert_eq!(r["op"], "ed25519");
        assert_eq!(r["policy"], "strict");
        assert_eq!(r["batch"], 16);
        let rate = r["sigs_per_s"].as_f64().unwrap();
        let expect = 16.0 / (r["median_ms"].as_f64().unwrap() / 1e3);
        assert!(
            (rate - expect).abs() <= expect * 0.01 + 1.0,
            "{rate} vs {expect}"
        );
    }
    assert_eq!(rows[1]["agrees"], true);
    let (ok, _, err) = offload(&["bench", "--op", "ed25519", "--policy", "lax"]);
    assert!(!ok && err.contains("unknown policy 'lax'"), "{err}");
    let (ok, _, err) = offload(&["bench", "--op", "msm", "--batch", "4"]);
    assert!(!ok && err.contains("apply to signature ops"), "{err}");
}

#[test]
fn remote_bench_agrees_with_the_engine() {
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

    // The bench through the daemon agrees with the in-process engine: an MSM, and every
    // signature scheme, each against its in-process result.
    let msm = ["--op", "msm", "--curve", "bn254", "--log-n", "8"];
    let cases = [
        &msm[..],
        &["--op", "ed25519", "--batch", "8"],
        &["--op", "ecdsa", "--batch", "8"],
        &["--op", "schnorr", "--batch", "8"],
        &["--op", "bls", "--batch", "8"],
    ];
    for case in cases {
        let mut args = vec!["bench", "--backend", "remote", "--reps", "2", "--compare"];
        args.extend_from_slice(case);
        let (ok, out, err) = run(&args);
        assert!(ok, "{case:?}: {err}");
        assert!(out.lines().count() >= 3, "{case:?}: {out}");
        assert!(
            out.contains("\"backend\":\"remote:http://") && !out.contains("\"agrees\":false"),
            "{case:?}: {out}"
        );
    }
    rt.block_on(running.stop()).unwrap();
}
