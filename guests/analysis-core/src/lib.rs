//! Graph analyses with no knowledge of WebAssembly or the plugin contract.
//!
//! The bundled plugins wrap these functions; the host's benchmarks call them natively, so a
//! plugin-versus-native comparison runs the very same code on both sides.

pub mod blast;
pub mod census;
pub mod columns;
pub mod dead;
pub mod god;
pub mod model;
pub mod pagerank;
pub mod report;
pub mod scc;
pub mod surface;
