//! The embedding API: [`PluginHost`] starts the actor tree and is the one handle Parseltongue
//! needs — `analyze`, `analyze_all`, `status`, `release`, `load`/`unload`, `shutdown`.

mod builder;
mod endpoint;
mod handle;
mod snapshot;
mod status;
mod update;

pub use builder::PluginHostBuilder;
pub use handle::PluginHost;
pub(crate) use handle::WeakHost;
pub use status::{HostStatus, PluginStatus};
