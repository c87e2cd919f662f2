//! Criterion: MSM, ours against arkworks, halo2curves (BN254) and blst (BLS12-381).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offload_benches::{runners, Case, Curve, Named};

fn msm(c: &mut Criterion) {
    for curve in Curve::ALL {
        for (log_n, fixed_bases) in [(12, false), (16, false), (16, true)] {
            let case = Case::Msm {
                curve,
                log_n,
                fixed_bases,
            };
            let mut group = c.benchmark_group(format!(
                "msm/{}{}",
                curve.name(),
                if fixed_bases { "/fixed" } else { "" }
            ));
            group.sample_size(10);
            for mut r in runners(case, !fixed_bases || curve == Curve::Bn254) {
                group.bench_function(BenchmarkId::new(r.name(), 1u64 << log_n), |b| {
                    b.iter(|| {
                        r.prepare();
                        r.run();
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, msm);
criterion_main!(benches);
