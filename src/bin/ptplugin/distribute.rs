//! `push`, `pull`, `verify`, `keygen`, `sign`, `update`, `rollback`, `list`: plugins in OCI
//! registries and the local store.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use parseltongue_plugins::audit::AuditLog;
use parseltongue_plugins::distribution::{Distribution, Update, signing};
use parseltongue_plugins::{Error, Limits, Manifest, Policy, RequestedLimits, files};

use crate::args::{
    KeygenArgs, ListArgs, PullArgs, PushArgs, RollbackArgs, SignArgs, StoreArgs, TrustArgs, UpdateArgs,
};
use crate::output::{self, ArtifactOutput, ListOutput, Output, PushOutput, UpdateItem, UpdatesOutput};
use crate::plugin_source::{StoreUse, distribution, manifest_path, read_plugin};
use crate::report::{self, Failure};

/// The environment variable holding the private key password, as cosign names it.
const PASSWORD_ENV: &str = "COSIGN_PASSWORD";

/// A distribution trusting what `trust` names, recording verdicts in its audit trail (returned
/// too, to be closed when the command ends).
fn trusted_distribution(
    store: &StoreArgs,
    trust: &TrustArgs,
    offline: bool,
) -> Result<(Distribution, Option<AuditLog>), Error> {
    let audit = open_audit(trust.audit.as_deref())?;
    let d =
        distribution(store, trust.policy.as_deref(), &trust.key, offline, audit.clone(), StoreUse::Write)?;
    Ok((d, audit))
}

fn open_audit(path: Option<&Path>) -> Result<Option<AuditLog>, Error> {
    path.map(AuditLog::open).transpose()
}

fn close_audit(audit: Option<AuditLog>) {
    if let Some(audit) = audit {
        audit.close();
    }
}

/// The component bytes and `plugin.toml` text for a push.
fn plugin_for_push(args: &PushArgs) -> Result<(Vec<u8>, String), Error> {
    if let Some(path) = manifest_path(&args.plugin) {
        let manifest = Manifest::from_path(&path)?;
        let text =
            String::from_utf8_lossy(&files::read(&path, "manifest", files::MAX_TEXT_BYTES)?).into_owned();
        let bytes = files::read_component(&manifest.component_path(&path)?)?;
        return Ok((bytes, text));
    }
    let (name, bytes) = read_plugin(&args.plugin)?;
    let tag_version = args
        .reference
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .and_then(|(_, tag)| semver::Version::parse(tag.trim_start_matches('v')).ok());
    let version = args.version.clone().or(tag_version).ok_or_else(|| Error::InvalidManifest {
        path: args.plugin.clone(),
        message: "a plugin without plugin.toml needs --version or a semver tag".into(),
    })?;
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    Ok((bytes.into_owned(), format!("name = \"{name}\"\nversion = \"{version}\"\n")))
}

pub async fn push(args: PushArgs) -> Result<ExitCode, Failure> {
    let (component, text) = plugin_for_push(&args)?;
    let d = distribution(&args.store, None, &[], false, None, StoreUse::Write)?;
    let pinned = d.push(component, &text, &args.reference).await?;
    output::print(args.format, &PushOutput { pushed: pinned })?;
    Ok(ExitCode::SUCCESS)
}

/// `pull` installs; `verify` only checks (both fetch into the store unless offline).
pub async fn pull(args: PullArgs, install: bool) -> Result<ExitCode, Failure> {
    let (d, audit) = trusted_distribution(&args.store, &args.trust, args.offline)?;
    let result = if install { d.install(&args.reference).await } else { d.pull(&args.reference).await };
    close_audit(audit);
    let artifact = result?;
    let out = ArtifactOutput {
        name: &artifact.manifest().name,
        version: artifact.manifest().version.to_string(),
        reference: artifact.pinned(),
        digest: artifact.digest(),
        verdict: artifact.verdict(),
        installed: install,
    };
    output::print(args.format, &out)?;
    Ok(ExitCode::SUCCESS)
}

impl Output for PushOutput {
    fn text(&self) -> String {
        format!("pushed {}\n", self.pushed)
    }
}

impl Output for ArtifactOutput<'_> {
    fn text(&self) -> String {
        let verb = if self.installed { "installed" } else { "verified" };
        let mut out = String::new();
        let _ = writeln!(out, "{verb} {} {} ({})", self.name, self.version, self.reference);
        let _ = writeln!(out, "trust: {}", self.verdict.summary);
        for check in &self.verdict.checks {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                if check.ok { "ok  " } else { "FAIL" },
                check.anchor,
                check.detail
            );
        }
        out
    }
}

fn password() -> Result<String, Error> {
    std::env::var(PASSWORD_ENV).map_err(|_| Error::Usage {
        message: format!("set {PASSWORD_ENV} to the key's password (it may be empty)"),
    })
}

