//! Progress of long transfers: a bar on a terminal, plain lines otherwise, nothing for embedders
//! who did not ask.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// How to report transfers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// Say nothing (the library default).
    #[default]
    Quiet,
    /// One line per transfer on stderr, for logs and pipes.
    Lines,
    /// A progress bar per transfer on stderr.
    Bars,
}

impl Progress {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() { Progress::Bars } else { Progress::Lines }
    }

    /// Starts reporting one transfer of `total` bytes.
    pub fn start(self, verb: &str, what: &str, total: u64) -> Transfer {
        match self {
            Progress::Quiet => Transfer { bar: None, line: None },
            Progress::Lines => {
                eprintln!("{verb} {what} ({total} bytes)");
                Transfer { bar: None, line: Some(format!("{verb} {what}")) }
            }
            Progress::Bars => {
                let bar = ProgressBar::new(total);
                bar.set_style(
                    ProgressStyle::with_template("{msg:40!} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
                        .expect("a valid template"),
                );
                bar.set_message(format!("{verb} {what}"));
                Transfer { bar: Some(bar), line: None }
            }
        }
    }
}

/// One transfer in progress.
#[derive(Debug)]
pub struct Transfer {
    bar: Option<ProgressBar>,
    line: Option<String>,
}

impl Transfer {
    /// `n` more bytes moved.
    pub fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// The transfer ended (successfully or not: `ok` says which).
    pub fn finish(self, ok: bool) {
        if let Some(bar) = self.bar {
            if ok { bar.finish() } else { bar.abandon() }
        }
        if let Some(line) = self.line {
            eprintln!("{line}: {}", if ok { "done" } else { "failed" });
        }
    }
}
