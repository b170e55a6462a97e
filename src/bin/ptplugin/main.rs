//! `ptplugin`: the command-line face of parseltongue-plugins. Thin: parsing, dispatch, output.

mod args;
mod audit;
mod demo;
mod inspect;
mod policy;
mod report;
mod run;
mod soak;

use std::process::ExitCode;

use clap::Parser;
use parseltongue_plugins::{Error, Sandbox};

use args::{Cli, Command};
use report::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli);
    let format = match &cli.command {
        Command::Run(a) => a.format,
        Command::Inspect(a) => a.format,
        Command::Demo(a) => a.format,
        Command::Soak(a) => a.format,
        Command::Policy(args::PolicyCommand::Check(a)) => a.format,
        Command::Audit(args::AuditCommand::Verify(a)) => a.format,
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(format),
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    let sandbox = sandbox(&cli)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io { context: "cannot start the async runtime".into(), source: e })?;
    match cli.command {
        Command::Run(args) => runtime.block_on(run::run(&sandbox, args)),
        Command::Inspect(args) => inspect::inspect(&sandbox, args),
        Command::Demo(args) => runtime.block_on(demo::demo(&sandbox, args)),
        Command::Soak(args) => runtime.block_on(soak::soak(&sandbox, args)),
        Command::Policy(args::PolicyCommand::Check(args)) => policy::check(args),
        Command::Audit(args::AuditCommand::Verify(args)) => audit::verify(args),
    }
}

fn sandbox(cli: &Cli) -> Result<Sandbox, Error> {
    let builder = Sandbox::builder();
    let builder = match (&cli.cache_dir, cli.no_cache) {
        (_, true) => builder.no_cache(),
        (Some(dir), false) => builder.cache_dir(dir),
        (None, false) => builder,
    };
    builder.build()
}

/// Logs go to stderr. Under `run`, the plugin's own messages (target `ptplugin::guest`) show
/// from info up; the demo keeps its many plugins' chatter out of the way unless asked.
fn init_tracing(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) if matches!(cli.command, Command::Run(_)) => "warn,ptplugin::guest=info",
        (false, 0) => "warn,ptplugin::guest=error",
        (false, 1) => "debug,cranelift=info,wasmtime=info",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PTPLUGIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
