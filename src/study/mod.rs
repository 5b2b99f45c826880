//! The studies: what a command of the CLI does, as library functions.
pub mod compare;
pub mod crossval;
pub mod sweep;
pub mod tune;

/// A mistake in how a study was asked for (an argument, a missing input
/// folder, an option that does not fit): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
