//! # qscale
//!
//! A laboratory for cloud autoscaling research: workload traces are
//! replayed against a model of a cloud provider (boot delays, billing,
//! M/M/c queueing latency, SLO penalties) while a policy decides, step by
//! step, how many VMs run.
//!
//! ## The layers, bottom up
//! Each layer imports only the ones below it.
//! - [`trace`]: workload traces, their CSV format, importers, resampling
//!   and generators;
//! - [`cloud`]: the environment: queueing, the fleet and its billing, the
//!   reward, and request-level serving;
//! - [`policy`] and [`agent`]: the policies (operator rules, the oracle),
//!   their registry and the episode loop every policy runs, and the
//!   tabular Q-learning agent with its training and Q-table files;
//! - [`experiment`]: one policy on one trace, step by step, and what is
//!   measured of it ([`metrics`], [`elasticity`]);
//! - [`study`]: the workflows (run, train, evaluate, compare, sweep, tune,
//!   crossval, merge, reproduce) as library functions writing results
//!   folders laid out as [`layout`] says;
//! - [`cli`]: the command line: parses arguments, calls one study, prints.
//!
//! Beside them: [`config`] (composes the sections each layer owns, with
//! their keys, units and defaults; `--set`; loading), `config_error`
//! (the errors and range checks every section uses), `plot`
//! (figures from a results folder's CSVs, read through [`layout`]),
//! `bench` (throughput figures), and the leaf utilities `rng`,
//! `stats`, [`output`], [`csv_number`] and `workers`.
#![warn(missing_docs)]

pub mod agent;
pub(crate) mod bench;
pub mod cli;
pub mod cloud;
pub mod config;
pub(crate) mod config_error;
pub mod csv_number;
pub mod elasticity;
pub mod experiment;
pub mod layout;
pub mod metrics;
pub mod output;
pub(crate) mod plot;
pub mod policy;
pub(crate) mod rng;
pub mod schema;
pub(crate) mod stats;
pub mod study;
pub mod trace;
pub(crate) mod workers;

/// The process exit code for an error: 2 when the input was at fault (a
/// config, trace, Q-table or results file that is wrong, missing or
/// unreadable; an argument; an existing output folder), 1 otherwise (an
/// output that cannot be written). Ctrl-C exits with 130 (see
/// [`cli::install_interrupt_handler`]).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|e| {
        e.is::<config::ConfigError>()
            || e.is::<trace::TraceError>()
            || e.is::<study::UsageError>()
            || e.is::<output::OutputExists>()
            || e.is::<output::OtherJob>()
            || e.is::<output::FolderInUse>()
            || e.is::<output::CorruptResults>()
            || e.is::<agent::QTableError>()
            || e.is::<plot::PlotError>()
    });
    if bad_input {
        2
    } else {
        1
    }
}
