//! Training: episodes over the training traces, with a learning curve.
//!
//! Episode `e` replays training trace `e mod n` with its own seed
//! (`derive_seed(seed, e)`), so Poisson noise makes episodes differ even
//! on one trace; with `agent.randomise` it replays a randomised variant of
//! that trace instead (`super::randomise`). ε follows
//! `super::AgentConfig::epsilon_at`. The scale-free design learns
//! rewards per VM of the episode's mean load (`mean λ / μ`, at least 1;
//! `QAgent::set_reward_scale`). Latencies
//! and utilization are not computed during training (they are part of
//! neither the reward nor the agent's state; see
//! [`CloudEnv::with_detail`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{randomise, AgentSetup, QAgent};
use crate::cloud::Noise;
use crate::cloud::{CloudEnv, Workload};
use crate::metrics::Totals;
use crate::policy::{self, Learner};
use crate::rng::derive_seed;

/// One row of `learning_curve.csv`: one training episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveRow {
    /// Episode, from 0.
    pub episode: u32,
    /// The training trace replayed.
    pub trace: String,
    /// ε during the episode.
    pub epsilon: f64,
    /// Total reward, USD (= −score).
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub reward: f64,
    /// VM charges, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub cost_usd: f64,
    /// Penalties, USD.
    #[serde(serialize_with = "crate::csv_number::usd")]
    pub penalty_usd: f64,
    /// SLO violations (requests).
    #[serde(serialize_with = "crate::csv_number::count")]
    pub violations: f64,
    /// violations / requests.
    pub violation_rate: f64,
    /// Mean VMs alive per step.
    pub mean_vms: f64,
}

/// A trained agent and how it got there.
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The agent, still in learning mode.
    pub agent: QAgent,
    /// One row per episode.
    pub curve: Vec<CurveRow>,
}

