//! How bucket points are stored and added: the [`Repr`] seam between the bucket algorithm and
//! the field arithmetic, with arkworks' affine points as the portable representation.

use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{Field, One, Zero};

/// A representation of affine points and a batched pair addition over it.
pub trait Repr<C: SWCurveConfig>: Sync {
    type Point: Copy + Send + Sync + 'static;
    /// Per-worker buffers for [`Repr::add_pairs`].
    type Work: Default + Send;

    fn identity(&self) -> Self::Point;
    fn is_identity(&self, p: &Self::Point) -> bool;
    fn neg(&self, p: &Self::Point) -> Self::Point;
    fn encode(&self, a: &Affine<C>) -> Self::Point;
    fn decode(&self, p: &Self::Point) -> Affine<C>;

    /// pts[dst] = pts[src] + pts[src + 1] for every pair. Pairs come in increasing `src` order
    /// within a bucket with `dst ≤ src`, so a result may overwrite only operands of pairs
    /// earlier in the list: an implementation must read a pair's operands before writing the
    /// results of any later pair.
    fn add_pairs(&self, work: &mut Self::Work, pts: &mut [Self::Point], pairs: &[(u32, u32)]);
}

/// The kind of sum a pair needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sum {
    /// Distinct x: the chord through both points.
    Chord,
    /// Equal points: the tangent (doubling).
    Tangent,
    /// An operand at infinity, or P + (−P): no slope, no inversion.
    Trivial,
}

#[inline(always)]
pub fn classify<C: SWCurveConfig>(a: &Affine<C>, b: &Affine<C>) -> Sum {
    if a.infinity || b.infinity {
        Sum::Trivial
    } else if a.x != b.x {
        Sum::Chord
    } else if a.y == b.y && !a.y.is_zero() {
        Sum::Tangent
    } else {
        Sum::Trivial
    }
}

/// arkworks' affine points and field arithmetic: works everywhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArkRepr;

/// Independent product chains in the batch inversion: the out-of-order core overlaps them.
const CHAINS: usize = 4;

#[derive(Default)]
pub struct ArkWork<F> {
    den: Vec<F>,
    prefix: Vec<F>,
}

impl<C: SWCurveConfig> Repr<C> for ArkRepr {
    type Point = Affine<C>;
    type Work = ArkWork<C::BaseField>;

    fn identity(&self) -> Affine<C> {
        Affine::identity()
    }
    fn is_identity(&self, p: &Affine<C>) -> bool {
        p.infinity
    }
    fn neg(&self, p: &Affine<C>) -> Affine<C> {
        -*p
    }
    fn encode(&self, a: &Affine<C>) -> Affine<C> {
        *a
    }
    fn decode(&self, p: &Affine<C>) -> Affine<C> {
        *p
    }

    fn add_pairs(&self, w: &mut Self::Work, pts: &mut [Affine<C>], pairs: &[(u32, u32)]) {
        if pairs.is_empty() {
            return;
        }
        w.den.clear();
        w.prefix.clear();
        let mut acc = [C::BaseField::one(); CHAINS];
        for (i, &(src, _)) in pairs.iter().enumerate() {
            let (a, b) = (&pts[src as usize], &pts[src as usize + 1]);
            let d = match classify(a, b) {
                Sum::Chord => b.x - a.x,
                Sum::Tangent => a.y.double(),
                Sum::Trivial => C::BaseField::one(),
            };
            let lane = &mut acc[i % CHAINS];
            w.prefix.push(*lane);
            *lane *= d;
            w.den.push(d);
        }
        // One inversion for all chains. Products of nonzero denominators are nonzero:
        // chords have x1 ≠ x2, tangents y ≠ 0.
        let (p01, p23) = (acc[0] * acc[1], acc[2] * acc[3]);
        let all = (p01 * p23)
            .inverse()
            .expect("product of nonzero denominators");
        let (i01, i23) = (all * p23, all * p01);
        let mut inv = [i01 * acc[1], i01 * acc[0], i23 * acc[3], i23 * acc[2]];
        for i in (0..w.den.len()).rev() {
            let d = w.den[i];
            let lane = &mut inv[i % CHAINS];
            w.den[i] = *lane * w.prefix[i];
            *lane *= d;
        }
        for (&(src, dst), inv) in pairs.iter().zip(&w.den) {
            let (a, b) = (pts[src as usize], pts[src as usize + 1]);
            pts[dst as usize] = match classify(&a, &b) {
                Sum::Trivial => {
                    if a.infinity {
                        b
                    } else if b.infinity {
                        a
                    } else {
                        Affine::identity()
                    }
                }
                kind => {
                    let lambda = if kind == Sum::Chord {
                        (b.y - a.y) * inv
                    } else {
                        // Tangent slope 3x² / 2y (a = 0 on both curves).
                        let xx = a.x.square();
                        (xx.double() + xx) * inv
                    };
                    let x3 = lambda.square() - a.x - b.x;
                    let y3 = lambda * (a.x - x3) - a.y;
                    Affine::new_unchecked(x3, y3)
                }
            };
        }
    }
}
