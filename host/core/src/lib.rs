//! The domain layer between the wire and the engines: jobs built by checked constructors (so a
//! backend only ever sees valid input), the point and field-element encodings the API documents,
//! the one `Backend` trait every device implements, and the CPU backend that always works.

pub mod backend;
pub mod caps;
pub mod cpu;
pub mod error;
pub mod job;
pub mod tables;
pub mod wire;

pub use backend::{
    Accepts, Backend, Capability, Failure, FailureKind, Health, OpKind, OpSupport, Preparation,
};
pub use error::JobError;
pub use job::{Job, Output};
pub use offload_wire::with_curve;
