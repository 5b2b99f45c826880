//! Integration tests: run the `qscale` binary on tests/data/ and read its
//! outputs.

mod agent;
mod cli;
mod compare;
mod golden;
mod invariants;
mod plot;
mod support;
mod sweep;
mod trace_cmds;
