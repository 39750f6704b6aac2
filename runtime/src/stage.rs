//! Stages at run time: the compiled stage variables with the start-up overrides applied.

use std::sync::Arc;

/// A stage's variables (`$stageVariables`), cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StageVariables(Arc<[(Box<str>, Box<str>)]>);

impl StageVariables {
    /// Builds the variables from the compiled ones plus `overrides` (which win, or add).
    pub fn new(
        compiled: &[(&'static str, &'static str)],
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut vars: Vec<(Box<str>, Box<str>)> = compiled
            .iter()
            .map(|(k, v)| (Box::from(*k), Box::from(*v)))
            .collect();
        for (k, v) in overrides {
            match vars.iter_mut().find(|(name, _)| **name == *k) {
                Some(slot) => slot.1 = v.into(),
                None => vars.push((k.into(), v.into())),
            }
        }
        StageVariables(vars.into())
    }

    /// The value of variable `name`; a missing variable renders as `""` in API Gateway.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| &**k == name).map(|(_, v)| &**v)
    }

    /// Every variable, in declaration order (overrides that add a name come last).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }
}

/// One stage as served.
#[derive(Debug, Clone)]
pub struct StageRuntime {
    /// The stage name.
    pub name: &'static str,
    /// Its variables.
    pub variables: StageVariables,
}
