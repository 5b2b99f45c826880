//! Figure 7: the learned policy as a heatmap.
//!
//! Scale-free design ([`target_grid`]): the greedy target utilisation in
//! every load-per-VM bucket (x) × volatility bucket (y), with a flat
//! trend, no VM booting and hour bucket 0; "hold" cells are left blank.
//!
//! Legacy design ([`PolicyMap`]): for a trained agent (a train folder's
//! `qtable.txt` loaded under its `config.toml`), the greedy action (a
//! change in VMs) in every
//! utilization bucket (x) × VM-count bucket (y), with the other state
//! features fixed: load trend flat (the trend bucket holding 0), no VM
//! booting, hour bucket 0. States are decoded with the agent's own
//! [`crate::agent::Discretiser`], so the map is exactly what the agent
//! does in those states.

use super::heatmap::{Axis, AxisLabels, Colouring, Grid};
use super::style;
use crate::agent::{Design, QAgent};

/// The learned policy of `agent` as a heatmap grid, for either design.
pub(crate) fn policy_grid(agent: &QAgent) -> Grid {
    match agent.design() {
        Design::Legacy => PolicyMap::from_agent(agent).grid(),
        Design::ScaleFree => target_grid(agent),
        Design::Demand => headroom_grid(agent),
    }
}

/// The demand design's map: the greedy headroom over the demand (%) per
/// fleet × volatility bucket, with the load at its window peak, flat,
/// none booting, no overload, hour bucket 0; `None` where the agent
/// holds or sizes for the episode's peak.
pub(crate) fn headroom_grid(agent: &QAgent) -> Grid {
    let ds = agent.demand_state();
    let sizes = ds.sizes();
    let (n_fleet, n_vol) = (sizes[0], sizes[4]);
    let flat = agent
        .scale_free()
        .trend_edges()
        .iter()
        .take_while(|&&e| e <= 0.0)
        .count();
    let mut cells = vec![None; n_fleet * n_vol];
    for s in 0..ds.n_states() {
        let b = ds.decode(s);
        if b[1] == 0 && b[2] == flat && b[3] == 0 && b[5] == 0 && b[6] == 0 {
            cells[b[4] * n_fleet + b[0]] = agent.headroom_of(agent.greedy(s)).map(|h| 100.0 * h);
        }
    }
    let labels = |v: Vec<f64>| v.iter().map(|&e| style::tick(e)).collect();
    Grid {
        title: "Greedy headroom over the SLO demand, % (blank: hold or episode peak; flat load at its peak, none booting)"
            .into(),
        x: Axis {
            n: n_fleet,
            labels: AxisLabels::Edges(labels(ds.fleet_edges().to_vec())),
            desc: "VMs per VM of load, (running + booting)·μ/λ".into(),
        },
        y: Axis {
            n: n_vol,
            labels: AxisLabels::Edges(labels(agent.scale_free().volatility_edges().to_vec())),
            desc: "load volatility (mean relative change per step)".into(),
        },
        cells,
        colouring: Colouring::Scale {
            title: "headroom, %".into(),
            frame_lowest: false,
        },
    }
}

/// The scale-free design's map: the greedy target utilisation (%) per
/// load × volatility bucket, flat trend, none booting, hour bucket 0;
/// `None` where the agent holds.
pub(crate) fn target_grid(agent: &QAgent) -> Grid {
    let sf = agent.scale_free();
    let sizes = sf.sizes();
    let (n_load, n_vol) = (sizes[0], sizes[3]);
    let flat = sf.trend_edges().iter().take_while(|&&e| e <= 0.0).count();
    let mut cells = vec![None; n_load * n_vol];
    for s in 0..sf.n_states() {
        let b = sf.decode(s);
        if b[1] == flat && b[2] == 0 && b[4] == 0 {
            let a = agent.greedy(s);
            cells[b[3] * n_load + b[0]] = agent.targets().get(a).map(|u| 100.0 * u);
        }
    }
    let labels = |v: &[f64]| v.iter().map(|&e| style::tick(e)).collect();
    Grid {
        title:
            "Greedy target utilisation, % (blank: hold or episode peak; flat load, none booting)"
                .into(),
        x: Axis {
            n: n_load,
            labels: AxisLabels::Edges(labels(sf.load_edges())),
            desc: "offered load per VM of the fleet, λ/(μ·VMs)".into(),
        },
        y: Axis {
            n: n_vol,
            labels: AxisLabels::Edges(labels(sf.volatility_edges())),
            desc: "load volatility (mean relative change per step)".into(),
        },
        cells,
        colouring: Colouring::Scale {
            title: "target, %".into(),
            frame_lowest: false,
        },
    }
}

/// The greedy action per utilization × VM bucket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PolicyMap {
    /// Utilization bucket edges (offered load per serving VM).
    pub util_edges: Vec<f64>,
    /// VM counts of each VM bucket, (lowest, highest).
    pub vm_buckets: Vec<(u32, u32)>,
    /// The change in VMs, row-major: `changes[vm_bucket * n_util + util_bucket]`.
    pub changes: Vec<i32>,
    /// The agent's action set.
    pub actions: Vec<i32>,
    /// True when the state has hour-of-day buckets (the map shows hour 0).
    pub hourly: bool,
}

