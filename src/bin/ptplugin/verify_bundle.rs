//! `ptplugin verify-bundle`: the Sigstore client conformance interface. Exit 0 = verified,
//! 1 = rejected, 2 = unusable input (unreadable file, bad arguments).

use std::process::ExitCode;

use parseltongue_plugins::distribution::bundle::{self, RootSource, Signer, Subject};
use parseltongue_plugins::files;

use crate::args::VerifyBundleArgs;
use crate::output;
use crate::report::Failure;

pub fn verify(args: VerifyBundleArgs) -> Result<ExitCode, Failure> {
    let source = match (&args.trusted_root, args.staging) {
        (Some(path), _) => RootSource::File(path.clone()),
        (None, true) => RootSource::Staging,
        (None, false) => RootSource::Production,
    };
    let root = bundle::trusted_root(&source)?;
    let signer = match (&args.key, &args.certificate_identity, &args.certificate_oidc_issuer) {
        (Some(key), _, _) => Signer::Key(files::read_text(key, "key", files::MAX_TEXT_BYTES)?),
        (None, Some(identity), Some(issuer)) => {
            Signer::Identity { identity: identity.clone(), issuer: issuer.clone() }
        }
        _ => unreachable!("clap requires --key or an identity with an issuer"),
    };
    let json = bundle::read(&args.bundle)?;
    bundle::check_inputs(&json, &signer)?;
    let subject = Subject::parse(&args.file_or_digest);
    let verified = bundle::verify(&json, &subject, &signer, &root)?;
    let mut line = format!("OK: {}", args.file_or_digest);
    if let (Some(identity), Some(issuer)) = (&verified.identity, &verified.issuer) {
        line.push_str(&format!(" signed by {identity} ({issuer})"));
    }
    if let Some(time) = &verified.integrated_time {
        line.push_str(&format!(", logged {time}"));
    }
    output::print_text(&format!("{line}\n"))?;
    Ok(ExitCode::SUCCESS)
}
