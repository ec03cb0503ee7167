//! The elementwise functions of the language, with their derivatives.
//!
//! Each function is written once here as Rust on one scalar: its value, and its
//! derivative in terms of the input `x` and the output `y = f(x)` (whichever is
//! cheaper: σ′ reuses the forward `y`). Code generation splices these into
//! fused loops; `explain` prints the math notation beside them.

use proc_macro2::TokenStream;
use quote::quote;

/// An elementwise function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Func {
    /// σ(x) = 1 / (1 + e^(−x))
    Sigmoid,
    /// tanh(x)
    Tanh,
    /// max(x, 0)
    Relu,
    /// x for x > 0, slope·x otherwise; the slope is stored as its bits so
    /// that `Func` stays `Eq` and `Hash`.
    LeakyRelu(u64),
    /// ln(1 + eˣ)
    Softplus,
    /// eˣ
    Exp,
    /// ln x
    Log,
    /// √x
    Sqrt,
    /// x²
    Square,
    /// |x|
    Abs,
    /// Heaviside: 1 for x > 0, else 0. No gradient passes it.
    Step,
    /// x·Φ(x) = ½ x (1 + erf(x/√2)), with the exact normal CDF Φ (PyTorch's
    /// `nn.GELU()`, not its tanh approximation).
    Gelu,
}