impl PolicyMap {
    /// Reads the greedy action of every state with a flat trend, no VM
    /// booting and hour bucket 0.
    pub(crate) fn from_agent(agent: &QAgent) -> PolicyMap {
        let disc = agent.discretiser();
        let sizes = disc.sizes();
        let (n_util, n_vms) = (sizes[0], sizes[1]);
        let flat = disc.trend_edges().iter().take_while(|&&e| e <= 0.0).count();
        let actions = agent.actions().to_vec();
        let mut changes = vec![0; n_util * n_vms];
        for s in 0..disc.n_states() {
            let b = disc.decode(s);
            if b[2] == flat && b[3] == 0 && b[4] == 0 {
                let a = agent.greedy(s);
                changes[b[1] * n_util + b[0]] = actions.get(a).copied().unwrap_or(0);
            }
        }
        PolicyMap {
            util_edges: disc.util_edges().to_vec(),
            vm_buckets: (0..n_vms).map(|b| disc.vm_bucket_bounds(b)).collect(),
            changes,
            actions,
            hourly: sizes[4] > 1,
        }
    }

    /// The map as a heatmap grid.
    pub(crate) fn grid(&self) -> Grid {
        let n_util = self.util_edges.len() + 1;
        let vm_labels = self
            .vm_buckets
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}–{hi}")
                }
            })
            .collect();
        let hour = if self.hourly { ", hour bucket 0" } else { "" };
        Grid {
            title: format!("Learned policy: greedy change in VMs (flat load, none booting{hour})"),
            x: Axis {
                n: n_util,
                labels: AxisLabels::Edges(
                    self.util_edges.iter().map(|&e| style::tick(e)).collect(),
                ),
                desc: "offered utilization of the last step, λ/(cμ)".into(),
            },
            y: Axis {
                n: self.vm_buckets.len(),
                labels: AxisLabels::Centers(vm_labels),
                desc: "VMs (running + booting)".into(),
            },
            cells: self.changes.iter().map(|&c| Some(f64::from(c))).collect(),
            colouring: Colouring::Changes {
                values: self.actions.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::plot::heatmap::render_heatmap;
    use crate::plot::Format;

    fn config() -> Config {
        let mut c = Config::default();
        c.agent.design = Design::Legacy;
        c.cloud.min_vms = 1;
        c.cloud.max_vms = 10;
        c.cloud.vm_capacity_rps = 10.0;
        c
    }

    #[test]
    fn the_model_prior_scales_out_when_hot_and_in_when_idle() {
        let config = config();
        let agent = QAgent::new(&config, 1);
        let map = PolicyMap::from_agent(&agent);
        let n_util = map.util_edges.len() + 1;
        assert_eq!(map.vm_buckets.len(), 10);
        assert_eq!(map.vm_buckets[0], (1, 1));
        // Few VMs, overloaded: add; many VMs, nearly idle: remove.
        let hot_few = map.changes[n_util - 1];
        let idle_many = map.changes[9 * n_util];
        assert!(hot_few > 0, "{:?}", map.changes);
        assert!(idle_many < 0, "{:?}", map.changes);
    }

    #[test]
    fn a_saved_table_round_trips_into_a_rendered_map() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config();
        config.agent.vm_edges = vec![3, 6];
        config.agent.hour_buckets = 4;
        let agent = QAgent::new(&config, 1);
        let path = dir.path().join("qtable.txt");
        std::fs::write(&path, agent.to_text()).unwrap();
        let loaded = QAgent::load(&path, &config).unwrap();
        let map = PolicyMap::from_agent(&loaded);
        assert_eq!(map, PolicyMap::from_agent(&agent));
        assert_eq!(map.vm_buckets, vec![(1, 2), (3, 5), (6, 10)]);
        assert!(map.hourly);
        let written =
            render_heatmap(&map.grid(), &dir.path().join("policy"), Format::Both).unwrap();
        for p in &written {
            crate::plot::tests_support::assert_image(p);
        }
        let mut legacy = Config::default();
        legacy.agent.design = Design::Legacy;
        let big = PolicyMap::from_agent(&QAgent::new(&legacy, 1));
        render_heatmap(&big.grid(), &dir.path().join("big"), Format::Png).unwrap();
    }

    #[test]
    fn the_scale_free_map_renders_and_runs_hot_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.agent.design = Design::ScaleFree;
        let agent = QAgent::new(&config, 1);
        let grid = policy_grid(&agent);
        assert_eq!(grid.cells.len(), 9 * 4);
        // A nearly idle fleet under the model prior: a target, not hold.
        assert!(grid.cells[0].is_some(), "{:?}", grid.cells);
        for p in render_heatmap(&grid, &dir.path().join("sf"), Format::Png).unwrap() {
            crate::plot::tests_support::assert_image(&p);
        }
    }

    #[test]
    fn the_demand_map_renders_a_headroom_per_fleet_and_volatility_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let agent = QAgent::new(&Config::default(), 1);
        let grid = policy_grid(&agent);
        assert_eq!(grid.cells.len(), 8 * 4);
        // Under the model prior a calm load gets the smallest headroom.
        assert_eq!(grid.cells[0], Some(25.0), "{:?}", grid.cells);
        for p in render_heatmap(&grid, &dir.path().join("demand"), Format::Png).unwrap() {
            crate::plot::tests_support::assert_image(&p);
        }
    }
}
