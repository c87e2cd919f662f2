use offload_engine::cancel::Cancel;
use offload_engine::ntt::{Domain, NttConfig, NttField};
fn run<F: NttField>(log_n: u32, width: usize, lde: bool) {
    let mut m: Vec<F> = (0..(width << log_n))
        .map(|i| F::from_u64(i as u64 * 7 + 1))
        .collect();
    let d = Domain::<F>::new(log_n).unwrap();
    let mut ts = vec![];
    for _ in 0..15 {
        let t = std::time::Instant::now();
        if lde {
            let o = offload_engine::ntt::lde_rows(&m, width, 1, F::from_u64(7), &Cancel::never())
                .unwrap();
            std::hint::black_box(o);
        } else {
            d.ntt_rows(&mut m, width, &NttConfig::forward(), &Cancel::never())
                .unwrap();
        }
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    eprintln!(
        "{} 2^{log_n} x {width} lde={lde}: median {:.3} ms",
        F::NAME,
        ts[7]
    );
}
fn main() {
    for (log_n, w) in [(12, 256), (16, 8), (16, 256)] {
        for lde in [false, true] {
            run::<p3_baby_bear::BabyBear>(log_n, w, lde);
            run::<p3_goldilocks::Goldilocks>(log_n, w, lde);
        }
    }
}
