//! `qscale bench --against OTHER`: this binary's figures against another
//! qscale binary's (an older build, say), measured in one run on the same
//! machine.
//!
//! On a shared machine the rates of two `bench` runs made minutes apart
//! drift by more than the change being measured (±15 % on a 2-vCPU
//! guest). Here both binaries run `bench` as child processes, round after
//! round, the order alternating (this, other; other, this; …), so each
//! round's two runs are as close in time as they can be. A figure's ratio
//! is taken within each round and summarised by its median over the
//! rounds, with the range. Where both runs of a round state a rate per
//! second their thread ran on a core (Linux), that rate is compared, since
//! it does not count time spent waiting for a core; otherwise the
//! wall-clock rate.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::ON_A_CORE;
use crate::study::UsageError;

/// One figure as `bench` prints it: `name=value unit  # detail`, the
/// detail ending in `; X per second on a core (…)` where the system tells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Printed {
    pub name: String,
    pub unit: String,
    /// Per wall-clock second.
    pub wall: f64,
    /// Per second the measuring thread ran, where stated.
    pub cpu: Option<f64>,
}

/// The figures in `bench`'s text output (lines that do not parse as a
/// figure are skipped).
pub(crate) fn parse(text: &str) -> Vec<Printed> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Printed> {
    let (figure, detail) = line.split_once("  # ").unwrap_or((line, ""));
    let (name, rest) = figure.split_once('=')?;
    let (value, unit) = rest.trim().split_once(' ')?;
    let wall: f64 = value.parse().ok()?;
    let cpu = detail
        .rsplit_once(ON_A_CORE)
        .and_then(|(before, _)| before.rsplit(' ').next())
        .and_then(|x| x.parse::<f64>().ok())
        .filter(|x| x.is_finite() && *x > 0.0);
    let name = name.trim();
    (!name.is_empty() && !name.contains(' ')).then(|| Printed {
        name: name.to_string(),
        unit: unit.trim().to_string(),
        wall,
        cpu,
    })
}

/// One figure compared over the rounds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparison {
    pub name: String,
    pub unit: String,
    /// This binary's median rate.
    pub this: f64,
    /// The other binary's median rate.
    pub other: f64,
    /// The median of the per-round ratios this / other.
    pub ratio: f64,
    /// The lowest per-round ratio.
    pub ratio_min: f64,
    /// The highest per-round ratio.
    pub ratio_max: f64,
    /// Whether every round compared rates per second on a core.
    pub per_core: bool,
}

/// What a comparison found: the figures both binaries measured, and the
/// names only one of them printed.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Outcome {
    pub figures: Vec<Comparison>,
    pub only_this: Vec<String>,
    pub only_other: Vec<String>,
}

/// Compares rounds of paired runs, `rounds[r] = (this, other)`.
pub(crate) fn compare(rounds: &[(Vec<Printed>, Vec<Printed>)]) -> Outcome {
    let Some((first_this, first_other)) = rounds.first() else {
        return Outcome::default();
    };
    let in_every_round = |name: &str| {
        rounds
            .iter()
            .all(|(a, b)| a.iter().any(|f| f.name == name) && b.iter().any(|f| f.name == name))
    };
    let figures = first_this
        .iter()
        .filter(|f| in_every_round(&f.name))
        .map(|f| {
            // invariant: `in_every_round` checked both sides.
            let find = |side: &[Printed]| -> Printed {
                side.iter()
                    .find(|x| x.name == f.name)
                    .cloned()
                    .expect("figure in every round")
            };
            let pairs: Vec<(Printed, Printed)> =
                rounds.iter().map(|(a, b)| (find(a), find(b))).collect();
            // One kind of rate for every round: per core only where all
            // state it.
            let per_core = pairs
                .iter()
                .all(|(a, b)| a.cpu.is_some() && b.cpu.is_some());
            let rate = |p: &Printed| {
                if per_core {
                    p.cpu.unwrap_or(p.wall)
                } else {
                    p.wall
                }
            };
            let mut this: Vec<f64> = pairs.iter().map(|(a, _)| rate(a)).collect();
            let mut other: Vec<f64> = pairs.iter().map(|(_, b)| rate(b)).collect();
            let mut ratios: Vec<f64> = pairs.iter().map(|(a, b)| rate(a) / rate(b)).collect();
            // `median` sorts: the range is then the ends.
            let ratio = median(&mut ratios);
            Comparison {
                name: f.name.clone(),
                unit: f.unit.clone(),
                this: median(&mut this),
                other: median(&mut other),
                ratio,
                ratio_min: ratios[0],
                ratio_max: ratios[ratios.len() - 1],
                per_core,
            }
        })
        .collect();
    let only = |side: &[Printed]| {
        side.iter()
            .filter(|f| !in_every_round(&f.name))
            .map(|f| f.name.clone())
            .collect()
    };
    Outcome {
        figures,
        only_this: only(first_this),
        only_other: only(first_other),
    }
}

/// The comparison as printed: a header, one line per figure, and the
/// figures only one binary measured.
pub(crate) fn render(outcome: &Outcome, other: &Path, rounds: u32, seconds: f64) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "# this binary against {}: {rounds} round(s) of `bench --seconds {seconds}`, order \
         alternating; medians over the rounds\n",
        other.display()
    );
    for c in &outcome.figures {
        let _ = writeln!(
            out,
            "{}: this/other {:.3} (rounds {:.3}–{:.3}); this {:.4e}, other {:.4e} {}{}",
            c.name,
            c.ratio,
            c.ratio_min,
            c.ratio_max,
            c.this,
            c.other,
            c.unit,
            if c.per_core { " on a core" } else { "" }
        );
    }
    for (who, names) in [
        ("this binary", &outcome.only_this),
        ("the other", &outcome.only_other),
    ] {
        if !names.is_empty() {
            let _ = writeln!(out, "# only {who} measured: {}", names.join(", "));
        }
    }
    out
}

