//! What a plugin may do and use, decided before anything runs: the limits a call runs under
//! ([`Limits`]), what a plugin asks for (`plugin.toml`, [`manifest`]), what the operator allows
//! ([`Policy`]) and the decision between the two ([`Decision`]), and whose signatures the host
//! trusts ([`TrustPolicy`]).
//!
//! Plain data, parsing and pure decisions: no engine, no I/O beyond reading the file it is
//! given. Imports `contract`, `graph` and the foundation only; the sandbox enforces what is
//! decided here, and `distribution` verifies signatures against the trust policy.

mod host_policy;
mod limits;
pub mod manifest;
mod target;
mod trust;

pub use host_policy::{Allowance, Decision, Denied, Grants, Policy};
pub use limits::{KIB, Limits, MIB};
pub(crate) use manifest::check_name;
pub use manifest::{Capabilities, Manifest, RequestedLimits};
pub use target::parse_target;
pub(crate) use target::same_target;
pub use trust::{Check, Require, TrustPolicy, TrustedIdentity, Verdict};
