//! The Q-table and its file format.
//!
//! A flat `Vec<f64>` of `n_states × n_actions`, row-major by state; column
//! `j` is the `j`-th action of the design (`agent.last_headrooms`,
//! `agent.headrooms`, `agent.episode_peak_headrooms` then "hold" in the
//! demand design, `agent.targets` then "hold" in the scale-free design,
//! `agent.actions` in the legacy one). Greedy choices break ties toward
//! the lowest column.
//!
//! ## File format (`qtable.txt`, version 2)
//!
//! Plain UTF-8 text, so a table can be inspected and diffed:
//!
//! ```text
//! qscale-qtable 2
//! design = scale-free
//! algorithm = q-learning
//! actions = 0.3,0.45,0.6,0.7,0.8,0.9,hold
//! features = load:0.3,...|trend:-0.05,0.05|booting_share:0.001,0.3|volatility:...|capacity_rps:20|step_s:60
//! states = 324
//! tables = 1
//! table 0
//! <one line per state: n_actions values separated by spaces>
//! ```
//!
//! Double Q-learning stores two tables (`tables = 2`, then `table 0` and
//! `table 1`). Values are written in Rust's shortest round-trip form, so a
//! saved and reloaded table is bit-identical. A table loads only under a
//! config whose design, algorithm, actions and state space (`features`)
//! match. A legacy-design table says `design = legacy`, lists VM changes
//! (`actions = -2,-1,0,1,2`) and its features
//! (`util:...|vms:1..50|trend:...|booting:1,2|hours:0|...`). A demand-design
//! table says `design = demand`, lists its headrooms by base
//! (`actions = window+0.25,window+0.5,window+1,peak+0,peak+0.5,hold`) and
//! its features (`fleet:...|peak:...|...|overload|window:60|...|scale_in_keep:0.8`).
//! The version stays 2: the demand design is a new design name, and the
//! meaning of a scale-free or legacy file is unchanged.
//!
//! Version 1 (before the scale-free design; no `design` line) is refused
//! with [`QTableError::EarlierDesign`]: train again.

use std::path::{Path, PathBuf};

/// The file's magic line and version.
pub(crate) const MAGIC: &str = "qscale-qtable";
/// The format version this build reads and writes.
pub(crate) const VERSION: u32 = 2;
/// The most values (states × actions) one table of a file may hold.
const MAX_ENTRIES: usize = 1 << 25;

/// Action values for every state.
#[derive(Debug, Clone, PartialEq)]
pub struct QTable {
    n_states: usize,
    n_actions: usize,
    values: Vec<f64>,
}

impl QTable {
    /// A table with every entry `initial`.
    pub fn new(n_states: usize, n_actions: usize, initial: f64) -> QTable {
        QTable {
            n_states,
            n_actions,
            values: vec![initial; n_states * n_actions],
        }
    }

    /// States (rows).
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Actions (columns).
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The values of state `s`.
    #[inline]
    pub(crate) fn row(&self, s: usize) -> &[f64] {
        &self.values[s * self.n_actions..(s + 1) * self.n_actions]
    }

    /// Q(s, a).
    #[inline]
    pub(crate) fn get(&self, s: usize, a: usize) -> f64 {
        self.values[s * self.n_actions + a]
    }

    /// A mutable reference to Q(s, a).
    #[inline]
    pub fn get_mut(&mut self, s: usize, a: usize) -> &mut f64 {
        &mut self.values[s * self.n_actions + a]
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

#[cfg(test)]
/// Index of the largest value, ties to the lowest index (`total_cmp`).
#[inline]
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, v) in row.iter().enumerate().skip(1) {
        if v.total_cmp(&row[best]).is_gt() {
            best = j;
        }
    }
    best
}

/// What a Q-table file holds besides the values.
#[derive(Debug, Clone, PartialEq)]
pub struct QTableHeader {
    /// Design name (`scale-free` or `legacy`).
    pub design: String,
    /// Algorithm name.
    pub algorithm: String,
    /// The action set, comma-separated as written.
    pub actions: String,
    /// The state space description.
    pub features: String,
}

