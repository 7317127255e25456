//! Definition-time checks and analysis of a parsed expression.
//!
//! - rejects what AWS's JSONata 2.0.6 does not have (`$eval`, `??`, `?:`);
//! - finds which root variables (`$states`, workflow variables) the expression reads and
//!   which parts of them ([`Need`]), so evaluation converts only those;
//! - rewrites `$now()`/`$millis()` to read a bound timestamp, so the crate never reads the
//!   clock.

use std::collections::{BTreeMap, BTreeSet};

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage};

use super::convert::Need;

/// Variable bound to the evaluation's "now" in epoch milliseconds.
pub(crate) const NOW_VAR: &str = "__stepwise_now_millis";

/// What an expression reads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Analysis {
    /// Root variable name → the parts of it the expression may read.
    pub(crate) roots: BTreeMap<String, Need>,
    /// Names used as `$name(...)` calls or `$name` references (candidates for the AWS
    /// functions, which are registered only when used).
    pub(crate) names: BTreeSet<String>,
    /// `%` was used: it climbs out of a path, so pruned documents would be wrong.
    pub(crate) uses_parent: bool,
    /// Built-in functions called by name (`$sum(...)`), for naming one in error messages.
    pub(crate) builtin_calls: BTreeSet<String>,
    /// Whether the clock variable is read.
    pub(crate) uses_now: bool,
}

impl Analysis {
    pub(crate) fn merge(&mut self, other: &Analysis) {
        for (k, n) in &other.roots {
            match self.roots.get_mut(k) {
                Some(m) => m.merge(n),
                None => {
                    self.roots.insert(k.clone(), n.clone());
                }
            }
        }
        self.names.extend(other.names.iter().cloned());
        self.builtin_calls
            .extend(other.builtin_calls.iter().cloned());
        self.uses_parent |= other.uses_parent;
        self.uses_now |= other.uses_now;
    }

    /// The need for root `name`, widened to the whole value when `%` is used.
    pub(crate) fn need(&self, name: &str) -> Option<Need> {
        let need = self.roots.get(name)?;
        Some(if self.uses_parent {
            Need::All
        } else {
            need.clone()
        })
    }

    fn add(&mut self, root: &str, path: &[String]) {
        self.roots
            .entry(root.to_string())
            .or_insert_with(|| Need::Fields(BTreeMap::new()))
            .add_path(path);
    }
}

/// A construct AWS's JSONata does not accept, with 2.0.6's error code when it has one.
pub(crate) struct Unsupported {
    pub(crate) code: Option<&'static str>,
    pub(crate) message: String,
}

/// Checks, rewrites and analyses `ast` in place.
pub(crate) fn prepare(ast: &mut AstNode) -> Result<Analysis, Unsupported> {
    let mut a = Analysis::default();
    walk(ast, &mut a)?;
    Ok(a)
}

fn walk(node: &mut AstNode, a: &mut Analysis) -> Result<(), Unsupported> {
    // Clock rewrites first, so the rewritten node is analysed like any other.
    if let AstNode::Function {
        name,
        args,
        is_builtin: true,
    } = node
    {
        if name == "millis" && args.is_empty() {
            *node = AstNode::Variable(NOW_VAR.to_string());
        } else if name == "now" && args.len() <= 2 {
            let mut new_args = Vec::with_capacity(args.len() + 1);
            new_args.push(AstNode::Variable(NOW_VAR.to_string()));
            new_args.append(args);
            *name = "fromMillis".to_string();
            *args = new_args;
        }
    }
    match node {
        AstNode::String(_)
        | AstNode::Name(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Wildcard
        | AstNode::Descendant => Ok(()),
        AstNode::Variable(name) | AstNode::ParentVariable(name) => {
            variable(name, a)?;
            a.add(name, &[]);
            Ok(())
        }
        AstNode::Parent(_) => {
            a.uses_parent = true;
            Ok(())
        }
        AstNode::Path { steps } => path(steps, a),
        AstNode::Binary { op, lhs, rhs } => {
            match op {
                BinaryOp::Coalesce => return Err(unsupported_operator("?")),
                BinaryOp::Default => return Err(unsupported_operator(":")),
                _ => {}
            }
            walk(lhs, a)?;
            walk(rhs, a)
        }
        AstNode::Unary { operand, .. } => walk(operand, a),
        AstNode::Function {
            name,
            args,
            is_builtin,
        } => {
            variable(name, a)?;
            if *is_builtin {
                a.builtin_calls.insert(name.clone());
            }
            a.names.insert(name.clone());
            // A call of a bound name reads that variable (a workflow variable can't hold a
            // function, but the lookup still happens).
            a.add(name, &[]);
            walk_all(args, a)
        }
        AstNode::Call { procedure, args } => {
            walk(procedure, a)?;
            walk_all(args, a)
        }
        AstNode::Lambda { body, .. } => walk(body, a),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            walk_all(items, a)
        }
        AstNode::Object(pairs) => walk_pairs(pairs, a),
        AstNode::ObjectTransform { input, pattern } => {
            walk(input, a)?;
            walk_pairs(pattern, a)
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            walk(condition, a)?;
            walk(then_branch, a)?;
            match else_branch {
                Some(e) => walk(e, a),
                None => Ok(()),
            }
        }
        AstNode::FunctionApplication(inner) => walk(inner, a),
        AstNode::Sort { input, terms } => {
            walk(input, a)?;
            for (t, _) in terms {
                walk(t, a)?;
            }
            Ok(())
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            walk(location, a)?;
            walk(update, a)?;
            match delete {
                Some(d) => walk(d, a),
                None => Ok(()),
            }
        }
    }
}

