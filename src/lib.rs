//! # qscale
//!
//! A laboratory for cloud autoscaling research: workload traces are
//! replayed against a model of a cloud provider (boot delays, billing,
//! M/M/c queueing latency, SLO penalties) while a policy decides, step by
//! step, how many VMs run.
//!
//! A guide to the model, in reading order:
//! - [`trace`]: workload traces, their CSV format, resampling, generators;
//! - [`cloud`]: the environment: queueing, the fleet and its billing, the
//!   reward;
//! - [`policy`]: the policies (baselines), their registry and the episode
//!   loop every policy runs;
//! - [`agent`]: the tabular Q-learning agent, its training and Q-table files;
//! - [`experiment`], [`metrics`] and [`elasticity`]: runs and what is
//!   measured;
//! - [`config`]: the sections composed, `--set`, loading; each layer owns
//!   its section (every key, its unit and default), validated with
//!   [`config_error`].
#![warn(missing_docs)]

pub mod agent;
pub mod bench;
pub mod cli;
pub mod cloud;
pub mod compare;
pub mod config;
pub mod config_error;
pub mod crossval;
pub mod csv_number;
pub mod elasticity;
pub mod experiment;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod policy;
pub mod rng;
pub mod stats;
pub mod sweep;
pub mod trace;
pub mod tune;
pub mod workers;

/// The process exit code for an error: 2 when the input was at fault (a
/// config, trace, Q-table or results file that is wrong, missing or
/// unreadable; an argument; an existing output folder), 1 otherwise (an
/// output that cannot be written). Ctrl-C exits with 130 (see
/// [`cli::install_interrupt_handler`]).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|e| {
        e.is::<config::ConfigError>()
            || e.is::<trace::TraceError>()
            || e.is::<cli::UsageError>()
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