/// A Q-table file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum QTableError {
    /// The file could not be read or written.
    #[error("cannot access Q-table {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid Q-table.
    #[error("{}:{line}: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The file was written by an earlier agent design (format version 1).
    #[error("{}: the Q-table was written by an earlier agent design (format version {version}); this build reads version {VERSION}: train the agent again", .path.display())]
    EarlierDesign {
        /// The file.
        path: PathBuf,
        /// Its format version.
        version: u32,
    },
    /// The table was trained under another configuration.
    #[error("{}: the Q-table does not fit the config: {field} is `{found}` in the file but `{expected}` in the config", .path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Which part differs.
        field: &'static str,
        /// What the file says.
        found: String,
        /// What the config gives.
        expected: String,
    },
}

/// Writes tables in the version-2 format.
pub fn to_text(header: &QTableHeader, tables: &[&QTable]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let n_states = tables.first().map_or(0, |t| t.n_states);
    // invariant: writing to a String cannot fail
    let _ = writeln!(out, "{MAGIC} {VERSION}");
    let _ = writeln!(out, "design = {}", header.design);
    let _ = writeln!(out, "algorithm = {}", header.algorithm);
    let _ = writeln!(out, "actions = {}", header.actions);
    let _ = writeln!(out, "features = {}", header.features);
    let _ = writeln!(out, "states = {n_states}");
    let _ = writeln!(out, "tables = {}", tables.len());
    for (i, t) in tables.iter().enumerate() {
        let _ = writeln!(out, "table {i}");
        for s in 0..t.n_states {
            let row: Vec<String> = t.row(s).iter().map(|v| v.to_string()).collect();
            let _ = writeln!(out, "{}", row.join(" "));
        }
    }
    out
}

