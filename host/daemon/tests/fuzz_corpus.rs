//! The fuzz targets' corpus (host/daemon/fuzz/corpus), replayed through the same entry points
//! uninstrumented: every seed and every input kept from a campaign must pass the harness's
//! judgement (no panic, no INTERNAL, no unbounded error text, an answer within 20 s), and the
//! committed seeds must be those `seeds()` makes today.
//!
//! `OFFLOAD_WRITE_SEEDS=1 cargo test -p offload-daemon --test fuzz_corpus` rewrites them.

use offload_daemon::fuzz::{decoders, seeds, Harness};
use std::path::PathBuf;

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

#[test]
fn every_corpus_input_passes_and_the_seeds_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::new(dir.path()).expect("the harness starts");
    let write = std::env::var_os("OFFLOAD_WRITE_SEEDS").is_some();
    let made = seeds(&h);
    assert!(made.len() > 40, "{} seeds", made.len());
    for (target, name, bytes) in &made {
        let path = corpus(target).join(format!("seed-{name}"));
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        let kept = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (OFFLOAD_WRITE_SEEDS=1 writes it)", path.display())
        });
        assert!(
            kept == *bytes,
            "{} is stale (OFFLOAD_WRITE_SEEDS=1 rewrites it)",
            path.display()
        );
    }
    let mut replayed = 0;
    for target in ["service", "decoders"] {
        let mut files: Vec<_> = std::fs::read_dir(corpus(target))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            eprintln!("{}", f.display());
            match target {
                "service" => h.call(&bytes),
                _ => decoders(&bytes),
            }
            replayed += 1;
        }
    }
    assert!(replayed >= made.len());
}

/// The seeds reach the work, not only the front door: most of them succeed.
#[test]
fn the_seeds_reach_each_call_s_work() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::new(dir.path()).expect("the harness starts");
    let made = seeds(&h);
    let service: Vec<_> = made.iter().filter(|(t, _, _)| *t == "service").collect();
    let mut ok = 0;
    for (_, name, bytes) in &service {
        match h.answer(bytes) {
            Ok(()) => ok += 1,
            Err(e) => eprintln!("{name}: {:?} {}", e.code(), e.message()),
        }
    }
    assert!(
        ok * 3 >= service.len() * 2,
        "{ok} of {} seeds answered",
        service.len()
    );
}
