//! How many worker threads parallel work uses (`--jobs`).
//!
//! Every command that runs cells in parallel takes `--jobs N`; results
//! never depend on it (cells are independent and written in a fixed order).

use anyhow::{Context, Result};

/// Runs `work` on a pool of `jobs` threads, or on rayon's global pool
/// (one thread per core) when `jobs` is `None`.
///
/// # Errors
/// The pool's threads could not be started.
pub(crate) fn with_workers<T: Send>(
    jobs: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T> {
    match jobs {
        Some(jobs) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build()
            .context("starting worker threads")?
            .install(work)),
        None => Ok(work()),
    }
}

/// Parses a `--jobs` value: a whole number ≥ 1.
///
/// # Errors
/// A message for clap to print (exit code 2).
pub(crate) fn parse_jobs(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a whole number of worker threads ≥ 1, got `{text}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_must_be_a_positive_whole_number() {
        assert_eq!(parse_jobs("3"), Ok(3));
        assert!(parse_jobs("0").is_err());
        assert!(parse_jobs("-1").is_err());
        assert!(parse_jobs("two").is_err());
    }

    #[test]
    fn a_pool_of_n_runs_on_n_threads() {
        let n = with_workers(Some(3), rayon::current_num_threads).unwrap();
        assert_eq!(n, 3);
    }
}
