//! The integration tests: one binary, one module per area (wasmtime's `tests/all` layout).

mod analyses;
mod capabilities;
mod cli;
mod escapes;
mod faults;
mod handwritten;
mod loading;
mod supervision;
mod support;