/// Reads a version-2 file: its header and tables.
///
/// # Errors
/// [`QTableError::Corrupt`] naming the line at fault.
pub fn from_text(text: &str, path: &Path) -> Result<(QTableHeader, Vec<QTable>), QTableError> {
    let mut lines = FileLines {
        lines: text.lines().enumerate(),
        end: text.lines().count() + 1,
        path,
    };
    lines.check_version()?;
    let (_, design) = lines.field("design")?;
    let (_, algorithm) = lines.field("algorithm")?;
    let (n_act, actions_text) = lines.field("actions")?;
    let (_, features) = lines.field("features")?;
    let (n_st, states_text) = lines.field("states")?;
    let (n_tab, tables_text) = lines.field("tables")?;
    let actions: Vec<&str> = actions_text.split(',').map(str::trim).collect();
    if actions.iter().any(|a| a.is_empty()) {
        return Err(lines.corrupt(
            n_act,
            format!("actions `{actions_text}` has an empty entry"),
        ));
    }
    let n_states: usize = states_text
        .parse()
        .map_err(|_| lines.corrupt(n_st, format!("states `{states_text}` is not a count")))?;
    let n_tables: usize = tables_text
        .parse()
        .ok()
        .filter(|t| (1..=2).contains(t))
        .ok_or_else(|| lines.corrupt(n_tab, format!("tables `{tables_text}` must be 1 or 2")))?;
    let entries = n_states.checked_mul(actions.len());
    if n_states == 0 || entries.is_none_or(|e| e > MAX_ENTRIES) {
        return Err(lines.corrupt(
            n_st,
            format!(
                "states = {n_states} with {} actions is not plausible (at most {MAX_ENTRIES} values)",
                actions.len()
            ),
        ));
    }
    let mut tables = Vec::with_capacity(n_tables);
    for t in 0..n_tables {
        tables.push(lines.table(t, n_states, actions.len())?);
    }
    if let Some((i, extra)) = lines.lines.find(|(_, l)| !l.trim().is_empty()) {
        return Err(lines.corrupt(
            i + 1,
            format!(
                "unexpected trailing content `{}`",
                extra.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok((
        QTableHeader {
            design,
            algorithm,
            actions: actions.join(","),
            features,
        },
        tables,
    ))
}

/// The lines of a Q-table file being read.
struct FileLines<'a> {
    /// The lines not read yet, with their 0-based index.
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    /// The line number just past the last line.
    end: usize,
    /// The file, for messages.
    path: &'a Path,
}

impl<'a> FileLines<'a> {
    /// [`QTableError::Corrupt`] at 1-based `line`.
    fn corrupt(&self, line: usize, reason: String) -> QTableError {
        QTableError::Corrupt {
            path: self.path.to_path_buf(),
            line,
            reason,
        }
    }

    /// The next line and its 1-based number; `what` names what was
    /// expected if the file ends.
    fn next(&mut self, what: &str) -> Result<(usize, &'a str), QTableError> {
        match self.lines.next() {
            Some((i, line)) => Ok((i + 1, line)),
            None => Err(self.corrupt(self.end, format!("file ends before {what}"))),
        }
    }

    /// The value of the next line, which must be `key = value`.
    fn field(&mut self, key: &str) -> Result<(usize, String), QTableError> {
        let (n, line) = self.next(key)?;
        let value = line
            .split_once('=')
            .filter(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
            .ok_or_else(|| self.corrupt(n, format!("expected `{key} = ...`")))?;
        Ok((n, value))
    }

    /// The first line: the magic word and this build's format version.
    fn check_version(&mut self) -> Result<(), QTableError> {
        let (n, magic) = self.next("the header")?;
        let version = magic.strip_prefix(MAGIC).map(str::trim).ok_or_else(|| {
            self.corrupt(n, format!("not a Q-table: expected `{MAGIC} {VERSION}`"))
        })?;
        if let Ok(old @ 1..VERSION) = version.parse::<u32>() {
            return Err(QTableError::EarlierDesign {
                path: self.path.to_path_buf(),
                version: old,
            });
        }
        if version != VERSION.to_string() {
            return Err(self.corrupt(
                n,
                format!(
                    "format version `{version}` is not supported (this build reads version {VERSION})"
                ),
            ));
        }
        Ok(())
    }

    /// Table `t`: its `table t` line, then `n_states` rows of `n_actions`
    /// finite values.
    fn table(
        &mut self,
        t: usize,
        n_states: usize,
        n_actions: usize,
    ) -> Result<QTable, QTableError> {
        let (n, line) = self.next("a table")?;
        if line.trim() != format!("table {t}") {
            return Err(self.corrupt(n, format!("expected `table {t}`")));
        }
        // Grown row by row: a truncated file never costs the full size.
        let mut values = Vec::new();
        for _ in 0..n_states {
            let (n, line) = self.next("the last state row")?;
            let mut count = 0;
            for v in line.split_ascii_whitespace() {
                let value: f64 =
                    v.parse()
                        .ok()
                        .filter(|x: &f64| x.is_finite())
                        .ok_or_else(|| {
                            self.corrupt(n, format!("value `{v}` is not a finite number"))
                        })?;
                if count < n_actions {
                    values.push(value);
                }
                count += 1;
            }
            if count != n_actions {
                return Err(self.corrupt(
                    n,
                    format!("state row has {count} values, expected {n_actions}"),
                ));
            }
        }
        Ok(QTable {
            n_states,
            n_actions,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> QTableHeader {
        QTableHeader {
            design: "legacy".into(),
            algorithm: "q-learning".into(),
            actions: "-1,0,1".into(),
            features: "util:0.5|vms:1..3".into(),
        }
    }

    #[test]
    fn argmax_breaks_ties_toward_the_lowest_column() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[-0.0, 0.0]), 1); // total order: -0 < +0
        assert_eq!(argmax(&[2.0, 2.0]), 0);
    }

    #[test]
    fn text_round_trip_is_bit_identical() {
        let mut t = QTable::new(4, 3, 0.0);
        for s in 0..4 {
            for a in 0..3 {
                *t.get_mut(s, a) = -(s as f64) / 3.0 - (a as f64) * 1e-17 + 0.1;
            }
        }
        let text = to_text(&header(), &[&t]);
        let (h, tables) = from_text(&text, Path::new("q.txt")).unwrap();
        assert_eq!(h, header());
        assert_eq!(tables[0].values(), t.values());
    }

    #[test]
    fn corrupt_files_name_the_line() {
        let t = QTable::new(2, 3, 0.0);
        let text = to_text(&header(), &[&t]);
        let cases = [
            (
                text.replace("qscale-qtable 2", "qscale-qtable 9"),
                "version",
            ),
            (text.replace("0 0 0\n", "0 x 0\n"), "not a finite number"),
            (text.replacen("0 0 0\n", "0 0\n", 1), "2 values"),
            (
                text.lines().take(8).collect::<Vec<_>>().join("\n"),
                "file ends",
            ),
            ("hello".to_string(), "not a Q-table"),
            (
                text.replace("qscale-qtable 2\ndesign = legacy\n", "qscale-qtable 1\n"),
                "written by an earlier agent design (format version 1)",
            ),
        ];
        for (bad, want) in cases {
            let err = from_text(&bad, Path::new("q.txt")).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
            assert!(err.starts_with("q.txt:"), "{err}");
        }
    }
}