/// Trains a fresh agent for `config.agent.episodes` episodes over
/// `workloads` (at least one), calling `progress(done, total)` after each.
pub fn train<'a>(
    config: impl Into<AgentSetup<'a>>,
    workloads: &[Arc<Workload>],
    seed: u64,
    mut progress: impl FnMut(u32, u32),
) -> TrainOutput {
    let config: AgentSetup<'a> = config.into();
    let a = &config.agent;
    let mut agent = QAgent::new(config, seed);
    let max_steps = (a.max_episode_steps > 0).then_some(a.max_episode_steps);
    // Randomised variants peak at most at this many requests per step.
    let reach = if a.randomise {
        randomise::max_count(config)
    } else {
        0.0
    };
    let mut envs: Vec<CloudEnv> = workloads
        .iter()
        .map(|w| {
            CloudEnv::new(Arc::clone(w), config)
                .with_detail(false)
                .with_max_steps(max_steps)
                .with_memo_reach(reach * w.step_s)
        })
        .collect();
    let mut curve = Vec::with_capacity(a.episodes as usize);
    if envs.is_empty() {
        return TrainOutput { agent, curve };
    }
    for e in 0..a.episodes {
        let i = e as usize % envs.len();
        let epsilon = a.epsilon_at(e);
        agent.set_epsilon(epsilon);
        agent.set_exploring(true);
        let env = &mut envs[i];
        if a.randomise {
            let variant = randomise::episode_workload(&workloads[i], config, seed, u64::from(e));
            env.set_workload(Arc::new(variant), Noise::None);
        }
        let mean_load_vms = env.workload().mean_rps() / config.cloud.vm_capacity_rps;
        agent.set_reward_scale(1.0 / mean_load_vms.max(1.0));
        let step_s = env.workload().step_s;
        // The loop every policy runs, learning from each transition.
        let mut totals = Totals::new(step_s);
        let episode_seed = derive_seed(seed, u64::from(e));
        policy::drive(env, &mut agent, episode_seed, |l, prev, action, step| {
            totals.add(&step.info, prev.vms_total());
            l.learn(prev, action, step);
        });
        let s = totals.summary("qlearning", &workloads[i].name, seed);
        curve.push(CurveRow {
            episode: e,
            trace: s.trace,
            epsilon,
            reward: totals.reward,
            cost_usd: s.cost_usd,
            penalty_usd: s.penalty_usd,
            violations: s.violations,
            violation_rate: s.violation_rate,
            mean_vms: s.mean_vms,
        });
        progress(e + 1, a.episodes);
    }
    TrainOutput { agent, curve }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Algorithm, AlphaSchedule, Design, QInit};
    use crate::cloud::{Action, Environment};
    use crate::config::Config;
    use crate::experiment::run_with;
    use crate::policy::Policy;

    /// A workload of `rates` (requests/s per 60 s step).
    fn workload(rates: impl IntoIterator<Item = f64>) -> Arc<Workload> {
        Arc::new(Workload {
            name: "w".into(),
            start_s: 0.0,
            step_s: 60.0,
            arrivals: rates.into_iter().map(|r| r * 60.0).collect(),
        })
    }

    /// Two days of a bursty diurnal load peaking near `peak` requests/s.
    fn diurnal(peak: f64) -> Vec<f64> {
        (0..2880)
            .map(|i| {
                let day = (f64::from(i) / 1440.0 * std::f64::consts::TAU).sin();
                let ripple = (f64::from(i) * 0.37).sin() * 0.08;
                let burst = if i % 700 < 15 { 1.6 } else { 1.0 };
                peak * (0.55 + 0.35 * day + ripple) * burst / 1.6
            })
            .collect()
    }

    fn config() -> Config {
        let mut c = Config::default();
        c.workload.noise = Noise::None;
        c.cloud.vm_capacity_rps = 100.0;
        c.cloud.min_vms = 1;
        c.cloud.max_vms = 40;
        c.cloud.initial_vms = 2;
        c.agent.episodes = 30;
        c
    }

    fn greedy(config: &Config, on: &[Arc<Workload>], seed: u64) -> QAgent {
        let mut agent = train(config, on, seed, |_, _| {}).agent;
        agent.set_exploring(false);
        agent
    }

    #[test]
    fn the_trained_agent_takes_the_same_relative_decisions_at_ten_times_the_scale() {
        for design in [Design::ScaleFree, Design::Demand] {
            same_relative_decisions_at_ten_times_the_scale(design);
        }
    }

    fn same_relative_decisions_at_ten_times_the_scale(design: Design) {
        let mut config = config();
        config.agent.design = design;
        // Rounding: ceil(10 x) and 10 ceil(x) differ by less than 10; the
        // demand design also rounds the demand before scaling it by up to
        // 1 + the largest headroom.
        let slack = match design {
            Design::Demand => {
                let h = config
                    .agent
                    .headrooms
                    .iter()
                    .chain(&config.agent.episode_peak_headrooms);
                10 * (1 + h.fold(0.0_f64, |m, &x| m.max(x)).ceil() as i64) + 1
            }
            _ => 10,
        };
        // A load of up to 100 VMs and bounds that do not bind, so only
        // rounding (under 1 % of the fleet) tells the runs apart.
        config.cloud.max_vms = 200;
        let trace = workload(diurnal(10_000.0));
        let mut agent = greedy(&config, &[Arc::clone(&trace)], 3);
        let mut big = config.clone();
        big.cloud.min_vms *= 10;
        big.cloud.max_vms *= 10;
        big.cloud.initial_vms *= 10;
        // The same table, under the bounds ×10.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qtable.txt");
        std::fs::write(&path, agent.to_text()).unwrap();
        let mut agent10 = QAgent::load(&path, &big).unwrap();
        let trace10 = workload(diurnal(10_000.0).into_iter().map(|r| r * 10.0));
        // Open loop: the observations of a run, and the same ×10.
        let mut env = CloudEnv::new(Arc::clone(&trace), &config);
        let mut obs = env.reset(1);
        let mut small = agent.clone();
        let mut large = agent10.clone();
        let mut off = Vec::new();
        loop {
            let action = small.decide(&obs);
            let mut obs10 = obs;
            obs10.arrivals *= 10.0;
            obs10.arrival_rps *= 10.0;
            obs10.vms_serving *= 10;
            obs10.vms_running *= 10;
            obs10.vms_booting *= 10;
            obs10.backlog *= 10.0;
            obs10.slo_violations *= 10.0;
            obs10.dropped *= 10.0;
            let action10 = large.decide(&obs10);
            let same = match (action, action10) {
                (Action::Target(n), Action::Target(n10)) => {
                    (i64::from(n10) - 10 * i64::from(n)).abs() < slack
                }
                (a, b) => a == b,
            };
            if !same {
                off.push((obs.step, action, action10));
            }
            let step = env.step(action);
            obs = step.obs;
            if step.terminated {
                break;
            }
        }
        assert!(
            off.is_empty(),
            "{design:?}: {} decisions differ: {:?}",
            off.len(),
            &off[..off.len().min(5)]
        );
        // Closed loop, each run on its own fleet: rounding differences
        // feed back into the states, yet nearly every decision agrees.
        let small = run_with(&config, &mut agent, trace, 1).steps;
        let large = run_with(&big, &mut agent10, trace10, 1).steps;
        let agree = small
            .iter()
            .zip(&large)
            .filter(|(s, l)| (i64::from(l.target_vms) - 10 * i64::from(s.target_vms)).abs() < slack)
            .count();
        assert!(
            agree * 10 >= small.len() * 9,
            "{design:?}: {agree} of {} agree",
            small.len()
        );
        let vm_hours = |steps: &[crate::cloud::StepInfo]| -> f64 {
            steps
                .iter()
                .map(|s| f64::from(s.vms_running + s.vms_booting))
                .sum()
        };
        let ratio = vm_hours(&large) / (10.0 * vm_hours(&small));
        assert!(
            (ratio - 1.0).abs() < 0.05,
            "{design:?}: VM-hours ×{ratio} of ten times"
        );
    }

    #[test]
    fn after_a_fivefold_step_the_fleet_serves_the_new_load_within_the_boot_delay_and_two_steps() {
        for design in [Design::ScaleFree, Design::Demand] {
            fivefold_step_followed(design);
        }
    }

    fn fivefold_step_followed(design: Design) {
        let mut config = config();
        config.agent.design = design;
        let rates = |level: f64| (0..240).map(move |i| if i < 120 { level } else { 5.0 * level });
        let mut train_on = Vec::new();
        for level in [150.0, 300.0] {
            train_on.push(workload(rates(level)));
        }
        let agent = greedy(&config, &train_on, 2);
        let boot_steps = (config.cloud.boot_s / 60.0).ceil() as u64;
        for level in [120.0, 250.0, 380.0] {
            let steps = run_with(&config, &mut agent.clone(), workload(rates(level)), 1).steps;
            let need = (5.0 * level / config.cloud.vm_capacity_rps).ceil() as u32;
            let by = 120 + boot_steps + 2;
            let reached = steps
                .iter()
                .find(|s| s.step >= 120 && s.vms_running >= need)
                .map(|s| s.step);
            assert!(
                reached.is_some_and(|k| k <= by),
                "{design:?}, load {level}: {need} VMs needed by step {by}, reached at {reached:?}"
            );
            // And it stays there.
            assert!(steps[by as usize..].iter().all(|s| s.vms_running >= need));
        }
    }

    #[test]
    fn randomised_training_is_a_pure_function_of_the_seed() {
        for design in [Design::ScaleFree, Design::Demand] {
            let mut config = config();
            config.agent.design = design;
            config.agent.episodes = 12;
            config.agent.algorithm = Algorithm::DynaQ;
            config.workload.noise = Noise::Poisson;
            let on = [workload(diurnal(900.0)), workload(diurnal(300.0))];
            let a = train(&config, &on, 9, |_, _| {});
            let b = train(&config, &on, 9, |_, _| {});
            assert_eq!(format!("{:?}", a.curve), format!("{:?}", b.curve));
            assert_eq!(a.agent.to_text(), b.agent.to_text());
            let c = train(&config, &on, 10, |_, _| {});
            assert_ne!(a.agent.to_text(), c.agent.to_text(), "{design:?}");
        }
    }

    /// The first episode count after which the greedy agent holds the best
    /// fixed fleet over the second half of a constant-load run.
    fn episodes_to_settle(config: &Config, trace: &Arc<Workload>, best: u32) -> Option<u32> {
        (1..=60).find(|&episodes| {
            let mut c = config.clone();
            c.agent.episodes = episodes;
            let mut agent = greedy(&c, &[Arc::clone(trace)], 4);
            let steps = run_with(&c, &mut agent, Arc::clone(trace), 1).steps;
            steps[steps.len() / 2..]
                .iter()
                .all(|s| s.target_vms == best)
        })
    }

    #[test]
    fn dyna_q_settles_on_the_best_fixed_fleet_in_fewer_episodes_than_q_learning() {
        for (design, schedule) in [
            (Design::Legacy, AlphaSchedule::Constant),
            (Design::Demand, AlphaSchedule::Constant),
            (Design::Demand, AlphaSchedule::PriorCounts),
        ] {
            dyna_q_settles_sooner(design, schedule);
        }
    }

    fn dyna_q_settles_sooner(design: Design, schedule: AlphaSchedule) {
        let mut config = config();
        config.cloud.vm_capacity_rps = 20.0;
        config.cloud.max_vms = 12;
        config.agent.design = design;
        config.agent.alpha_schedule = schedule;
        // With the default 100 prior visits both algorithms settle after 3
        // episodes on this small problem (each update moves a Q-value by
        // at most 1 %, replayed ones too); with a lighter prior, replay
        // makes the difference.
        config.agent.prior_visits = 10.0;
        if design == Design::Demand {
            // Few actions and states: learning is quick either way, so
            // compare at a small learning rate, where replay matters.
            config.agent.alpha = 0.02;
        }
        config.agent.randomise = false;
        config.agent.init = QInit::Constant;
        config.agent.epsilon_decay = 0.8;
        let trace = workload(std::iter::repeat_n(130.0, 60));
        // The best fixed count, enumerated.
        let score = |n: u32| {
            let mut c = config.clone();
            c.cloud.initial_vms = n;
            let mut hold = crate::policy::StaticPolicy::new(n);
            run_with(&c, &mut hold, Arc::clone(&trace), 1)
                .summary
                .score_usd
        };
        let best = (1..=12)
            .min_by(|&a, &b| score(a).total_cmp(&score(b)))
            .unwrap();
        let q = episodes_to_settle(&config, &trace, best);
        config.agent.algorithm = Algorithm::DynaQ;
        let dyna = episodes_to_settle(&config, &trace, best);
        assert!(
            dyna.is_some(),
            "{design:?}, {schedule:?}: dyna-q never settles on {best} VMs"
        );
        assert!(
            dyna < q || q.is_none(),
            "{design:?}, {schedule:?}: dyna-q {dyna:?} episodes, q-learning {q:?} (best fleet {best} VMs)"
        );
    }
}
