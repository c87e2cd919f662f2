//! The DIF (Gentleman–Sande) butterfly, stamped for each field from its adder and multiplier:
//! (a, b, w) → (a + b, (a − b)·w) one per clock, where the multiplier's product is whatever the
//! field's multiplier computes (BabyBear's is Montgomery, so its twiddles come as ω·2^32).
//! `swap` computes (b − a) instead, which the inverse transform uses to turn ω^(N/2 − k) into
//! ω^−k = −ω^(N/2 − k). A tag travels with every pair, so the engine knows where the results
//! belong without counting cycles.
//!
//! Timing: the operands are registered on entry (they come straight from block RAM, whose
//! output is slow), then sum and difference take the adder's latency; the difference then
//! takes the multiplier's while the sum waits in a delay line as deep; the twiddle waits the
//! adder's latency to meet the difference at the multiplier. Latency: 1 + adder + multiplier.

/// The ports every field's butterfly shares, as 64-bit values: what a test or a tool needs
/// to drive any of them with one piece of code.
pub trait ButterflyPorts: crate::sim::Clocked + Default {
    /// Present one pair for the next clock (`valid` false: a bubble).
    fn present(&mut self, a: u64, b: u64, w: u64, swap: bool, tag: u16, valid: bool);
    /// What leaves this clock: x, y, tag and valid.
    fn results(&self) -> [u64; 4];
}

/// A field's butterfly block `$name` with `$d`-bit elements, from its adder/subtractor `$addsub`
/// (latency `$add`) and multiplier `$mul` (latency `$m`); `$tag` = `$add` + `$m`, the tag's
/// delay (a literal, so the HDL generator sees plain loop bounds).
#[macro_export]
macro_rules! butterfly {
    ($(#[$doc:meta])* $name:ident, $d:literal, $addsub:ty, $add:literal, $mul:ty, $m:literal, $tag:literal) => {
        const _: () = assert!($tag == $add + $m, "the tag's delay is the adder's and the multiplier's");

        /// Cycles from operands in to results out.
        pub const LATENCY: usize = 1 + $add + $m;

        $(#[$doc])*
        #[derive(LogicBlock, Default)]
        pub struct $name {
            pub clock: Signal<In, Clock>,
            pub a: Signal<In, Bits<$d>>,
            pub b: Signal<In, Bits<$d>>,
            pub w: Signal<In, Bits<$d>>,
            pub swap: Signal<In, Bit>,
            pub tag: Signal<In, Bits<16>>,
            pub in_valid: Signal<In, Bit>,
            pub x: Signal<Out, Bits<$d>>,
            pub y: Signal<Out, Bits<$d>>,
            pub tag_out: Signal<Out, Bits<16>>,
            pub out_valid: Signal<Out, Bit>,
            in_a: DFF<Bits<$d>>,
            in_b: DFF<Bits<$d>>,
            in_w: DFF<Bits<$d>>,
            in_swap: DFF<Bit>,
            in_tag: DFF<Bits<16>>,
            in_v: DFF<Bit>,
            sum: $addsub,
            diff: $addsub,
            mul: $mul,
            w_line: [DFF<Bits<$d>>; $add],
            x_line: [DFF<Bits<$d>>; $m],
            tag_line: [DFF<Bits<16>>; $tag],
        }

        impl Logic for $name {
            #[hdl_gen]
            fn update(&mut self) {
                dff_setup!(self, clock, in_a, in_b, in_w, in_swap, in_tag, in_v);
                self.in_a.d.next = self.a.val();
                self.in_b.d.next = self.b.val();
                self.in_w.d.next = self.w.val();
                self.in_swap.d.next = self.swap.val();
                self.in_tag.d.next = self.tag.val();
                self.in_v.d.next = self.in_valid.val();
                self.sum.clock.next = self.clock.val();
                self.diff.clock.next = self.clock.val();
                self.mul.clock.next = self.clock.val();
                for i in 0..$add {
                    self.w_line[i].clock.next = self.clock.val();
                }
                for i in 0..$m {
                    self.x_line[i].clock.next = self.clock.val();
                }
                for i in 0..$tag {
                    self.tag_line[i].clock.next = self.clock.val();
                }
                self.sum.a.next = self.in_a.q.val();
                self.sum.b.next = self.in_b.q.val();
                self.sum.sub.next = false;
                self.sum.in_valid.next = self.in_v.q.val();
                if self.in_swap.q.val() {
                    self.diff.a.next = self.in_b.q.val();
                    self.diff.b.next = self.in_a.q.val();
                } else {
                    self.diff.a.next = self.in_a.q.val();
                    self.diff.b.next = self.in_b.q.val();
                }
                self.diff.sub.next = true;
                self.diff.in_valid.next = self.in_v.q.val();
                self.w_line[0].d.next = self.in_w.q.val();
                for i in 1..$add {
                    self.w_line[i].d.next = self.w_line[i - 1].q.val();
                }
                self.mul.a.next = self.diff.y.val();
                self.mul.b.next = self.w_line[$add - 1].q.val();
                self.mul.in_valid.next = self.diff.out_valid.val();
                self.x_line[0].d.next = self.sum.y.val();
                for i in 1..$m {
                    self.x_line[i].d.next = self.x_line[i - 1].q.val();
                }
                self.tag_line[0].d.next = self.in_tag.q.val();
                for i in 1..$tag {
                    self.tag_line[i].d.next = self.tag_line[i - 1].q.val();
                }
                self.x.next = self.x_line[$m - 1].q.val();
                self.y.next = self.mul.y.val();
                self.tag_out.next = self.tag_line[$tag - 1].q.val();
                self.out_valid.next = self.mul.out_valid.val();
            }
        }

        impl $crate::butterfly::ButterflyPorts for $name {
            fn present(&mut self, a: u64, b: u64, w: u64, swap: bool, tag: u16, valid: bool) {
                use $crate::sim::to_bits;
                self.a.next = to_bits(&[a]);
                self.b.next = to_bits(&[b]);
                self.w.next = to_bits(&[w]);
                self.swap.next = swap;
                self.tag.next = to_bits(&[tag as u64]);
                self.in_valid.next = valid;
            }

            fn results(&self) -> [u64; 4] {
                use $crate::sim::from_bits;
                [
                    from_bits(self.x.val())[0],
                    from_bits(self.y.val())[0],
                    from_bits(self.tag_out.val())[0],
                    self.out_valid.val() as u64,
                ]
            }
        }

        impl $crate::sim::Clocked for $name {
            fn clock(&mut self) -> &mut Signal<In, Clock> {
                &mut self.clock
            }
        }
    };
}
