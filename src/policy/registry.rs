//! The policy registry: one line per policy, in documentation order.
//!
//! Each policy's module owns everything about it: its [`Registered`]
//! entry (name, plot colour, capabilities, built-in tuning grid, how it is
//! built) and its parameters ([`PolicyParams`]: a struct with `Default`,
//! `validate` and a `///` per key). From the lines of `policies!` below
//! come [`PolicyKind`] (its variants, [`PolicyKind::ALL`], names, parsing),
//! [`PolicyConfig`] (the `[policy]` section: `kind` and the parameters of
//! every policy), the build dispatch, the tuning grids and the colours.
//! Adding a policy is one new file in `src/policy/` and one line here.
//!
//! **The `[policy]` table is flat.** Its keys are `kind` and the keys of
//! every registered policy's parameters, in registry order (a key is
//! written where it is first declared): `policy.upper`,
//! `policy.hpa_sync_period_s`, …. A key declared by several policies
//! (`target_utilization`, `warmup_s`) appears once and feeds each of them;
//! it is written from the chosen policy's parameters when that policy
//! declares it, else from the first declaring policy's. Unknown keys are
//! rejected naming the key, and a value of the wrong type is reported at
//! its line, as for any other section.

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::ser::{self, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Policy, PolicyContext};
use crate::config_error::ConfigError;

/// A policy's parameters: its keys of the flat `[policy]` table, each
/// field documented with its unit, range and default. Derive `Serialize`
/// and `Deserialize` with `#[serde(default, deny_unknown_fields)]`; the
/// field names are the keys (fixed once published).
pub trait PolicyParams:
    Default + Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned
{
    /// Checks every bound and every relation between the keys.
    ///
    /// # Errors
    /// The first [`ConfigError`] found, naming the key as `policy.key`.
    fn validate(&self) -> Result<(), ConfigError>;
}

/// The parameters of a policy that has none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoParams {}

impl PolicyParams for NoParams {
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// One axis of a built-in tuning grid: keys (`policy.key`) stepped
/// together and their values at each point.
#[derive(Debug, Clone, PartialEq)]
pub struct GridAxis {
    /// The keys, as `policy.key`.
    pub keys: Vec<&'static str>,
    /// One value per key at each point, in order.
    pub points: Vec<Vec<toml::Value>>,
}

impl GridAxis {
    /// An axis over one key.
    pub(crate) fn one(key: &'static str, values: Vec<toml::Value>) -> GridAxis {
        GridAxis {
            keys: vec![key],
            points: values.into_iter().map(|v| vec![v]).collect(),
        }
    }

    /// An axis whose keys all take the same value at each point.
    pub(crate) fn zipped(keys: &[&'static str], values: Vec<toml::Value>) -> GridAxis {
        GridAxis {
            keys: keys.to_vec(),
            points: values.into_iter().map(|v| vec![v; keys.len()]).collect(),
        }
    }
}

/// `from/100, (from+step)/100, …, to/100`: exact decimals, no running sum.
pub(crate) fn hundredths(from: u32, to: u32, step: usize) -> Vec<toml::Value> {
    (from..=to)
        .step_by(step)
        .map(|h| toml::Value::Float(f64::from(h) / 100.0))
        .collect()
}

/// Numbers as TOML floats.
pub(crate) fn floats(values: &[f64]) -> Vec<toml::Value> {
    values.iter().map(|&v| toml::Value::Float(v)).collect()
}

/// Numbers as TOML integers.
pub(crate) fn integers(values: &[i64]) -> Vec<toml::Value> {
    values.iter().map(|&v| toml::Value::Integer(v)).collect()
}

/// Words as TOML strings.
pub(crate) fn words(values: &[&str]) -> Vec<toml::Value> {
    values
        .iter()
        .map(|v| toml::Value::String(v.to_string()))
        .collect()
}

/// The utilization targets every rule that has one is tuned over:
/// 0.30–0.95 in steps of 0.05.
pub(crate) fn target_utilization_axis() -> GridAxis {
    GridAxis::one("policy.target_utilization", hundredths(30, 95, 5))
}

/// A policy's registry entry, implemented by the policy's type in its own
/// module.
pub trait Registered {
    /// The stable name used in configs, CSVs and on the command line: the
    /// kebab-case of its [`PolicyKind`] variant.
    const NAME: &'static str;
    /// Its fixed colour in the figures, RGB.
    const COLOUR: (u8, u8, u8);
    /// Learned: [`Registered::build`] gives `None` and the run's caller
    /// trains it first (the agent).
    const LEARNED: bool = false;
    /// Why it cannot be tuned, when it cannot (`None`: it has a built-in
    /// grid, [`Registered::tuning_grid`]).
    const NOT_TUNABLE: Option<&'static str> = None;
    /// Its parameters.
    type Params: PolicyParams;
    /// Its built-in tuning grid, slowest axis first (empty when
    /// [`Registered::NOT_TUNABLE`]).
    fn tuning_grid() -> Vec<GridAxis> {
        Vec::new()
    }
    /// The policy for a run (`ctx.setup.policy` holds its parameters);
    /// `None` when [`Registered::LEARNED`].
    fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>>;
}

/// Declares the policies: `Variant => module::Type in "module.rs"`, one
/// line each. `module` becomes the policy's field of [`PolicyConfig`]
/// (`config.policy.threshold.upper`).
macro_rules! policies {
    ($($variant:ident => $module:ident :: $ty:ident in $file:literal,)+) => {
        $(
            #[path = $file]
            pub(super) mod $module;
        )+

        /// The policies `policy.kind` can name, in registry order (see
        /// each policy's module for its source and rules).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum PolicyKind {
            $(
                #[doc = concat!("The `", stringify!($module), "` policy (`", stringify!($ty), "`).")]
                $variant,
            )+
        }

        /// How many policies are registered.
        const COUNT: usize = [$(PolicyKind::$variant),+].len();

        impl PolicyKind {
            /// Every kind, in registry (documentation) order.
            pub const ALL: [PolicyKind; COUNT] = [$(PolicyKind::$variant),+];

            /// The stable name used in configs, CSVs and on the command line.
            pub const fn name(self) -> &'static str {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Registered>::NAME,)+
                }
            }

