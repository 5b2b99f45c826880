//! Configuration errors and the range checks every section's `validate`
//! uses. A leaf: each layer validates the section it owns with these, and
//! the `config` module composes the sections; nothing here knows a section.

use std::path::PathBuf;

/// A configuration problem: the file, the key or the `--set` at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {}", .path.display())]
    Io {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed, a key is unknown or a value has the wrong type.
    #[error("{}: {message}", .origin)]
    Parse {
        /// The file name, or the `--set` that introduced the problem.
        origin: String,
        /// What the TOML parser said, with line and column for files.
        message: String,
    },
    /// A `--set` argument is not of the form `section.key=value`.
    #[error("--set {arg}: {reason}")]
    BadOverride {
        /// The argument as given.
        arg: String,
        /// Why it was refused.
        reason: String,
    },
    /// A number lies outside its valid range.
    #[error("{field} = {} is out of range: must be {range}", compact(*.value))]
    OutOfRange {
        /// The key, as `section.key`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words.
        range: &'static str,
    },
    /// Two or more keys contradict each other.
    #[error("{0}")]
    Inconsistent(String),
}

/// A number as a person would write it: `1e300` rather than 301 digits.
pub(crate) fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e15 || (magnitude > 0.0 && magnitude < 1e-6) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// The error for `field = value` outside `range` (in words).
pub(crate) fn out_of_range(field: &'static str, value: f64, range: &'static str) -> ConfigError {
    ConfigError::OutOfRange {
        field,
        value,
        range,
    }
}

/// `Ok` when `value` is finite and > 0.
///
/// # Errors
/// [`ConfigError::OutOfRange`] naming `field`.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(out_of_range(field, value, "finite and > 0"))
    }
}

/// `Ok` when `value` is finite and ≥ 0.
///
/// # Errors
/// [`ConfigError::OutOfRange`] naming `field`.
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(out_of_range(field, value, "finite and >= 0"))
    }
}
