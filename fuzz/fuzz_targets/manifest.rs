//! `plugin.toml` from a stranger: parsed or refused with a typed error, never a panic; whatever
//! parses validates its capabilities without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parseltongue_plugins::Manifest;

fuzz_target!(|text: &str| {
    if let Ok(manifest) = Manifest::parse(text, std::path::Path::new("plugin.toml")) {
        let _ = manifest.capabilities.validate();
        let _ = manifest.capabilities.requested();
        let _ = manifest.component_path(std::path::Path::new("/plugins/x/plugin.toml"));
    }
});