impl Func {
    /// The function's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sigmoid => "sigmoid",
            Func::Tanh => "tanh",
            Func::Relu => "relu",
            Func::LeakyRelu(_) => "leaky_relu",
            Func::Softplus => "softplus",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Square => "square",
            Func::Abs => "abs",
            Func::Step => "step",
            Func::Gelu => "gelu",
        }
    }

    /// Looks a function up by its name; `leaky_relu` takes its slope.
    pub fn from_name(name: &str, slope: f64) -> Option<Func> {
        Some(match name {
            "sigmoid" => Func::Sigmoid,
            "tanh" => Func::Tanh,
            "relu" => Func::Relu,
            "leaky_relu" => Func::LeakyRelu(slope.to_bits()),
            "softplus" => Func::Softplus,
            "exp" => Func::Exp,
            "log" => Func::Log,
            "sqrt" => Func::Sqrt,
            "square" => Func::Square,
            "abs" => Func::Abs,
            "step" => Func::Step,
            "gelu" => Func::Gelu,
            _ => return None,
        })
    }

    /// Every function name of version 1, for "did you mean" hints and docs:
    /// these cannot name values. (`gelu`, of version 3, can.)
    pub const NAMES: [&'static str; 11] = [
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "softplus",
        "exp",
        "log",
        "sqrt",
        "square",
        "abs",
        "step",
    ];

    /// f(x) on a number, for folding constants at compile time.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Func::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Func::Tanh => x.tanh(),
            Func::Relu => x.max(0.0),
            Func::LeakyRelu(_) if x > 0.0 => x,
            Func::LeakyRelu(_) => self.slope() * x,
            Func::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            Func::Exp => x.exp(),
            Func::Log => x.ln(),
            Func::Sqrt => x.sqrt(),
            Func::Square => x * x,
            Func::Abs => x.abs(),
            Func::Step => f64::from(u8::from(x > 0.0)),
            Func::Gelu => 0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2)),
        }
    }

    /// f′(x) on a number, given y = f(x): what [`Func::derivative`] writes
    /// as Rust, for evaluating a graph in f64 (the page's walk-through).
    pub fn eval_derivative(self, x: f64, y: f64) -> f64 {
        match self {
            Func::Sigmoid => y * (1.0 - y),
            Func::Tanh => 1.0 - y * y,
            Func::Relu => f64::from(u8::from(y > 0.0)),
            Func::LeakyRelu(_) if x > 0.0 => 1.0,
            Func::LeakyRelu(_) => self.slope(),
            Func::Softplus => Func::Sigmoid.eval(x),
            Func::Exp => y,
            Func::Log => 1.0 / x,
            Func::Sqrt => 0.5 / y,
            Func::Square => 2.0 * x,
            Func::Abs if x > 0.0 => 1.0,
            Func::Abs if x < 0.0 => -1.0,
            Func::Abs | Func::Step => 0.0,
            // Φ(x) + x·φ(x)
            Func::Gelu => {
                let phi = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
                0.5 * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2)) + x * phi
            }
        }
    }

    /// Whether a gradient passes this function at all.
    pub fn has_gradient(self) -> bool {
        self != Func::Step
    }

    fn slope(self) -> f64 {
        match self {
            Func::LeakyRelu(bits) => f64::from_bits(bits),
            _ => 0.0,
        }
    }

    /// The value f(x), as Rust on the scalar expression `x` (which must be an
    /// atom: a name or a parenthesized expression), with its precedence
    /// (see [`Prec`]).
    pub fn value(self, x: &TokenStream) -> (TokenStream, Prec) {
        let tokens = match self {
            Func::Sigmoid => quote!(::denpa::runtime::sigmoid(#x)),
            Func::Tanh => quote!(#x.tanh()),
            Func::Relu => quote!(#x.max(0.0)),
            Func::LeakyRelu(_) => {
                let slope = literal(self.slope()).0;
                quote!(if #x > 0.0 { #x } else { #slope * #x })
            }
            Func::Softplus => quote!(::denpa::runtime::softplus(#x)),
            Func::Exp => quote!(#x.exp()),
            Func::Log => quote!(#x.ln()),
            Func::Sqrt => quote!(#x.sqrt()),
            Func::Square => quote!(#x * #x),
            Func::Abs => quote!(#x.abs()),
            Func::Step => quote!(if #x > 0.0 { 1.0 } else { 0.0 }),
            Func::Gelu => quote!(::denpa::runtime::gelu(#x)),
        };
        let prec = match self {
            Func::LeakyRelu(_) | Func::Step => Prec::Block,
            Func::Square => Prec::Mul,
            _ => Prec::Atom,
        };
        (tokens, prec)
    }

    /// The derivative f′(x), as Rust on the scalars `x` and `y = f(x)`.
    pub fn derivative(self, x: &TokenStream, y: &TokenStream) -> (TokenStream, Prec) {
        let tokens = match self {
            // σ′(x) = σ(x)(1 − σ(x)) = y(1 − y): reuses the forward value.
            Func::Sigmoid => quote!(#y * (1.0 - #y)),
            // tanh′(x) = 1 − tanh²(x) = 1 − y²
            Func::Tanh => quote!(1.0 - #y * #y),
            // relu′(x) = 1 for x > 0, else 0: the mask of the forward pass.
            // relu′ = 1 where y = relu(x) > 0: the forward output's mask.
            Func::Relu => quote!(if #y > 0.0 { 1.0 } else { 0.0 }),
            Func::LeakyRelu(_) => {
                let slope = literal(self.slope()).0;
                quote!(if #x > 0.0 { 1.0 } else { #slope })
            }
            // softplus′(x) = σ(x)
            Func::Softplus => quote!(::denpa::runtime::sigmoid(#x)),
            // exp′(x) = eˣ = y
            Func::Exp => quote!(#y),
            // ln′(x) = 1/x
            Func::Log => quote!(1.0 / #x),
            // √′(x) = 1/(2√x) = 1/(2y)
            Func::Sqrt => quote!(0.5 / #y),
            // (x²)′ = 2x
            Func::Square => quote!(2.0 * #x),
            // |x|′ = sign(x), 0 at 0
            Func::Abs => quote!(if #x > 0.0 { 1.0 } else if #x < 0.0 { -1.0 } else { 0.0 }),
            // step′ = 0 everywhere it exists
            Func::Step => quote!(0.0),
            // gelu′(x) = Φ(x) + x·φ(x), φ the normal density
            Func::Gelu => quote!(::denpa::runtime::gelu_derivative(#x)),
        };
        let prec = match self {
            Func::Relu | Func::LeakyRelu(_) | Func::Abs => Prec::Block,
            Func::Tanh => Prec::Add,
            Func::Sigmoid | Func::Log | Func::Sqrt | Func::Square => Prec::Mul,
            Func::Softplus | Func::Exp | Func::Step | Func::Gelu => Prec::Atom,
        };
        (tokens, prec)
    }

    /// The loosest expression `value` can take as its `x` without
    /// parentheses: anything as a function's argument, an atom before a
    /// method call, a unary operand in a product.
    pub fn value_argument(self) -> Prec {
        match self {
            Func::Sigmoid | Func::Softplus | Func::Gelu => Prec::Block,
            Func::Step => Prec::Add,
            Func::Square | Func::LeakyRelu(_) => Prec::Unary,
            Func::Tanh | Func::Relu | Func::Exp | Func::Log | Func::Sqrt | Func::Abs => Prec::Atom,
        }
    }

    /// The same for the arguments of `derivative`.
    pub fn derivative_argument(self) -> Prec {
        match self {
            Func::Softplus | Func::Gelu => Prec::Block,
            Func::Relu | Func::LeakyRelu(_) | Func::Abs | Func::Step => Prec::Add,
            Func::Sigmoid | Func::Tanh | Func::Square => Prec::Unary,
            Func::Exp | Func::Log | Func::Sqrt => Prec::Atom,
        }
    }

    /// Whether the derivative uses the input `x` (else only `y`).
    pub fn derivative_uses_x(self) -> bool {
        !matches!(
            self,
            Func::Sigmoid | Func::Tanh | Func::Relu | Func::Exp | Func::Sqrt | Func::Step
        )
    }

    /// Whether the derivative uses the output `y`.
    pub fn derivative_uses_y(self) -> bool {
        matches!(
            self,
            Func::Sigmoid | Func::Tanh | Func::Relu | Func::Exp | Func::Sqrt
        )
    }
}

/// How tightly a Rust expression binds, to parenthesize only where needed
/// (rustc warns about parentheses that are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prec {
    /// A name, literal, call or method call.
    Atom,
    /// `-x`
    Unary,
    /// `a * b`, `a / b`
    Mul,
    /// `a + b`, `a - b`
    Add,
    /// `if ... { } else { }`: parenthesized wherever it is an operand.
    Block,
}

/// A float literal that always has a decimal point (`1.0`, not `1`), so that
/// it types as the network's float type. Negative values are `-x` (unary).
pub fn literal(value: f64) -> (TokenStream, Prec) {
    let lit = proc_macro2::Literal::f64_unsuffixed(value.abs());
    if value.is_sign_negative() && value != 0.0 {
        (quote!(-#lit), Prec::Unary)
    } else {
        (quote!(#lit), Prec::Atom)
    }
}
