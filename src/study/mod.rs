//! The studies: what a command of the CLI does, as library functions.
pub mod compare;
pub mod crossval;
pub mod sweep;
pub mod tune;
