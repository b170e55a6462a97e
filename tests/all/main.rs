//! The integration tests: one binary, one module per area (wasmtime's `tests/all` layout).

mod analyses;
mod authoring;
mod bad_output;
mod bundles;
mod capabilities;
mod cli;
mod cpu_time;
mod distribution;
mod errors;
mod escapes;
mod faults;
mod handwritten;
mod hardening;
mod import;
mod isolation;
mod json_output;
mod live;
mod loading;
mod observability;
mod pt08;
mod readme;
mod registry;
mod report_browser;
mod reports;
mod supervision;
mod support;
