//! Integration tests: run the `qscale` binary on tests/data/ and read its
//! outputs.

mod agent;
mod bench;
mod catalogue;
mod cli;
mod compare;
mod crossval;
mod des;
mod docs;
mod edges;
mod elasticity;
mod fuzz;
mod golden;
mod interrupt;
mod invariants;
mod memory;
mod paths;
mod plot;
mod schema;
mod support;
mod sweep;
mod trace_cmds;
mod tune;
mod validate;
