//! Criterion: NTT, ours against ark-poly, halo2curves and Plonky3's DFTs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offload_benches::{runners, Case, Field, Named};

fn ntt(c: &mut Criterion) {
    for field in Field::ALL {
        let mut group = c.benchmark_group(format!("ntt/{}", field.name()));
        group.sample_size(10);
        for log_n in [16, 20] {
            for mut r in runners(Case::Ntt { field, log_n }, true) {
                group.bench_function(BenchmarkId::new(r.name(), 1u64 << log_n), |b| {
                    b.iter(|| {
                        r.prepare();
                        r.run();
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, ntt);
criterion_main!(benches);