fn walk_all(nodes: &mut [AstNode], a: &mut Analysis) -> Result<(), Unsupported> {
    nodes.iter_mut().try_for_each(|n| walk(n, a))
}

fn walk_pairs(pairs: &mut [(AstNode, AstNode)], a: &mut Analysis) -> Result<(), Unsupported> {
    for (k, v) in pairs {
        walk(k, a)?;
        walk(v, a)?;
    }
    Ok(())
}

fn variable(name: &str, a: &mut Analysis) -> Result<(), Unsupported> {
    if name == "eval" {
        return Err(Unsupported {
            code: None,
            message: "The JSONata function $eval is not supported by AWS Step Functions"
                .to_string(),
        });
    }
    if name == NOW_VAR {
        a.uses_now = true;
    }
    Ok(())
}

/// `??` and `?:` came after 2.0.6, whose parser stops at the second symbol.
fn unsupported_operator(symbol: &str) -> Unsupported {
    Unsupported {
        code: Some("S0211"),
        message: format!("The symbol \"{symbol}\" cannot be used as a unary operator"),
    }
}

/// A path that starts at a variable (`$states.input.order.items[...]`) reads only the
/// members it names, up to the first step that does more than name a member.
fn path(steps: &mut [PathStep], a: &mut Analysis) -> Result<(), Unsupported> {
    let mut rest_from = 0;
    if let Some(first) = steps.first() {
        if let AstNode::Variable(root) = &first.node {
            let root = root.clone();
            variable(&root, a)?;
            let mut members: Vec<String> = Vec::new();
            if simple_step(first) {
                let mut i = 1;
                while let Some(step) = steps.get(i) {
                    let AstNode::Name(n) = &step.node else { break };
                    members.push(n.clone());
                    i += 1;
                    if !simple_step(step) {
                        // Its stages (filters, `[]`) act on this member's whole value.
                        break;
                    }
                }
            }
            a.add(&root, &members);
            // The first step's node is done; its stages and the later steps still need a
            // walk for what they contain.
            rest_from = 1;
            walk_stages(&mut steps[0], a)?;
        }
    }
    for step in steps.iter_mut().skip(rest_from) {
        walk(&mut step.node, a)?;
        walk_stages(step, a)?;
    }
    Ok(())
}

fn simple_step(step: &PathStep) -> bool {
    step.stages.is_empty()
        && step.focus.is_none()
        && step.index_var.is_none()
        && step.ancestor_label.is_none()
        && !step.is_tuple
}

fn walk_stages(step: &mut PathStep, a: &mut Analysis) -> Result<(), Unsupported> {
    for stage in &mut step.stages {
        if let Stage::Filter(f) = stage {
            // 2.0.6 has no bare range in a predicate (`items[0..1]`; `items[[0..1]]` is fine).
            if let AstNode::Binary {
                op: BinaryOp::Range,
                ..
            } = **f
            {
                return Err(Unsupported {
                    code: Some("S0202"),
                    message: "Expected \"]\", got \"..\"".to_string(),
                });
            }
            walk(f, a)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyse(src: &str) -> Analysis {
        let mut ast = jsonata_core::parser::parse(src).unwrap();
        match prepare(&mut ast) {
            Ok(a) => a,
            Err(u) => panic!("{}", u.message),
        }
    }

    fn fields(paths: &[&[&str]]) -> Need {
        let mut n = Need::Fields(BTreeMap::new());
        for p in paths {
            n.add_path(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
        n
    }

    #[test]
    fn paths_from_states_are_pruned() {
        let a =
            analyse("$states.input.order.items[price > 10].name & $states.context.Execution.Id");
        assert_eq!(
            a.need("states").unwrap(),
            fields(&[
                &["input", "order", "items"],
                &["context", "Execution", "Id"]
            ])
        );
    }

    #[test]
    fn bare_or_parent_use_needs_everything() {
        assert_eq!(analyse("$keys($states)").need("states"), Some(Need::All));
        assert_eq!(analyse("$states.input.a.%").need("states"), Some(Need::All));
        assert_eq!(analyse("$x.y + $z").need("x"), Some(fields(&[&["y"]])));
        assert_eq!(analyse("$x.y + $z").need("z"), Some(Need::All));
    }

    #[test]
    fn clock_is_rewritten() {
        assert!(analyse("$now()").uses_now);
        assert!(analyse("$millis() + 1").uses_now);
        assert!(!analyse("1").uses_now);
    }

    #[test]
    fn newer_syntax_and_eval_are_rejected() {
        for src in [
            "$x ?? 1",
            "$x ?: 1",
            "$eval('1')",
            "$map([1], $eval)",
            "$a[0..1]",
        ] {
            let mut ast = jsonata_core::parser::parse(src).unwrap();
            assert!(prepare(&mut ast).is_err(), "{src}");
        }
    }
}
