//! Every kernel compiles with NVRTC for sm_80 and sm_90 (no GPU needed), and ptxas assembles
//! the sm_90 PTX, reporting registers and spills. CI gets NVRTC and ptxas from NVIDIA's pip
//! wheels (scripts/test.sh); a missing NVRTC fails this test rather than skipping it.

use offload_kernels::{cache, compile_ptx, compile_text, source, CompileError};
use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

const ARCHS: [&str; 2] = ["compute_80", "compute_90"];

/// The entry points each translation unit must define.
fn entries(name: &str) -> Vec<String> {
    match name {
        "ntt.cu" => ["bn254_fr", "bls12_381_fr", "babybear", "goldilocks"]
            .iter()
            .flat_map(|f| ["bitrev", "ntt_pass"].map(|k| format!("{k}_{f}")))
            .collect(),
        "msm.cu" => ["msm_digits", "msm_histogram", "msm_scan", "msm_scatter"]
            .iter()
            .map(|k| k.to_string())
            .chain(["bn254", "bls12_381"].iter().flat_map(|c| {
                [
                    "msm_accumulate",
                    "msm_reduce",
                    "msm_window_sum",
                    "msm_combine",
                ]
                .map(|k| format!("{k}_{c}"))
            }))
            .collect(),
        "ed25519.cu" => vec!["ed25519_verify".to_string()],
        other => panic!("no entry list for {other}: add one"),
    }
}

/// `name`'s PTX for `arch`, compiled once for the whole test binary: on CI's cores NVRTC takes
/// about a minute per architecture for the MSM kernels and ptxas longer, so the tests share
/// what they compile and run them side by side (a test that needs PTX another is compiling
/// waits for it).
fn ptx(name: &'static str, arch: &'static str) -> String {
    type Cells = Mutex<HashMap<(&'static str, &'static str), Arc<OnceLock<String>>>>;
    static CELLS: OnceLock<Cells> = OnceLock::new();
    let cell = CELLS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry((name, arch))
        .or_default()
        .clone();
    cell.get_or_init(|| compile_ptx(name, arch).unwrap_or_else(|e| panic!("{e}")))
        .clone()
}

#[test]
fn every_kernel_compiles_for_ampere_and_hopper() {
    // Ampere first: the ptxas test starts on the Hopper PTX at the same time.
    for arch in ARCHS {
        for name in source::KERNELS {
            let ptx = ptx(name, arch);
            let target = format!(".target sm_{}", &arch["compute_".len()..]);
            assert!(ptx.contains(&target), "{name} {arch}: no {target}");
            for e in entries(name) {
                let entry = format!(".entry {e}(");
                assert!(ptx.contains(&entry), "{name} {arch}: no {entry}");
            }
        }
    }
}

#[test]
fn a_source_error_comes_back_with_the_compiler_log() {
    let e = compile_text(
        "bad.cu",
        "extern \"C\" __global__ void k() { undeclared(); }",
        "compute_90",
    )
    .unwrap_err();
    match &e {
        CompileError::Rejected { log, .. } => assert!(log.contains("undeclared"), "{log}"),
        other => panic!("expected a rejection with its log, got {other}"),
    }
    // An unknown embedded source is an error too, not a panic.
    let e = compile_ptx("missing.cu", "compute_90").unwrap_err();
    assert!(e.to_string().contains("missing.cu"), "{e}");
}

#[test]
fn the_cache_compiles_once_then_serves_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (a, o1) = cache::ptx(dir.path(), "ntt.cu", "compute_90").unwrap();
    let (b, o2) = cache::ptx(dir.path(), "ntt.cu", "compute_90").unwrap();
    assert_eq!((o1, o2), (cache::Origin::Compiled, cache::Origin::Cached));
    assert_eq!(a, b);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn ptxas() -> String {
    std::env::var("OFFLOAD_PTXAS").unwrap_or_else(|_| "ptxas".into())
}

#[test]
fn ptxas_assembles_the_hopper_ptx() {
    // One thread per translation unit: the MSM's NVRTC and ptxas runs are the long pole, and
    // the others fit beside them.
    std::thread::scope(|s| {
        for name in source::KERNELS {
            s.spawn(move || assemble(name));
        }
    });
}

/// ptxas on `name`'s sm_90 PTX: it must assemble, with every entry point, and only the
/// kernels allowed to may spill.
fn assemble(name: &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let ptx = ptx(name, "compute_90");
    let file = dir.path().join("k.ptx");
    std::fs::write(&file, ptx).unwrap();
    let out = Command::new(ptxas())
        .args(["-arch=sm_90", "-v", "-o"])
        .arg(dir.path().join("k.cubin"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (set OFFLOAD_PTXAS or put ptxas on PATH)", ptxas()));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ptxas failed on {name}:\n{log}");
    // One line per kernel: its registers and spills, for the CI log (a block per unit, as
    // the threads finish).
    let mut report = String::new();
    let mut current = String::new();
    let mut kernels = 0;
    for line in log.lines() {
        if let Some(rest) = line.split("Compiling entry function '").nth(1) {
            current = rest.split('\'').next().unwrap_or("").to_string();
        }
        if line.contains("spill stores") {
            report += &format!(
                "{current}: {}\n",
                line.trim_start_matches("ptxas info    : ").trim()
            );
        }
        if line.contains("Used") && line.contains("registers") {
            kernels += 1;
            report += &format!(
                "{current}: {}\n",
                line.trim_start_matches("ptxas info    : ").trim()
            );
        }
    }
    print!("{report}");
    assert_eq!(kernels, entries(name).len(), "{name}: kernels in:\n{log}");
    // Spilling kernels are slow kernels. The hot loops (NTT stages, bucket accumulation) must
    // not spill; the per-window reduction of BLS12-381, which holds three 48-word points and
    // runs over 2^(c−1) buckets rather than n points, is allowed to (reported above).
    for (kernel, line) in spills(&log) {
        assert!(
            kernel == "msm_reduce_bls12_381",
            "{kernel} spills in {name}: {line}"
        );
    }
}

/// (kernel, ptxas line) for every kernel that spills.
fn spills(log: &str) -> Vec<(String, String)> {
    let mut current = String::new();
    let mut out = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("Function properties for ").nth(1) {
            current = rest.trim().to_string();
        }
        if line.contains("spill stores") && !line.contains(" 0 bytes spill stores") {
            out.push((current.clone(), line.trim().to_string()));
        }
    }
    out
}
