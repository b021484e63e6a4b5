//! Voronka's domain: the types of the lead funnel and the pure rules of the intake pipeline.
//!
//! Nothing here performs I/O: storage, HTTP and the clock are supplied by the callers.

pub mod capture;
pub mod channels;
pub mod demo;
pub mod intake;
pub mod linkage;
pub mod model;
pub mod names;
pub mod notice;
pub mod predict;
pub mod routing;
pub mod scoring;
pub mod sla;
pub mod tags;

pub use model::*;
pub use notice::{notice_text, Notice};
