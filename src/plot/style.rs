//! The look shared by every figure: size, the embedded font, text sizes,
//! a fixed colour per policy, colour maps and axis units.
//!
//! Text is drawn with DejaVu Sans (`assets/fonts/DejaVuSans.ttf`, Bitstream
//! Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`), compiled into the
//! binary and registered with plotters' `ab_glyph` text renderer, so PNGs
//! render the same on a machine without fontconfig or any installed font.
//! SVGs keep their text as `<text>` elements naming
//! `DejaVu Sans, sans-serif`.
//!
//! Policy colours follow the Okabe–Ito palette (distinguishable with the
//! common colour-vision deficiencies); a policy the table does not know gets
//! a colour from a fallback palette chosen by a hash of its name, so it is
//! the same in every figure.

use std::sync::OnceLock;

use plotters::style::{FontFamily, FontStyle, RGBColor, TextStyle};

/// Width and height of every figure, pixels (PNG) or user units (SVG).
pub(crate) const SIZE: (u32, u32) = (1000, 560);

/// Size of a time-series figure over a long run, with the busiest day
/// zoomed beside the whole (a two-column figure in a paper).
pub(crate) const WIDE_SIZE: (u32, u32) = (1500, 560);

/// The font family name the figures use; registered with plotters under
/// exactly this string, which SVGs also carry as their CSS font list.
pub(crate) const FONT: &str = "DejaVu Sans, sans-serif";

/// DejaVu Sans 2.37, unmodified.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Title size (plotters size units: about 0.86 px of em per unit in PNGs).
pub(crate) const TITLE_SIZE: f64 = 24.0;
/// Axis description size.
pub(crate) const LABEL_SIZE: f64 = 21.0;
/// Tick label size.
pub(crate) const TICK_SIZE: f64 = 19.0;
/// Legend text size.
pub(crate) const LEGEND_SIZE: f64 = 19.0;
/// Text inside heatmap cells and next to points.
pub(crate) const ANNOTATION_SIZE: f64 = 17.0;
/// Width of the legend column on the right of a figure, pixels.
pub(crate) const LEGEND_WIDTH: u32 = 215;

/// Dark grey for text and the arrival rate.
pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
/// Light grey for grid lines.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
/// Red of the SLO line.
pub(crate) const SLO_RED: RGBColor = RGBColor(200, 30, 30);

/// Registers the embedded font with plotters (once per process).
///
/// # Errors
/// Never in practice: the bytes are a valid TrueType font compiled in.
pub(crate) fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "the embedded DejaVu Sans font cannot be parsed".to_string())
    })
    .clone()
}

/// Text in the figures' font at `size`.
pub(crate) fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FontFamily::Name(FONT), size)).color(&INK)
}

/// Colours for anything else (other policies, traces, seeds).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The fixed colour of a policy: the (Okabe–Ito) colour its module
/// registers ([`crate::policy::PolicyKind::colour`]), or one from
/// [`PALETTE`] picked by a hash of the name (stable across figures).
pub(crate) fn policy_colour(name: &str) -> RGBColor {
    name.parse::<crate::policy::PolicyKind>()
        .map(|kind| {
            let (r, g, b) = kind.colour();
            RGBColor(r, g, b)
        })
        .unwrap_or_else(|_| PALETTE[fnv1a(name) as usize % PALETTE.len()])
}

