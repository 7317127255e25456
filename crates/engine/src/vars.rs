//! Workflow variables in scope: a branch or iteration reads its own assignments first, then its
//! parents'. Assignments stay local, so nothing leaks out of a Parallel branch or Map iteration.

use serde_json::{Map, Value};
use std::rc::Rc;
use stepwise_asl::jsonpath::Variables;

#[derive(Debug, Default)]
pub struct Vars {
    local: Map<String, Value>,
    parent: Option<Rc<Vars>>,
}

impl Vars {
    /// A scope nested in `parent` (a branch or iteration).
    pub fn child(parent: Rc<Vars>) -> Vars {
        Vars {
            local: Map::new(),
            parent: Some(parent),
        }
    }

    pub fn assign(&mut self, bindings: Map<String, Value>) {
        for (k, v) in bindings {
            self.local.insert(k, v);
        }
    }
}

impl Variables for Vars {
    fn get(&self, name: &str) -> Option<&Value> {
        self.local
            .get(name)
            .or_else(|| self.parent.as_ref().and_then(|p| p.get(name)))
    }
}
