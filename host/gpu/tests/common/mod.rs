//! What several plan tests share.

/// Every NTT configuration: both directions, each order on each side, with and without the
/// coset g.
pub fn ntt_configs<F: offload_engine::ntt::NttField>(
    g: F,
) -> Vec<offload_engine::ntt::NttConfig<F>> {
    use offload_engine::ntt::{Direction, NttConfig, Order};
    let mut out = Vec::new();
    for direction in [Direction::Forward, Direction::Inverse] {
        for input in [Order::Natural, Order::BitReversed] {
            for output in [Order::Natural, Order::BitReversed] {
                for coset in [None, Some(g)] {
                    out.push(NttConfig {
                        direction,
                        input,
                        output,
                        coset,
                    });
                }
            }
        }
    }
    out
}