/// The median (the mean of the middle two for an even count); sorts
/// `values`.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// Runs `binary bench --seconds S` in the working directory and returns
/// its figures.
///
/// # Errors
/// The binary cannot be started, fails, or prints no figure.
pub(crate) fn run_bench_of(binary: &Path, seconds: f64) -> Result<Vec<Printed>> {
    let output = Command::new(binary)
        .args(["bench", "--seconds", &seconds.to_string()])
        .output()
        .map_err(|e| {
            UsageError(format!(
                "--against {}: cannot run it: {e}",
                binary.display()
            ))
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        anyhow::bail!(
            "`{} bench` failed ({}){}",
            binary.display(),
            output.status,
            if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            }
        );
    }
    let figures = parse(&stdout);
    if figures.is_empty() {
        return Err(UsageError(format!(
            "--against {}: its `bench` printed no figure (`name=value unit` lines): is it a qscale binary?",
            binary.display()
        ))
        .into());
    }
    Ok(figures)
}

/// `rounds` rounds of `this` and `other` running `bench --seconds S`, the
/// order alternating; `progress(done, total)` after each round.
///
/// # Errors
/// See [`run_bench_of`].
pub(crate) fn run_rounds(
    this: &Path,
    other: &Path,
    rounds: u32,
    seconds: f64,
    mut progress: impl FnMut(u32, u32),
) -> Result<Vec<(Vec<Printed>, Vec<Printed>)>> {
    let mut out = Vec::new();
    for r in 0..rounds {
        let pair = if r % 2 == 0 {
            let a = run_bench_of(this, seconds)?;
            (a, run_bench_of(other, seconds)?)
        } else {
            let b = run_bench_of(other, seconds)?;
            (run_bench_of(this, seconds)?, b)
        };
        out.push(pair);
        progress(r + 1, rounds);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
env_steps_per_s=27310529.002953 steps/s  # static 10 VMs on nasa-jul95 (39692 steps, Poisson noise), one core; 2.6754e7 per second on a core (the thread ran 102% of the wall time)
train_steps_per_s=11069460.557513 steps/s  # Q-learning, 100 episodes; 1.0587e7 per second on a core (the thread ran 105% of the wall time)
sweep_speedup=1.745594 x  # jobs 2 over jobs 1
not a figure
";

    #[test]
    fn figures_parse_with_their_per_core_rates() {
        let f = parse(TEXT);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].name, "env_steps_per_s");
        assert_eq!(f[0].unit, "steps/s");
        assert_eq!(f[0].wall, 27310529.002953);
        assert_eq!(f[0].cpu, Some(2.6754e7));
        assert_eq!(f[1].cpu, Some(1.0587e7));
        assert_eq!(f[2].unit, "x");
        assert_eq!(f[2].cpu, None);
    }

    fn fig(name: &str, wall: f64, cpu: Option<f64>) -> Printed {
        Printed {
            name: name.into(),
            unit: "steps/s".into(),
            wall,
            cpu,
        }
    }

    #[test]
    fn ratios_are_taken_per_round_and_summarised_by_the_median() {
        // This binary's `a` per core and `s` per wall-clock second in one
        // round; the other's are the same every round.
        let round = |a_cpu: f64, s_wall: f64| {
            (
                vec![
                    fig("a", 10.0, Some(a_cpu)),
                    fig("s", s_wall, None),
                    fig("new", 1.0, None),
                ],
                vec![
                    fig("a", 20.0, Some(10.0)),
                    fig("s", 2.0, None),
                    fig("old", 1.0, None),
                ],
            )
        };
        let rounds = vec![round(9.0, 4.0), round(8.0, 6.0), round(12.0, 2.0)];
        let out = compare(&rounds);
        assert_eq!(out.figures.len(), 2);
        let a = &out.figures[0];
        // Per core where both sides state it: ratios 0.9, 0.8, 1.2.
        assert!(a.per_core);
        assert_eq!((a.this, a.other), (9.0, 10.0));
        assert!((a.ratio - 0.9).abs() < 1e-12);
        assert!((a.ratio_min - 0.8).abs() < 1e-12 && (a.ratio_max - 1.2).abs() < 1e-12);
        // Wall clock otherwise: ratios 2, 3, 1.
        let s = &out.figures[1];
        assert!(!s.per_core);
        assert_eq!((s.ratio, s.ratio_min, s.ratio_max), (2.0, 1.0, 3.0));
        assert_eq!(out.only_this, vec!["new".to_string()]);
        assert_eq!(out.only_other, vec!["old".to_string()]);
        let text = render(&out, Path::new("old-qscale"), 3, 1.0);
        assert!(
            text.contains("# only this binary measured: new\n"),
            "{text}"
        );
        assert!(text.contains("# only the other measured: old\n"), "{text}");
        assert!(
            text.contains("a: this/other 0.900 (rounds 0.800–1.200)"),
            "{text}"
        );
    }

    #[test]
    fn unless_every_round_states_per_core_rates_wall_clock_is_compared() {
        let rounds = vec![
            (
                vec![fig("a", 10.0, Some(9.0))],
                vec![fig("a", 20.0, Some(10.0))],
            ),
            (vec![fig("a", 10.0, None)], vec![fig("a", 20.0, Some(10.0))]),
        ];
        let a = &compare(&rounds).figures[0];
        assert!(!a.per_core);
        assert_eq!((a.this, a.other, a.ratio), (10.0, 20.0, 0.5));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
