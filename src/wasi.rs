//! The WASI context every plugin gets: deny-by-default.
//!
//! No preopened directories, no environment variables, no arguments, no sockets (TCP, UDP and
//! name lookup all refused), empty stdin; stdout and stderr go to bounded host buffers. A guest
//! that tries anything else gets an ordinary WASI error back, never a host crash.
//!
//! **Architecture Invariant:** nothing here reads the host's environment, filesystem or network
//! configuration; grants, when they come, are passed in explicitly.

use wasmtime_wasi::{WasiCtx, WasiCtxBuilder};

use crate::capture::BoundedOutput;

/// Builds the context for one store.
pub(crate) fn deny_by_default(stdout: &BoundedOutput, stderr: &BoundedOutput) -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(Vec::<u8>::new()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    builder.build()
}

/// What the sandbox does with calls to a WASI interface (`wasi:cli/environment@0.2.6` etc.),
/// in a few words, for `ptplugin inspect` and the docs.
pub fn policy_for(interface: &str) -> &'static str {
    let name = interface.split('@').next().unwrap_or(interface);
    match name {
        "wasi:cli/environment" => "empty: no variables, no arguments",
        "wasi:cli/stdin" => "empty",
        "wasi:cli/stdout" | "wasi:cli/stderr" => "captured into the host log, bounded",
        "wasi:cli/exit" => "ends the call as a trap",
        n if n.starts_with("wasi:cli/terminal") => "not a terminal",
        n if n.starts_with("wasi:filesystem/") => "denied: no directories are preopened",
        n if n.starts_with("wasi:sockets/") => "denied: no network access",
        n if n.starts_with("wasi:clocks/") => "allowed",
        n if n.starts_with("wasi:random/") => "allowed",
        n if n.starts_with("wasi:io/") => "allowed (streams and polling only)",
        _ => "not provided: linked as functions that trap if called",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ignores_the_version_and_defaults_to_not_provided() {
        assert_eq!(policy_for("wasi:filesystem/preopens@0.2.6"), policy_for("wasi:filesystem/types@0.2.0"));
        assert!(policy_for("wasi:sockets/tcp@0.2.12").starts_with("denied"));
        assert!(policy_for("wasi:http/outgoing-handler@0.2.0").starts_with("not provided"));
    }
}
