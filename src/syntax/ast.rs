//! The abstract syntax tree of a `.nn` file, with byte spans into the source.
//!
//! Expressions live in a flat arena per network ([`Exprs`]): an expression's
//! operands always have smaller ids than the expression itself, so every later
//! stage can walk them in id order with a loop, never recursing on a depth the
//! user controls.

use crate::diagnostics::Span;

/// A whole `.nn` file: zero or more networks, and the blocks they call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    /// The networks in the order they are written.
    pub networks: Vec<Network>,
    /// The blocks in the order they are written.
    pub blocks: Vec<Block>,
    /// The names of blocks that did not parse: their syntax errors are
    /// reported, and calls of them report nothing more.
    pub broken_blocks: Vec<String>,
}

/// `block name(x, k) { ... return EXPR }`: a reusable piece of network.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The `///` lines before `block`, without the slashes.
    pub docs: Vec<String>,
    /// The block's name, which calls use.
    pub name: Ident,
    /// Its arguments' names, in order.
    pub params: Vec<Ident>,
    /// The `param` declarations and bindings of the body, in order.
    pub items: Vec<Item>,
    /// The value after `return`.
    pub ret: ExprId,
    /// The `return` statement.
    pub ret_span: Span,
    /// Every expression of the body; [`ExprId`]s index into it.
    pub exprs: Exprs,
    /// From `block` (or its first doc comment) to the closing brace.
    pub span: Span,
}

/// A call of a block that a statement was written out from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCall {
    /// The block called.
    pub block: String,
    /// The binding the call is the value of, its prefix included (`b1`,
    /// `b1_inner`).
    pub binding: String,
    /// The call, in the network (or block) that made it.
    pub span: Span,
}

/// `network Name { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The `///` lines before `network`, without the slashes.
    pub docs: Vec<String>,
    /// The network's name, which becomes a Rust type name.
    pub name: Ident,
    /// The statements of the body, in order.
    pub items: Vec<Item>,
    /// Every expression of the body; [`ExprId`]s index into it.
    pub exprs: Exprs,
    /// From `network` (or its first doc comment) to the closing brace.
    pub span: Span,
}

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it stands in the source.
    pub span: Span,
}

/// One statement of a network body.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The `///` lines before the statement.
    pub docs: Vec<String>,
    /// What the statement declares.
    pub kind: ItemKind,
    /// The whole statement, without its doc comments.
    pub span: Span,
    /// The block calls this statement was written out from, outermost
    /// first; empty for a statement written in the network itself.
    pub calls: Vec<BlockCall>,
}

/// The kinds of statement.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `input x: [n]`, or of indices `input ctx: [8] in 0..27`
    Input {
        /// The input's name.
        name: Ident,
        /// Its per-sample shape.
        shape: Shape,
        /// `in 0..V`, for indices.
        range: Option<Range>,
    },
    /// `target t: [n]`, or of indices `target next: [] in 0..27`
    Target {
        /// The target's name.
        name: Ident,
        /// Its per-sample shape.
        shape: Shape,
        /// `in 0..V`, for indices.
        range: Option<Range>,
    },
    /// `param W: [n, m] = INIT`
    Param {
        /// The parameter's name.
        name: Ident,
        /// Its shape.
        shape: Shape,
        /// The initializer after `=`, if any.
        init: Option<ExprId>,
    },
    /// `name = EXPR` or, with `output: true`, `output name = EXPR`.
    Binding {
        /// The bound name.
        name: Ident,
        /// The value.
        value: ExprId,
        /// Whether it was written `output name = ...`.
        output: bool,
    },
    /// `loss = EXPR`
    Loss {
        /// The per-sample loss.
        value: ExprId,
    },
    /// `train OPT(args)`
    Train {
        /// The optimizer call.
        optimizer: ExprId,
    },
    /// `dtype f64`
    Dtype {
        /// `f32` or `f64`.
        ty: Ident,
    },
}

