//! Progress bars for the studies' [`Progress`] reports: drawn on a
//! terminal (stderr), nothing otherwise.

use std::sync::Mutex;

use crate::study::Progress;

/// The bar of the running phase, if any.
#[derive(Default)]
pub(super) struct Bar(Mutex<Option<indicatif::ProgressBar>>);

impl Bar {
    fn with(&self, f: impl FnOnce(&indicatif::ProgressBar)) {
        if let Ok(bar) = self.0.lock() {
            if let Some(bar) = bar.as_ref() {
                f(bar);
            }
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: usize) {
        if let Ok(mut bar) = self.0.lock() {
            *bar = Some(progress_bar(total as u64, what));
        }
    }

    fn update(&self, done: usize, total: usize) {
        self.with(|bar| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
    }

    fn finish(&self) {
        self.with(indicatif::ProgressBar::finish_and_clear);
    }
}

/// A progress bar on a terminal, nothing otherwise.
fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}
