//! Criterion benchmarks of the hot paths: the environment step, the
//! queueing formulas (the Erlang B chain is one dependent division per
//! server), a Q-learning training step and the trace parser.
//! Run with `cargo bench`; `qscale bench` gives end-to-end figures.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qscale::agent::{train, QAgent};
use qscale::cloud::queueing::{erlang_b, erlang_c, Mmc, TailPoint};
use qscale::cloud::{Action, CloudEnv, Environment, Workload};
use qscale::config::Config;
use qscale::policy::{Learner, Policy};
use qscale::trace::{read_csv_from, write_csv, Trace};

fn workload(steps: usize) -> Arc<Workload> {
    Arc::new(Workload {
        name: "bench".into(),
        start_s: 0.0,
        step_s: 60.0,
        arrivals: (0..steps)
            .map(|i| 60.0 * (60.0 + 50.0 * ((i as f64) / 200.0).sin()))
            .collect(),
    })
}

fn step(c: &mut Criterion) {
    let config = Config::default();
    let mut env = CloudEnv::new(workload(10_000), &config).with_p95(false);
    env.reset(1);
    let mut k = 0u32;
    c.bench_function("env_step", |b| {
        b.iter(|| {
            k += 1;
            if k % 10_000 == 0 {
                env.reset(u64::from(k));
            }
            black_box(env.step(Action::Target(6 + k % 3)))
        })
    });
    // As in training: no latency metrics, and from the second episode on
    // the environment's memo of stable queues.
    let mut env = CloudEnv::new(workload(10_000), &config).with_detail(false);
    env.reset(1);
    env.reset(2);
    let mut k = 0u32;
    c.bench_function("env_step_training", |b| {
        b.iter(|| {
            k += 1;
            if k % 10_000 == 0 {
                env.reset(u64::from(k));
            }
            black_box(env.step(Action::Target(6 + k % 3)))
        })
    });
}

fn queueing(c: &mut Criterion) {
    c.bench_function("erlang_c_c8", |b| {
        b.iter(|| erlang_c(black_box(8), black_box(6.3)))
    });
    c.bench_function("erlang_c_c1000", |b| {
        b.iter(|| erlang_c(black_box(1000), black_box(950.0)))
    });
    // One dependent chain of `c` divisions: the time grows by one
    // division latency (+ a multiply and an add) per server.
    let mut group = c.benchmark_group("erlang_b_chain");
    for servers in [4u32, 8, 16, 32] {
        group.bench_function(format!("c{servers}"), |b| {
            b.iter(|| erlang_b(black_box(servers), black_box(0.6 * f64::from(servers))))
        });
    }
    group.finish();
    let q = Mmc::new(8, 126.0, 20.0).unwrap_or_else(|| unreachable!());
    c.bench_function("response_tail", |b| {
        b.iter(|| black_box(&q).response_tail(black_box(0.5)))
    });
    let slo = TailPoint::new(20.0, 0.5);
    c.bench_function("response_tail_at_slo", |b| {
        b.iter(|| black_box(&q).response_tail_at(black_box(&slo)))
    });
    c.bench_function("p95", |b| b.iter(|| black_box(&q).p95_s()));
}

fn q_learning(c: &mut Criterion) {
    let mut config = Config::default();
    config.agent.episodes = 1;
    let w = workload(7_200);
    let mut group = c.benchmark_group("train");
    group.throughput(Throughput::Elements(w.len() as u64));
    group.bench_function("episode_7200_steps", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            black_box(
                train(&config, std::slice::from_ref(&w), seed, |_, _| {})
                    .curve
                    .len(),
            )
        })
    });
    // Twenty episodes: the environment's memo warms up after the first.
    let mut long = config.clone();
    long.agent.episodes = 20;
    group.throughput(Throughput::Elements(20 * w.len() as u64));
    group.sample_size(10);
    group.bench_function("20_episodes_7200_steps", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            black_box(
                train(&long, std::slice::from_ref(&w), seed, |_, _| {})
                    .curve
                    .len(),
            )
        })
    });
    group.finish();
    let mut agent = QAgent::new(&config, 1);
    let mut env = CloudEnv::new(w, &config).with_detail(false);
    let obs = env.reset(1);
    c.bench_function("agent_decide", |b| {
        b.iter(|| black_box(agent.decide(black_box(&obs))))
    });
    // One Q update: decide, step, learn (the environment restarts when
    // its episode ends).
    let mut obs = env.reset(2);
    c.bench_function("agent_decide_step_learn", |b| {
        b.iter(|| {
            let action = agent.decide(&obs);
            let step = env.step(action);
            agent.learn(&obs, action, &step);
            obs = if step.terminated {
                env.reset(3)
            } else {
                step.obs
            };
        })
    });
}

fn parser(c: &mut Criterion) {
    let trace = Trace {
        name: "day".into(),
        start_s: 0.0,
        interval_s: 1.0,
        requests: (0..86_400).map(|i| f64::from(i % 97)).collect(),
    };
    let mut bytes = Vec::new();
    write_csv(&trace, &mut bytes).unwrap_or_default();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("native_csv_day_at_1s", |b| {
        b.iter(|| {
            black_box(read_csv_from(&bytes[..], Path::new("day.csv")).map(|t| t.requests.len()))
        })
    });
    group.finish();
}

/// The request-level simulation: requests per second on one core, on a
/// loaded fleet (20 VMs at 80 % utilization, one-minute steps) with
/// exponential and log-normal service on the shared queue, and
/// exponential service behind the round-robin and JSQ balancers.
fn des(c: &mut Criterion) {
    use qscale::cloud::des::{Balancer, DesParams, DesQueue, ServiceTime};
    use rand::SeedableRng;
    let steps = 100u64;
    let per_step = 20 * 10 * 60 * 8 / 10;
    let mut group = c.benchmark_group("des");
    group.throughput(Throughput::Elements(steps * per_step));
    for (name, service, balancer) in [
        ("exponential", ServiceTime::Exponential, Balancer::Shared),
        (
            "log_normal_cv2",
            ServiceTime::LogNormal { cv: 2.0 },
            Balancer::Shared,
        ),
        (
            "exponential_round_robin",
            ServiceTime::Exponential,
            Balancer::RoundRobin,
        ),
        ("exponential_jsq", ServiceTime::Exponential, Balancer::Jsq),
    ] {
        group.bench_function(format!("{name}_20_vms"), |b| {
            let params = DesParams {
                service_rps: 10.0,
                service,
                slo_s: 0.5,
                timeout_s: 30.0,
                balancer,
            };
            b.iter(|| {
                let mut queue = DesQueue::new(params);
                let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
                for _ in 0..steps {
                    black_box(queue.step(per_step, 20, 60.0, &mut rng));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, step, queueing, q_learning, parser, des);
criterion_main!(benches);
