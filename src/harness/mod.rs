//! Built on everything else, shipped with the `bundled-plugins` feature: the plugins and sample
//! graph embedded in the library ([`bundled`]), the isolation conformance suite
//! ([`conformance`]), soak runs ([`soak`]) and sustained load ([`load`]).
//!
//! Top of the library: may import every layer; nothing in the library imports it (the CLI,
//! tests and benches do).

pub mod bundled;
pub mod conformance;
pub mod load;
pub mod soak;