pub fn keygen(args: KeygenArgs) -> Result<ExitCode, Failure> {
    let prefix = args.output_key_prefix.display().to_string();
    let (key_path, pub_path) =
        (PathBuf::from(format!("{prefix}.key")), PathBuf::from(format!("{prefix}.pub")));
    for path in [&key_path, &pub_path] {
        if path.exists() && !args.force {
            return Err(Error::Usage {
                message: format!("{} exists (use --force to overwrite)", path.display()),
            }
            .into());
        }
    }
    let (private, public) = signing::generate_key_pair(password()?.as_bytes())?;
    write_private(&key_path, private.as_bytes())?;
    std::fs::write(&pub_path, public)
        .map_err(|e| Error::Io { context: format!("cannot write {}", pub_path.display()), source: e })?;
    output::print_text(&format!(
        "Private key written to {}\nPublic key written to {}\n",
        key_path.display(),
        pub_path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::Io { context: format!("cannot write {}", path.display()), source: e })
}

pub async fn sign(args: SignArgs) -> Result<ExitCode, Failure> {
    let d = distribution(&args.store, None, &[], false, None, StoreUse::Write)?;
    let read = |p: &Path| files::read(p, "file", files::MAX_TEXT_BYTES);
    let tag = match (&args.key, &args.bundle) {
        (Some(key), _) => {
            let pem = read(key)?;
            let password =
                if String::from_utf8_lossy(&pem).contains("ENCRYPTED") { password()? } else { String::new() };
            d.sign(&args.reference, &pem, password.as_bytes()).await?
        }
        (None, Some(bundle)) => {
            let json = String::from_utf8_lossy(&read(bundle)?).into_owned();
            d.attach_bundle(&args.reference, &json).await?
        }
        (None, None) => unreachable!("clap requires --key or --bundle"),
    };
    output::print_text(&format!("signature stored at {tag}\n"))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn update(args: UpdateArgs) -> Result<ExitCode, Failure> {
    let (d, audit) = trusted_distribution(&args.store, &args.trust, false)?;
    let outcomes = d.update(args.name.as_deref()).await;
    close_audit(audit);
    let outcomes = outcomes?;
    let policy = args.trust.policy.as_deref().map(Policy::from_path).transpose()?;
    let failed = outcomes.iter().any(Result::is_err);
    let updates = outcomes
        .iter()
        .map(|o| match o {
            Ok(u) => UpdateItem::Updated(u),
            Err(e) => UpdateItem::Failed { error: report::error_json(e) },
        })
        .collect();
    output::print(args.format, &UpdatesOutput { updates, policy: policy.as_ref() })?;
    Ok(if failed { ExitCode::from(report::PLUGIN_FAILED) } else { ExitCode::SUCCESS })
}

impl Output for UpdatesOutput<'_> {
    fn text(&self) -> String {
        let mut out = String::new();
        if self.updates.is_empty() {
            out.push_str("everything is up to date\n");
        }
        for item in &self.updates {
            match item {
                UpdateItem::Updated(u) => {
                    let _ = writeln!(out, "updated {} {} -> {}", u.name, u.from, u.to);
                    if u.capability_diff.is_empty() {
                        let _ = writeln!(out, "  capabilities: unchanged");
                    }
                    for line in &u.capability_diff {
                        let _ = writeln!(out, "  capability {line}{}", grant_note(self.policy, u, line));
                    }
                }
                UpdateItem::Failed { error } => {
                    let _ = writeln!(out, "error[{}]: {}", error.kind, error.message);
                }
            }
        }
        out
    }
}

/// What the host policy says about a capability the new version added.
fn grant_note(policy: Option<&Policy>, update: &Update, line: &str) -> String {
    let Some(added) = line.strip_prefix("+ ") else { return String::new() };
    let Some(policy) = policy else { return " (granted only if the host policy allows it)".into() };
    let decision =
        policy.decide(&update.name, &update.requested, &RequestedLimits::default(), &Limits::default());
    let kind = added.split(' ').next().unwrap_or(added);
    match decision
        .denied
        .iter()
        .find(|d| d.capability == added || d.capability.split(' ').next() == Some(kind))
    {
        Some(denied) => format!(" (NOT granted by the policy: {})", denied.why),
        None => " (granted by the policy)".into(),
    }
}

pub fn rollback(args: RollbackArgs) -> Result<ExitCode, Failure> {
    let audit = open_audit(args.audit.as_deref())?;
    let d = distribution(&args.store, None, &[], true, audit.clone(), StoreUse::Write)?;
    let result = d.rollback(&args.name);
    close_audit(audit);
    let release = result?;
    output::print_text(&format!("{} is back at {} ({})\n", args.name, release.version, release.reference))?;
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: ListArgs) -> Result<ExitCode, Failure> {
    let d = distribution(&args.store, None, &[], true, None, StoreUse::ReadOnly)?;
    let installed = d.installed()?;
    output::print(args.format, &ListOutput(&installed))?;
    Ok(ExitCode::SUCCESS)
}

impl Output for ListOutput<'_> {
    fn text(&self) -> String {
        let mut out = String::new();
        if self.0.is_empty() {
            out.push_str("no plugins installed\n");
        }
        for (name, entry) in self.0 {
            let current = entry.current.as_ref().map(|c| format!("{} ({})", c.version, c.reference));
            let _ = writeln!(out, "{name} {}", current.unwrap_or_else(|| "-".into()));
            for old in entry.history.iter().rev() {
                let _ = writeln!(out, "  previously {}", old.version);
            }
        }
        out
    }
}