/// The `i`-th colour of [`PALETTE`], cycling.
pub(crate) fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// 64-bit FNV-1a: a stable hash (std's hasher may change between releases).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `c` mixed with white: `amount` = 0 gives `c`, 1 gives white.
pub(crate) fn tint(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |x: u8| {
        let x = f64::from(x);
        (x + (255.0 - x) * amount.clamp(0.0, 1.0)).round() as u8
    };
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Viridis (matplotlib's perceptually uniform map), 9 anchors.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// The viridis colour at `t` in [0, 1] (clamped; NaN gives the low end).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let lerp = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * f).round() as u8;
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// A diverging colour for a VM change: blue for scale-in, red for
/// scale-out, light grey for no change; `max` is the largest |change|.
pub(crate) fn change_colour(change: i32, max: i32) -> RGBColor {
    let max = max.max(1);
    let depth =
        f64::from(change.unsigned_abs().min(max.unsigned_abs())) / f64::from(max.unsigned_abs());
    // From a pale tint (|change| small) to the full colour (|change| = max).
    let amount = 0.75 * (1.0 - depth);
    match change.signum() {
        -1 => tint(RGBColor(33, 102, 172), amount),
        1 => tint(RGBColor(178, 24, 43), amount),
        _ => RGBColor(235, 235, 235),
    }
}

/// Black or white, whichever reads better on `background`.
pub(crate) fn text_on(background: RGBColor) -> RGBColor {
    let l = 0.299 * f64::from(background.0)
        + 0.587 * f64::from(background.1)
        + 0.114 * f64::from(background.2);
    if l > 140.0 {
        INK
    } else {
        RGBColor(255, 255, 255)
    }
}

/// The unit of a time axis, chosen from the span shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeUnit {
    /// Seconds per unit.
    pub seconds: f64,
    /// The unit in an axis label.
    pub name: &'static str,
}

impl TimeUnit {
    /// Minutes up to 3 hours, hours up to 4 days, days beyond.
    pub(crate) fn for_span(span_s: f64) -> TimeUnit {
        if span_s <= 3.0 * 3600.0 {
            TimeUnit {
                seconds: 60.0,
                name: "min",
            }
        } else if span_s <= 4.0 * 86_400.0 {
            TimeUnit {
                seconds: 3600.0,
                name: "h",
            }
        } else {
            TimeUnit {
                seconds: 86_400.0,
                name: "days",
            }
        }
    }
}

/// A short tick label: no trailing zeros, at most 4 significant digits,
/// thousands as `k`.
pub(crate) fn tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    if a >= 1e7 {
        return format!("{}M", trim(&format!("{:.1}", v / 1e6)));
    }
    if a >= 1e5 {
        return format!("{}k", trim(&format!("{:.1}", v / 1000.0)));
    }
    // Axis arithmetic leaves float dust such as -1.4e-17 where 0 is meant.
    let s = if a < 1e-12 {
        "0".to_string()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.4}")
    } else {
        format!("{v:.1e}")
    };
    trim(&s)
}

fn trim(s: &str) -> String {
    if s.contains('e') || !s.contains('.') {
        return s.to_string();
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value for a label or a heatmap cell, to about 4 significant digits.
pub(crate) fn value_label(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else if a >= 0.001 || a == 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    };
    s
}

/// Axis labels of the configuration keys a sweep or tuning commonly
/// varies; other keys get [`key_label`]'s generic form.
const KEY_LABELS: [(&str, &str); 24] = [
    ("agent.alpha", "learning rate α"),
    ("agent.gamma", "discount γ"),
    ("agent.epsilon", "initial exploration ε"),
    ("agent.epsilon_min", "exploration floor ε"),
    ("agent.epsilon_decay", "ε decay per episode"),
    ("agent.episodes", "training episodes"),
    ("agent.planning_steps", "planning steps per step"),
    ("policy.upper", "scale-out threshold (utilisation)"),
    ("policy.lower", "scale-in threshold (utilisation)"),
    ("policy.step", "step (VMs per action)"),
    ("policy.periods", "alarm periods"),
    ("policy.cooldown_s", "cooldown (s)"),
    ("policy.target_utilization", "target utilisation"),
    ("policy.vms", "VMs"),
    (
        "policy.scale_out_threshold",
        "scale-out threshold (utilisation)",
    ),
    (
        "policy.scale_in_threshold",
        "scale-in threshold (utilisation)",
    ),
    ("cloud.boot_s", "boot time (s)"),
    ("cloud.vm_capacity_rps", "VM capacity (req/s)"),
    ("cloud.max_vms", "max VMs"),
    ("cloud.min_vms", "min VMs"),
    ("cloud.slo_s", "SLO (s)"),
    ("cloud.timeout_s", "timeout (s)"),
    ("cloud.penalty_per_violation", "penalty per violation (USD)"),
    ("workload.step_s", "decision step (s)"),
];

/// Units a key's suffix names, for [`key_label`]'s fallback.
const UNIT_SUFFIXES: [(&str, &str); 6] = [
    ("_s", "s"),
    ("_rps", "req/s"),
    ("_usd", "USD"),
    ("_pct", "%"),
    ("_vms", "VMs"),
    ("_steps", "steps"),
];

/// A human label for a configuration key (`policy.cooldown_s` ->
/// `cooldown (s)`): the table of known keys, else the last part of the
/// key with `_` as spaces and a unit suffix (`_s`, `_rps`, `_usd`, …) in
/// brackets.
pub(crate) fn key_label(key: &str) -> String {
    if let Some((_, label)) = KEY_LABELS.iter().find(|(k, _)| *k == key) {
        return (*label).to_string();
    }
    let name = key.rsplit('.').next().unwrap_or(key);
    for (suffix, unit) in UNIT_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return format!("{} ({unit})", stem.replace('_', " "));
        }
    }
    name.replace('_', " ")
}

