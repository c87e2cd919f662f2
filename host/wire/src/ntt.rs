//! What an NTT request says besides its data: direction, the orderings of input and output,
//! and a coset shift. offload.proto defines the transform; the engine and every backend compute
//! exactly that.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Forward,
    Inverse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Natural,
    BitReversed,
}

/// How to transform: direction, orderings of input and output, and an optional coset shift.
/// The default is a forward transform, natural order in and out, on the subgroup itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NttConfig<F> {
    pub direction: Direction,
    pub input: Order,
    pub output: Order,
    /// Evaluate on (forward) or interpolate from (inverse) the coset g·⟨ω⟩.
    pub coset: Option<F>,
}

impl<F> Default for NttConfig<F> {
    fn default() -> Self {
        Self {
            direction: Direction::Forward,
            input: Order::Natural,
            output: Order::Natural,
            coset: None,
        }
    }
}

impl<F> NttConfig<F> {
    pub fn forward() -> Self {
        Self::default()
    }

    pub fn inverse() -> Self {
        Self {
            direction: Direction::Inverse,
            ..Self::default()
        }
    }

    pub fn orders(self, input: Order, output: Order) -> Self {
        Self {
            input,
            output,
            ..self
        }
    }

    pub fn coset(self, shift: F) -> Self {
        Self {
            coset: Some(shift),
            ..self
        }
    }
}
