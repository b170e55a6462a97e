//! The WASI context every plugin gets: deny-by-default, opened up only by explicit [`Grants`].
//!
//! Without grants: no preopened directories, no environment variables, no arguments, no sockets
//! (TCP, UDP and name lookup all refused), empty stdin, a wall clock stuck at 1970-01-01;
//! stdout and stderr go to bounded host buffers. With grants: granted directories are preopened
//! **read-only** at the same path; TCP may connect to the granted addresses only; name lookup is
//! on only if a granted target is a host name; only granted variables are visible (with the
//! host's values); the real wall clock if granted. Whatever else a guest tries ends in an ordinary
//! WASI error inside the guest, never a host crash.
//!
//! **Architecture Invariant:** nothing here reads the host's environment, filesystem or network
//! except for what [`Access::resolve`] resolves from explicit grants.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, HostWallClock, WasiCtx, WasiCtxBuilder};

use crate::error::{Error, Result};
use crate::policy::{Denied, Grants, parse_target};
use crate::sandbox::store::BoundedOutput;

/// Called with a description of each operation the sandbox refused at run time (a connection
/// to an address not granted), so it can be audited.
pub type DenialHook = Arc<dyn Fn(String) + Send + Sync>;

/// Grants resolved against this machine: directories checked, names looked up, values read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Access {
    /// Directories to preopen read-only (guest path = host path).
    pub dirs: Vec<PathBuf>,
    /// Addresses TCP may connect to.
    pub addrs: Vec<SocketAddr>,
    /// The granted `host:port` targets those addresses came from.
    pub targets: Vec<String>,
    /// Whether name lookup is allowed (a granted target is a host name).
    pub name_lookup: bool,
    /// Environment variables, with the host's values.
    pub env: Vec<(String, String)>,
    /// The real wall clock.
    pub wall_clock: bool,
}

impl Access {
    /// Resolves `grants` (the only I/O of the grant path): a directory that does not exist or a
    /// name that does not resolve is denied, not fatal; an unset variable is simply absent.
    pub fn resolve(grants: &Grants) -> (Access, Vec<Denied>) {
        let mut access = Access { wall_clock: grants.wall_clock, ..Access::default() };
        let mut denied = Vec::new();
        let mut deny = |capability: String, why: String| {
            denied.push(Denied { capability, requested_because: String::new(), why });
        };
        for dir in &grants.read_dirs {
            if dir.is_dir() {
                access.dirs.push(dir.clone());
            } else {
                deny(format!("read-dir {}", dir.display()), "not a directory on this host".into());
            }
        }
        for target in &grants.connect {
            let Ok((host, port)) = parse_target(target) else { continue };
            match (host, port).to_socket_addrs() {
                Ok(addrs) => {
                    access.name_lookup |= host.parse::<std::net::IpAddr>().is_err();
                    access.addrs.extend(addrs);
                    access.targets.push(target.clone());
                }
                Err(e) => deny(format!("connect {target}"), format!("does not resolve: {e}")),
            }
        }
        for name in &grants.env {
            if let Ok(value) = std::env::var(name) {
                access.env.push((name.clone(), value));
            }
        }
        (access, denied)
    }
}

/// A wall clock for plugins without the grant: always the Unix epoch.
struct Epoch;

impl HostWallClock for Epoch {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// Builds the context for one store.
///
/// # Errors
///
/// [`Error::Io`] if a granted directory can no longer be opened.
pub(crate) fn context(
    access: &Access,
    stdout: &BoundedOutput,
    stderr: &BoundedOutput,
    on_denied: Option<DenialHook>,
) -> Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(Vec::<u8>::new()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_udp(false)
        // TCP sockets may be created so that every connect reaches the check below, which
        // refuses (and reports) any address not granted.
        .allow_tcp(true)
        .allow_ip_name_lookup(access.name_lookup);
    let allowed: Arc<[SocketAddr]> = access.addrs.clone().into();
    builder.socket_addr_check(move |addr, use_| {
        let ok = match use_ {
            SocketAddrUse::TcpConnect => allowed.contains(&addr),
            // A granted `connect` binds implicitly to the wildcard address; nothing else binds.
            SocketAddrUse::TcpBind => !allowed.is_empty() && addr.ip().is_unspecified() && addr.port() == 0,
            _ => false,
        };
        if !ok && let Some(hook) = &on_denied {
            hook(format!("socket {use_:?} {addr}"));
        }
        Box::pin(async move { ok })
    });
    for dir in &access.dirs {
        let guest = dir.to_string_lossy();
        builder.preopened_dir(dir, guest.as_ref(), FsPerms::ReadOnly).map_err(|e| {
            let context = format!("cannot open granted directory {}", dir.display());
            // wasmtime wraps the operating system's error: keep it as the cause.
            Error::io(
                context,
                e.downcast::<std::io::Error>().unwrap_or_else(|e| std::io::Error::other(e.to_string())),
            )
        })?;
    }
    for (name, value) in &access.env {
        builder.env(name, value);
    }
    if !access.wall_clock {
        builder.wall_clock(Epoch);
    }
    Ok(builder.build())
}

/// What the sandbox does with calls to a WASI interface (`wasi:cli/environment@0.2.6` etc.)
/// when nothing is granted, in a few words, for `ptplugin inspect` and the docs.
pub fn policy_for(interface: &str) -> &'static str {
    let name = interface.split('@').next().unwrap_or(interface);
    match name {
        "wasi:cli/environment" => "empty: no variables, no arguments (unless granted)",
        "wasi:cli/stdin" => "empty",
        "wasi:cli/stdout" | "wasi:cli/stderr" => "captured into the host log, bounded",
        "wasi:cli/exit" => "ends the call as a trap",
        n if n.starts_with("wasi:cli/terminal") => "not a terminal",
        n if n.starts_with("wasi:filesystem/") => "denied: no directories (unless granted, read-only)",
        n if n.starts_with("wasi:sockets/") => "denied: no network (unless granted, per address)",
        "wasi:clocks/wall-clock" => "reads 1970-01-01 (unless granted)",
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

    #[test]
    fn resolution_checks_directories_and_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let grants = Grants {
            read_dirs: vec![dir.path().to_path_buf(), "/definitely/not/here".into()],
            connect: vec!["127.0.0.1:9".into(), "localhost:10".into()],
            env: vec!["PATH".into(), "PTPLUGIN_SURELY_UNSET".into()],
            wall_clock: true,
            kv_quota_bytes: None,
        };
        let (access, denied) = Access::resolve(&grants);
        assert_eq!(access.dirs, vec![dir.path().to_path_buf()]);
        assert!(access.addrs.contains(&"127.0.0.1:9".parse().unwrap()));
        assert!(access.name_lookup, "localhost is a name");
        assert_eq!(access.env.len(), 1);
        assert_eq!(access.env[0].0, "PATH");
        assert_eq!(denied.len(), 1);
        assert_eq!(denied[0].capability, "read-dir /definitely/not/here");
    }
}
