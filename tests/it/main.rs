//! Integration tests: run the `qscale` binary on tests/data/ and read its
//! outputs.

mod agent;
mod cli;
mod compare;
mod invariants;
mod support;