/// A shape as written: `[784, 50]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// The dimensions as written (the checker turns them into sizes).
    pub dims: Vec<Number>,
    /// The dimensions written as names, by position: a block's arguments,
    /// replaced by the numbers each call gives (until then their `dims`
    /// entry holds the name, with no value).
    pub names: Vec<(usize, Ident)>,
    /// From `[` to `]`.
    pub span: Span,
}

/// `in 0..V`: the range of an index input or target, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The first index (which must be 0).
    pub start: Number,
    /// The end V, excluded.
    pub end: Number,
    /// From `in` to the end.
    pub span: Span,
}

/// A number literal: its text and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The literal as written, underscores included.
    pub text: String,
    /// The value (infinite when the literal is too large for an `f64`).
    pub value: f64,
    /// Where it stands.
    pub span: Span,
}

/// Index of an expression in its network's [`Exprs`] arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExprId(pub u32);

/// The expression arena of one network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exprs {
    nodes: Vec<Expr>,
}

impl Exprs {
    /// Adds an expression whose operands are already in the arena.
    pub fn push(&mut self, expr: Expr) -> ExprId {
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 expressions"));
        self.nodes.push(expr);
        id
    }

    /// Widens an expression's span (to take in its parentheses).
    pub fn set_span(&mut self, id: ExprId, span: Span) {
        self.nodes[id.0 as usize].span = span;
    }

    /// The expression with this id.
    pub fn get(&self, id: ExprId) -> &Expr {
        &self.nodes[id.0 as usize]
    }

    /// How many expressions there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The smallest id in the subtree of `root`: the subtree is the id range
    /// from there to `root` (operands are pushed just before their users),
    /// found with a stack, not recursion.
    pub fn first_id(&self, root: ExprId) -> ExprId {
        let mut min = root;
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            min = min.min(id);
            match &self.get(id).kind {
                ExprKind::Neg(a) => stack.push(*a),
                ExprKind::Binary { lhs, rhs, .. } => stack.extend([*lhs, *rhs]),
                ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| a.value)),
                ExprKind::Array(items) => stack.extend(items.iter().copied()),
                ExprKind::Index { value, index } => {
                    stack.push(*value);
                    stack.extend(index.iter().copied());
                }
                ExprKind::Number(_) | ExprKind::Name(_) => {}
            }
        }
        min
    }

    /// Every expression with its id, operands before the expressions using them.
    pub fn iter(&self) -> impl Iterator<Item = (ExprId, &Expr)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, e)| (ExprId(i as u32), e))
    }
}

/// One expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it stands (for a parenthesized expression, without the parentheses).
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(Number),
    /// A name: a declaration, a binding, or a function written without parentheses.
    Name(Ident),
    /// `-x`
    Neg(ExprId),
    /// `a + b`, `a @ b`, ...
    Binary {
        /// The operator.
        op: BinOp,
        /// The left operand.
        lhs: ExprId,
        /// The right operand.
        rhs: ExprId,
    },
    /// `f(a, b, key = value)`
    Call {
        /// The function's name.
        func: Ident,
        /// The arguments as written.
        args: Vec<Arg>,
    },
    /// `[a, b, ...]`: only meaningful as a parameter's initializer.
    Array(Vec<ExprId>),
    /// `value[index]`: rows of a table by an index value (`C[ctx]`), or one
    /// row known at compile time (`x[-1]`). More than one index inside the
    /// brackets (`x[1, 2]`) is parsed so that the error can say so.
    Index {
        /// What is indexed.
        value: ExprId,
        /// What is inside the brackets.
        index: Vec<ExprId>,
    },
}

/// A call argument, positional or `key = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// The keyword, for `key = value`.
    pub name: Option<Ident>,
    /// The value.
    pub value: ExprId,
}

/// The binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`, elementwise
    Add,
    /// `-`, elementwise
    Sub,
    /// `*`, elementwise
    Mul,
    /// `/`, elementwise
    Div,
    /// `@`, the matrix product
    MatMul,
}

impl BinOp {
    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
            BinOp::MatMul => 3,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::MatMul => "@",
        }
    }
}
