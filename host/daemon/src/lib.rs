//! offloadd: the gRPC front door. The service is a thin adapter (validate, build a checked job,
//! await the scheduler, encode); the scheduler places each job on the backend with the earliest
//! expected finish; uploaded base sets live in the data directory and stay resident.

pub mod auth;
pub mod authority;
pub mod bases;
pub mod budget;
pub mod config;
pub mod convert;
pub mod deadline;
pub mod fair;
pub mod fuzz;
pub mod health;
pub mod metrics;
pub mod net;
pub mod resume;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod shm;
pub mod tls;

pub use config::Config;
pub use server::{serve, Running};