            /// Its fixed colour in the figures, RGB.
            pub(crate) const fn colour(self) -> (u8, u8, u8) {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Registered>::COLOUR,)+
                }
            }

            /// Whether it learns (the caller trains it before a run).
            pub(crate) const fn is_learned(self) -> bool {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Registered>::LEARNED,)+
                }
            }

            /// Why it cannot be tuned; `None` when it can.
            pub(crate) const fn not_tunable(self) -> Option<&'static str> {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Registered>::NOT_TUNABLE,)+
                }
            }

            /// Its built-in tuning grid, slowest axis first (empty when it
            /// cannot be tuned).
            pub(crate) fn tuning_grid(self) -> Vec<GridAxis> {
                match self {
                    $(PolicyKind::$variant => <$module::$ty as Registered>::tuning_grid(),)+
                }
            }
        }

        /// Builds the policy `policy.kind` names; `None` for learned
        /// policies, which the run's caller trains first.
        pub(crate) fn build(ctx: PolicyContext<'_>) -> Option<Box<dyn Policy + Send>> {
            match ctx.setup.policy.kind {
                $(PolicyKind::$variant => <$module::$ty as Registered>::build(ctx),)+
            }
        }

        /// `[policy]`: which policy decides and the parameters of every
        /// registered policy (one field each, named after its module),
        /// read and written as one flat table (see the module notes).
        /// Keys that the chosen kind does not use are accepted and
        /// ignored, so one file can be switched between kinds with
        /// `--set policy.kind=...`.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct PolicyConfig {
            /// The policy. Default `"threshold"`.
            pub kind: PolicyKind,
            $(
                #[doc = concat!("The parameters of `", stringify!($module), "`.")]
                pub $module: <$module::$ty as Registered>::Params,
            )+
        }

        impl PolicyConfig {
            /// Checks the parameters of every policy, in registry order.
            ///
            /// # Errors
            /// The first [`ConfigError`] found.
            pub fn validate(&self) -> Result<(), ConfigError> {
                $(self.$module.validate()?;)+
                Ok(())
            }

            /// Each policy's parameters as a TOML table, with its keys.
            fn tables(&self) -> Result<Vec<Declared>, String> {
                Ok(vec![$(Declared {
                    kind: PolicyKind::$variant,
                    keys: field_names::<<$module::$ty as Registered>::Params>(),
                    table: to_table(&self.$module)?,
                },)+])
            }

            /// Every policy's parameters read from the given keys.
            fn from_given(kind: PolicyKind, given: &toml::Table) -> Result<PolicyConfig, String> {
                Ok(PolicyConfig {
                    kind,
                    $($module: from_table(given)?,)+
                })
            }
        }

        /// The keys of every policy, in registry order.
        fn declared_keys() -> Vec<&'static [&'static str]> {
            vec![$(field_names::<<$module::$ty as Registered>::Params>(),)+]
        }

        /// Reads the value of `key` from `d` as the first policy that
        /// declares it types it.
        fn read_declared<'de, D: Deserializer<'de>>(
            key: &'static str,
            d: D,
        ) -> Result<toml::Value, D::Error> {
            $(
                if field_names::<<$module::$ty as Registered>::Params>().contains(&key) {
                    return read_key::<<$module::$ty as Registered>::Params, D>(key, d);
                }
            )+
            Err(de::Error::custom(format!("no policy declares `{key}`")))
        }
    };
}