/// A short `name value` form of a swept key for a title (`cooldown 300 s`,
/// `step 2`): the key's last part without its unit suffix, the value, and
/// the unit.
pub(crate) fn key_value(key: &str, value: &str) -> String {
    let name = key.rsplit('.').next().unwrap_or(key);
    for (suffix, unit) in UNIT_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return format!("{} {value}\u{202f}{unit}", stem.replace('_', " "));
        }
    }
    format!("{} {value}", name.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_policies_have_fixed_distinct_colours() {
        let names = [
            "static",
            "threshold",
            "step",
            "target",
            "hpa",
            "predictive",
            "oracle",
            "qlearning",
        ];
        let colours: Vec<RGBColor> = names.iter().map(|n| policy_colour(n)).collect();
        for i in 0..colours.len() {
            for j in 0..i {
                assert_ne!(colours[i], colours[j], "{} vs {}", names[i], names[j]);
            }
        }
        assert_eq!(policy_colour("oracle"), RGBColor(0, 0, 0));
        // Unknown names get a stable colour from the fallback palette.
        assert_eq!(policy_colour("my-rule"), policy_colour("my-rule"));
        assert!(PALETTE.contains(&policy_colour("my-rule")));
    }

    #[test]
    fn the_font_registers_and_is_usable() {
        register_font().unwrap();
        register_font().unwrap();
    }

    #[test]
    fn colour_maps_stay_in_range_on_odd_inputs() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(change_colour(0, 2), RGBColor(235, 235, 235));
        assert_ne!(change_colour(-2, 2), change_colour(-1, 2));
        assert_eq!(change_colour(i32::MIN, 0), change_colour(-1, 1));
    }

    #[test]
    fn keys_get_human_labels_with_a_generic_fallback() {
        assert_eq!(key_label("policy.cooldown_s"), "cooldown (s)");
        assert_eq!(key_label("agent.alpha"), "learning rate α");
        assert_eq!(key_label("cloud.boot_s"), "boot time (s)");
        assert_eq!(key_label("policy.warmup_s"), "warmup (s)");
        assert_eq!(key_label("cloud.vm_capacity_rps"), "VM capacity (req/s)");
        assert_eq!(key_label("x.new_peak_rps"), "new peak (req/s)");
        assert_eq!(key_label("policy.some_knob"), "some knob");
        assert_eq!(key_label("plain"), "plain");
        assert_eq!(
            key_value("policy.cooldown_s", "300"),
            "cooldown 300\u{202f}s"
        );
        assert_eq!(key_value("policy.step", "2"), "step 2");
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(150.0), "150");
        assert_eq!(tick(25_000.0), "25000");
        assert_eq!(tick(250_000.0), "250k");
        assert_eq!(tick(25_000_000.0), "25M");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(f64::NAN), "");
        assert_eq!(TimeUnit::for_span(1800.0).name, "min");
        assert_eq!(TimeUnit::for_span(86_400.0).name, "h");
        assert_eq!(TimeUnit::for_span(7.0 * 86_400.0).name, "days");
    }
}