policies! {
    Static => static_count::StaticPolicy in "static_count.rs",
    Threshold => threshold::ThresholdPolicy in "threshold.rs",
    Step => aws_step::StepScalingPolicy in "aws_step.rs",
    Target => target_tracking::TargetTrackingPolicy in "target_tracking.rs",
    Hpa => hpa::HpaPolicy in "hpa.rs",
    Predictive => predictive::PredictivePolicy in "predictive.rs",
    Oracle => oracle::OraclePolicy in "oracle.rs",
    Qlearning => qlearning::Qlearning in "qlearning.rs",
}

impl Default for PolicyKind {
    /// `threshold`, the rule operators reach for first.
    fn default() -> Self {
        PolicyKind::Threshold
    }
}

/// How many policies can be tuned.
const N_TUNABLE: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < PolicyKind::ALL.len() {
        if PolicyKind::ALL[i].not_tunable().is_none() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// The policies with a built-in tuning grid, in registry order.
pub(crate) const TUNABLE: [PolicyKind; N_TUNABLE] = {
    let mut out = [PolicyKind::Threshold; N_TUNABLE];
    let (mut i, mut j) = (0, 0);
    while i < PolicyKind::ALL.len() {
        if PolicyKind::ALL[i].not_tunable().is_none() {
            out[j] = PolicyKind::ALL[i];
            j += 1;
        }
        i += 1;
    }
    out
};

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown policy `{s}`, expected one of {}", names.join(", "))
            })
    }
}

/// The names of `kinds` as a list in words: `static, threshold or step`
/// (for help texts and messages).
pub(crate) fn names_in_words(kinds: &[PolicyKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

/// One policy's parameters as written: its kind, its keys and their values.
struct Declared {
    kind: PolicyKind,
    keys: &'static [&'static str],
    table: toml::Table,
}

/// `kind` and every policy's keys, each once, in registry order.
fn all_keys() -> &'static [&'static str] {
    static KEYS: OnceLock<&'static [&'static str]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = vec!["kind"];
        for declared in declared_keys() {
            for key in declared {
                if !keys.contains(key) {
                    keys.push(key);
                }
            }
        }
        Box::leak(keys.into_boxed_slice())
    })
}

/// The field names of a parameters struct, as its derived `Deserialize`
/// declares them (in order).
fn field_names<P: DeserializeOwned>() -> &'static [&'static str] {
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("names read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = P::deserialize(Names(&mut names));
    names
}

/// `params` as a TOML table (keys in declaration order; unset options
/// left out).
fn to_table<P: Serialize>(params: &P) -> Result<toml::Table, String> {
    match toml::Value::try_from(params) {
        Ok(toml::Value::Table(t)) => Ok(t),
        Ok(_) => Err("policy parameters must be a table".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A policy's parameters from the given keys it declares (the others at
/// their defaults).
fn from_table<P: PolicyParams>(given: &toml::Table) -> Result<P, String> {
    let keys = field_names::<P>();
    let own: toml::Table = given
        .iter()
        .filter(|(k, _)| keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    P::deserialize(toml::Value::Table(own)).map_err(|e| e.message().to_string())
}

/// Reads the value of `key` from `d` as a field of `P` (so a value of the
/// wrong type is reported by `d` itself, with its position), and returns
/// it as TOML.
fn read_key<'de, P: PolicyParams, D: Deserializer<'de>>(
    key: &'static str,
    d: D,
) -> Result<toml::Value, D::Error> {
    /// A map of the one entry `key = d`.
    struct OneEntry<D> {
        key: Option<&'static str>,
        value: Option<D>,
    }
    impl<'de, D: Deserializer<'de>> MapAccess<'de> for OneEntry<D> {
        type Error = D::Error;
        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, D::Error> {
            match self.key.take() {
                Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
                None => Ok(None),
            }
        }
        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, D::Error> {
            match self.value.take() {
                Some(d) => seed.deserialize(d),
                None => Err(de::Error::custom("value read twice")),
            }
        }
    }
    let one = P::deserialize(de::value::MapAccessDeserializer::new(OneEntry {
        key: Some(key),
        value: Some(d),
    }))?;
    to_table(&one)
        .map_err(de::Error::custom)?
        .remove(key)
        .ok_or_else(|| de::Error::custom(format!("policy.{key} does not serialize")))
}

impl Serialize for PolicyConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tables = self.tables().map_err(ser::Error::custom)?;
        let own = tables.iter().find(|d| d.kind == self.kind);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", &self.kind)?;
        for &key in &all_keys()[1..] {
            // The chosen policy's value when it declares the key, else the
            // first declaring policy's.
            let from = match own.filter(|d| d.keys.contains(&key)) {
                Some(d) => Some(d),
                None => tables.iter().find(|d| d.keys.contains(&key)),
            };
            if let Some(value) = from.and_then(|d| d.table.get(key)) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for PolicyConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("PolicyConfig", all_keys(), FlatVisitor)
    }
}

/// Reads the flat `[policy]` table.
struct FlatVisitor;

impl<'de> Visitor<'de> for FlatVisitor {
    type Value = PolicyConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct PolicyConfig")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PolicyConfig, A::Error> {
        let mut kind = PolicyKind::default();
        let mut given = toml::Table::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "kind" {
                kind = map.next_value()?;
            } else {
                let value = map.next_value_seed(ValueSeed(key))?;
                given.insert(key.to_string(), value);
            }
        }
        PolicyConfig::from_given(kind, &given).map_err(de::Error::custom)
    }
}

/// A key of the flat table: `kind` or a key some policy declares.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = &'static str;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        all_keys()
            .iter()
            .find(|k| **k == v)
            .copied()
            .ok_or_else(|| E::unknown_field(v, all_keys()))
    }
}

/// The value of a declared key, typed as its first declaring policy types
/// it.
struct ValueSeed(&'static str);

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = toml::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<toml::Value, D::Error> {
        read_declared(self.0, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_kebab_case_of_the_variants() {
        for kind in PolicyKind::ALL {
            let via_serde = toml::Value::try_from(kind).unwrap();
            assert_eq!(via_serde.as_str(), Some(kind.name()));
            assert_eq!(kind.name().parse::<PolicyKind>(), Ok(kind));
        }
    }

    #[test]
    fn shared_keys_have_equal_defaults_and_types_in_every_declaring_policy() {
        let config = PolicyConfig::default();
        let tables = config.tables().unwrap();
        for &key in &all_keys()[1..] {
            let declaring: Vec<&Declared> =
                tables.iter().filter(|d| d.keys.contains(&key)).collect();
            let first = declaring[0].table.get(key);
            for d in &declaring[1..] {
                assert_eq!(d.table.get(key), first, "policy.{key} in {}", d.kind);
            }
        }
        let shared: Vec<&str> = all_keys()[1..]
            .iter()
            .copied()
            .filter(|k| tables.iter().filter(|d| d.keys.contains(k)).count() > 1)
            .collect();
        assert_eq!(shared, ["target_utilization", "warmup_s"]);
    }

    #[test]
    fn a_shared_key_feeds_every_policy_that_declares_it() {
        let c: PolicyConfig = toml::from_str("target_utilization = 0.55\nwarmup_s = 30\n").unwrap();
        assert_eq!(c.static_count.target_utilization, 0.55);
        assert_eq!(c.target_tracking.target_utilization, 0.55);
        assert_eq!(c.hpa.target_utilization, 0.55);
        assert_eq!(c.predictive.target_utilization, 0.55);
        assert_eq!(c.aws_step.warmup_s, Some(30.0));
        assert_eq!(c.target_tracking.warmup_s, Some(30.0));
    }

    #[test]
    fn a_shared_key_is_written_from_the_chosen_policy() {
        let mut c = PolicyConfig {
            kind: PolicyKind::Hpa,
            ..PolicyConfig::default()
        };
        c.hpa.target_utilization = 0.6;
        let back: PolicyConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.static_count.target_utilization, 0.6);
        assert_eq!(back.hpa.target_utilization, 0.6);
    }

    #[test]
    fn names_in_words_read_as_a_list() {
        let kinds = [
            PolicyKind::Static,
            PolicyKind::Threshold,
            PolicyKind::Qlearning,
        ];
        assert_eq!(names_in_words(&kinds), "static, threshold or qlearning");
        assert_eq!(names_in_words(&[PolicyKind::Hpa]), "hpa");
    }

    #[test]
    fn tunable_policies_are_those_with_a_grid() {
        for kind in PolicyKind::ALL {
            assert_eq!(
                TUNABLE.contains(&kind),
                !kind.tuning_grid().is_empty(),
                "{kind}"
            );
        }
    }
}
