//! Parser tests, written as data: source in, expected structure out.

use super::ast::*;
use super::parse;

/// The first binding's value as an S-expression.
fn sexpr(exprs: &Exprs, id: ExprId) -> String {
    match &exprs.get(id).kind {
        ExprKind::Number(n) => format!("{}", n.value),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Neg(a) => format!("(neg {})", sexpr(exprs, *a)),
        ExprKind::Binary { op, lhs, rhs } => format!(
            "({} {} {})",
            op.symbol(),
            sexpr(exprs, *lhs),
            sexpr(exprs, *rhs)
        ),
        ExprKind::Call { func, args } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(k) => format!("{}={}", k.name, sexpr(exprs, a.value)),
                    None => sexpr(exprs, a.value),
                })
                .collect();
            format!("({} {})", func.name, args.join(" "))
        }
        ExprKind::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| sexpr(exprs, *i)).collect();
            format!("[{}]", items.join(" "))
        }
        ExprKind::Index { value, index } => {
            let index: Vec<String> = index.iter().map(|i| sexpr(exprs, *i)).collect();
            format!("(index {} {})", sexpr(exprs, *value), index.join(" "))
        }
    }
}

fn check_expr(expr: &str, expected: &str) {
    let source = format!("network N {{ v = {expr} }}");
    let file = parse(&source).unwrap_or_else(|d| panic!("{expr}: {d}"));
    let net = &file.networks[0];
    let ItemKind::Binding { value, .. } = net.items[0].kind else {
        panic!("a binding")
    };
    assert_eq!(sexpr(&net.exprs, value), expected, "{expr}");
}

#[test]
fn precedence_and_associativity() {
    check_expr("a + b * c", "(+ a (* b c))");
    check_expr("a - b - c", "(- (- a b) c)");
    check_expr("a / b * c", "(* (/ a b) c)");
    check_expr("x @ W + b", "(+ (@ x W) b)");
    check_expr("2 * x @ W", "(* 2 (@ x W))");
    check_expr("-x @ W", "(@ (neg x) W)");
    check_expr("- -x", "(neg (neg x))");
    check_expr("(a + b) * c", "(* (+ a b) c)");
    check_expr("a - -0.7", "(- a (neg 0.7))");
}

#[test]
fn indexing_binds_tighter_than_every_operator() {
    check_expr("-x[0]", "(neg (index x 0))");
    check_expr("C[ctx] + P", "(+ (index C ctx) P)");
    check_expr("x[-1] @ W", "(@ (index x (neg 1)) W)");
    check_expr("x[1][2]", "(index (index x 1) 2)");
    check_expr("x[1, 2]", "(index x 1 2)");
    check_expr("E[ctx[-1]]", "(index E (index ctx (neg 1)))");
    check_expr("f(x)[0]", "(index (f x) 0)");
    check_expr("q @ transpose(k) / 4", "(/ (@ q (transpose k)) 4)");
}

#[test]
fn ranges_of_indices() {
    let src = "network N { input ctx: [8] in 0..27 target t: [] in 0..27; param E: [27, 2] output y = E[ctx] loss = sum(y) }";
    let file = parse(src).unwrap();
    let items = &file.networks[0].items;
    let ItemKind::Input { range: Some(r), .. } = &items[0].kind else {
        panic!("an input of indices")
    };
    assert_eq!((r.start.value, r.end.value), (0.0, 27.0));
    let ItemKind::Target {
        range: Some(r),
        shape,
        ..
    } = &items[1].kind
    else {
        panic!("a target of indices")
    };
    assert_eq!((r.end.value, shape.dims.len()), (27.0, 0));
    assert_eq!(
        &src[items[1].span.start..items[1].span.end],
        "target t: [] in 0..27"
    );
}

#[test]
fn calls_and_numbers() {
    check_expr("sigmoid(x @ W1 + b1)", "(sigmoid (+ (@ x W1) b1))");
    check_expr("leaky_relu(x, slope = 0.1)", "(leaky_relu x slope=0.1)");
    check_expr("f(a, b,)", "(f a b)");
    check_expr(
        "1_000 * 1e-3 + 2.5E+4 + 1.",
        "(+ (+ (* 1000 0.001) 25000) 1)",
    );
}

#[test]
fn statements_need_no_separators_and_accept_semicolons() {
    let src = "network N { input x: [2] target t: [1]; param W: [2, 1] = [[0.5], [-0.5]] output y = x @ W; loss = sse(y, t) }";
    let file = parse(src).unwrap();
    assert_eq!(file.networks[0].items.len(), 5);
}

#[test]
fn comments_nest_and_doc_comments_are_kept() {
    let src = "/* outer /* inner */ still comment */
/// Docs for N.
////  not a doc comment
network N {
    /// The input.
    input x: [2] // trailing
}";
    let file = parse(src).unwrap();
    let net = &file.networks[0];
    assert_eq!(net.docs, vec!["Docs for N."]);
    assert_eq!(net.items[0].docs, vec!["The input."]);
}

#[test]
fn spans_point_at_the_source() {
    let src = "network Net { h = x @ W1 }";
    let file = parse(src).unwrap();
    let net = &file.networks[0];
    assert_eq!(&src[net.name.span.range()], "Net");
    let ItemKind::Binding { value, .. } = net.items[0].kind else {
        panic!()
    };
    assert_eq!(&src[net.exprs.get(value).span.range()], "x @ W1");
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let cases = [
        ("network N { input x [2] }", "expected `:`, found `[`"),
        (
            "network N { h = x @ }",
            "expected an expression after `@`, found `}`",
        ),
        ("network { }", "expected a name after `network`, found `{`"),
        ("network N { input x: [2]", "unclosed `{`"),
    ];
    for (src, message) in cases {
        let err = parse(src).unwrap_err();
        let first = err.iter().next().unwrap();
        assert!(
            first.message.starts_with(message),
            "{src}: {}",
            first.message
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 10_000;
    let src = format!(
        "network N {{ h = {}x{} }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let err = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || parse(&src).unwrap_err())
        .unwrap()
        .join()
        .unwrap();
    assert!(err.has_errors());
}

#[test]
fn long_operator_chains_parse_without_recursion() {
    let src = format!("network N {{ h = x{} }}", " + x".repeat(5_000));
    let file = parse(&src).unwrap();
    assert_eq!(file.networks[0].exprs.len(), 10_001);
}

#[test]
fn a_doc_comment_after_an_expression_is_not_a_division() {
    let src = "network N {
    param W: [3, 2] = normal(0, 0.5)
    /// The biases.
    param b: [2] = constant(0.1)
    h = a // comment
    /* block */ g = a /* c */ / b
}";
    let file = parse(src).unwrap();
    let net = &file.networks[0];
    assert_eq!(net.items.len(), 4);
    assert_eq!(net.items[1].docs, vec!["The biases."]);
}

#[test]
fn keywords_are_not_names_anywhere() {
    let decls = "input x: [2]\ntarget t: [1]\nparam W: [2, 1]";
    let cases = [
        // Names.
        (
            "network param { }".to_string(),
            "`param` is a keyword and cannot name a network",
        ),
        (
            "network N { input dtype: [2] }".to_string(),
            "`dtype` is a keyword and cannot name a value",
        ),
        (
            "network N { target loss: [1] }".to_string(),
            "`loss` is a keyword and cannot name a value",
        ),
        (
            "network N { param input: [2] }".to_string(),
            "`input` is a keyword and cannot name a value",
        ),
        (
            "network N { output loss = x }".to_string(),
            "`loss` is a keyword and cannot name a value",
        ),
        (
            "network N { param = x }".to_string(),
            "`param` is a keyword and cannot name a value",
        ),
        (
            "network N { train = sgd(0.1) }".to_string(),
            "`train` is a keyword and cannot name a value",
        ),
        (
            "network N { y = f(x, loss = 1) }".to_string(),
            "`loss` is a keyword and cannot name an argument",
        ),
        (
            "network N { y = param(x) }".to_string(),
            "`param` is a keyword and cannot name a function",
        ),
        (
            "network N { input\nparam W: [2] }".to_string(),
            "expected a name after `input`, found keyword `param`",
        ),
        (
            "network N { dtype\nparam W: [2] }".to_string(),
            "expected a dtype after `dtype`, found keyword `param`",
        ),
        // Values.
        (
            format!("network N {{ {decls}\nparam b: [1] =\nparam c: [1] }}"),
            "expected an initializer after `=`, found keyword `param`",
        ),
        (
            format!("network N {{ {decls}\nparam b: [1] = loss }}"),
            "expected an initializer after `=`, found keyword `loss`",
        ),
        (
            format!("network N {{ {decls}\nh =\noutput y = x }}"),
            "expected an expression after `=`, found keyword `output`",
        ),
        (
            format!("network N {{ {decls}\nloss =\ntrain sgd }}"),
            "expected an expression after `=`, found keyword `train`",
        ),
        (
            format!("network N {{ {decls}\ntrain\ndtype f64 }}"),
            "expected an optimizer after `train`, found keyword `dtype`",
        ),
        (
            "network N { y = param + x }".to_string(),
            "expected an expression after `=`, found keyword `param`",
        ),
        (
            "network N { y = x @ param }".to_string(),
            "expected an expression after `@`, found keyword `param`",
        ),
        (
            "network N { y = -input }".to_string(),
            "expected an expression after `-`, found keyword `input`",
        ),
        (
            "network N { y = (target) }".to_string(),
            "expected an expression after `(`, found keyword `target`",
        ),
        (
            "network N { y = f(x, network) }".to_string(),
            "expected an expression after `,`, found keyword `network`",
        ),
        (
            "network N { y = f(x, slope = train) }".to_string(),
            "expected an expression after `=`, found keyword `train`",
        ),
        (
            "network N { y = [1, dtype] }".to_string(),
            "expected an expression after `,`, found keyword `dtype`",
        ),
    ];
    for (src, message) in cases {
        let err = parse(&src).unwrap_err();
        let first = err.iter().next().unwrap();
        assert_eq!(first.message, message, "{src}");
    }
}

#[test]
fn words_that_start_with_a_keyword_are_names() {
    let src = "network Params {
    input params: [2]
    input input2: [2]
    target targets: [1]
    param W: [2, 1] = normal(0, 0.1)
    output_ = params @ W + input2 @ W
    output output2 = trainer(output_, loss_weight = dtypes)
    loss = losses(output2, targets)
    train networks
}";
    let file = parse(src).unwrap();
    assert_eq!(file.networks[0].items.len(), 8);
}

#[test]
fn every_keyword_is_reserved() {
    for keyword in super::parse::KEYWORDS {
        let src = format!("network N {{ y = {keyword} }}");
        let err = parse(&src).unwrap_err();
        let first = err.iter().next().unwrap();
        assert!(
            first.message.contains(&format!("keyword `{keyword}`")),
            "{src}: {}",
            first.message
        );
        parse(&format!("network N {{ y = {keyword}_ }}")).unwrap();
    }
}

#[test]
fn keywords_inside_words_and_odd_places_do_not_crash_the_errors() {
    let pieces = [
        "xparam", "param", "paramx", "=", "(", ")", ":", "[2]", "/* c */", "\n", "é", ",",
    ];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let src = format!("network N {{ y = {a} {b}{c} }}");
                let _ = parse(&src);
                let src = format!("network N {{ {a}{b} {c}");
                let _ = parse(&src);
            }
        }
    }
}

/// What people type on the way to a correct file: each syntax error says
/// what it found, never pest's "expected something else".
const HALF_WRITTEN: &[&str] = &[
    "",
    "n",
    "netwrk",
    "netwrk Foo {",
    "netwrk Foo { }",
    "nework Foo { input x: [2] }",
    "Network Foo {}",
    "blok gain(x) { return x }",
    "network",
    "network {",
    "network Foo",
    "network Foo\n    input x: [2]\n}",
    "network Foo {",
    "network Foo {\n    input",
    "network Foo {\n    input x",
    "network Foo {\n    input x:",
    "network Foo {\n    input x: [",
    "network Foo {\n    input x: [2,",
    "network Foo {\n    input x: [2]\n}",
    "network Foo {\n    parm W1: [2, 3]\n}",
    "network Foo {\n    inptu x: [2]\n}",
    "network Foo {\n    outptu y = x\n}",
    "network Foo {\n    los = sse(y, t) extra\n}",
    "network Foo {\n    trian sgd(lr = 0.1)\n}",
    "network Foo {\n    dtyp f64\n}",
    "network Foo {\n    tra\n}",
    "network Foo {\n    loss = sse(y, t) extra\n}",
    "network Foo { loss = sse(y, t) extra }",
    "network Foo {\n    y = x extra z\n}",
    "network Foo {\n    y = x 2\n}",
    "network Foo {\n    y = x; 2\n}",
    "network Foo {\n    param W: [2, 3] =\n}",
    "network Foo {\n    y =\n}",
    "network Foo {\n    y = x +\n}",
    "network Foo {\n    y = f(x,",
    "network Foo {\n    y = f(x, axis=)\n}",
    "network Foo {\n    y = x[",
    "network Foo {\n    y = x[0\n}",
    "network Foo {\n    input 2x: [2]\n}",
    "network Foo {\n    3 = x\n}",
    "network Foo {\n    y = x % 2\n}",
    "network Foo {\n    y = x ** 2\n}",
    "network Foo {\n    y = x ^ 2\n}",
    "network Foo {\n    y == x\n}",
    "network Foo {\n    y = relu(\"x\")\n}",
    "network Foo {\n    input x: [2] # two\n}",
    "network Foo {\n    input x: [2];;\n}",
    "network Foo {\n    ;\n}",
    "network Foo {\n    =\n}",
    "network Foo {\n    W: [2, 2]\n}",
    "network Foo {\n    optimizer sgd(lr = 0.1)\n}",
    "network Foo {\n    loss\n}",
    "network Foo {\n    dtype\n}",
    "network Foo {\n    train\n}",
    "network Foo {\n    return y\n}",
    "network Foo {\n    input x: [] in 0..\n}",
    "network Foo {\n    /// doc\n}",
    "network Foo {\n    input x: [2]\n\nnetwork Bar {\n}",
    "network Foo {\n    block gain(x) {\n}",
    "network Foo { input x: [2] }\ntrain sgd(lr = 0.1)",
    "network Foo { input x: [2] }\nextra",
    "network Foo { input x: [2] }\n%",
    "network Foo { input x: [2] }}",
    "network Foo { input x: [2] ) }",
    "block gain(x) {\n    parm g: [2]\n    return x\n}",
    "block gain(x) {\n    retrun x\n}",
    "block gain(x) {\n    return\n}",
    "block gain(x) {\n    return x extra\n}",
    "block gain(x) {\n    return x\n    h = x\n}",
    "block gain(x) {\n    input y: [2]\n    return x\n}",
    "block gain(x) {\n    h = x\n}",
    "block gain(x {\n    return x\n}",
    "block (x) {\n    return x\n}",
    "x",
    "}",
    "%",
    "\u{0}",
    "é",
];

#[test]
fn half_written_files_never_say_something_else() {
    for src in HALF_WRITTEN {
        // Some parse, and are the checker's to refuse.
        let (_, diagnostics) = super::parse_recovering(src);
        for d in diagnostics.iter() {
            assert!(
                !d.message.contains("something else")
                    && !d.primary.message.contains("something else"),
                "{src:?}: {}",
                d.message
            );
        }
    }
}

#[test]
fn misspelt_keywords_and_stray_words_are_named() {
    let cases = [
        (
            "netwrk Foo {",
            "unknown keyword `netwrk`",
            Some("did you mean `network`?"),
        ),
        (
            "blok g(x) { return x }",
            "unknown keyword `blok`",
            Some("did you mean `block`?"),
        ),
        (
            "network N { parm W1: [2, 3] }",
            "unknown keyword `parm`",
            Some("did you mean `param`?"),
        ),
        (
            "network N {\n dtyp f64\n}",
            "unknown keyword `dtyp`",
            Some("did you mean `dtype`?"),
        ),
        (
            "block g(x) {\n retrun x\n}",
            "unknown keyword `retrun`",
            Some("did you mean `return`?"),
        ),
        (
            "network N { loss = sse(y, t) extra }",
            "unexpected `extra` after the end of the `loss` statement",
            None,
        ),
        (
            "network N { y = x extra z }",
            "unexpected `extra` after the end of the binding of `y`",
            None,
        ),
        (
            "network N { input x: [2] } extra",
            "unexpected `extra` after the end of the network `N`",
            None,
        ),
        ("network N { y = x % 2 }", "unexpected character `%`", None),
    ];
    for (src, message, help) in cases {
        let err = parse(src).unwrap_err();
        let first = err.iter().next().unwrap();
        assert_eq!(first.message, message, "{src}");
        if help.is_some() {
            assert_eq!(first.help.as_deref(), help, "{src}");
        }
        // The caret is on the word itself, not on the brace after it.
        let word = message.split('`').nth(1).unwrap();
        assert_eq!(&src[first.primary.span.range()], word, "{src}");
    }
}

/// Every line of a few files typed anew, character by character, the rest
/// of the file in place: what an editor checks on every keystroke.
#[test]
fn every_keystroke_of_a_line_gives_a_sentence() {
    let files = [
        include_str!("../../tests/fixtures/pass/doc_after_expression.nn"),
        include_str!("../../tests/fixtures/pass/block_shape_argument.nn"),
        include_str!("../../tests/fixtures/pass/bigram.nn"),
        include_str!("../../tests/fixtures/pass/syntax_forms.nn"),
    ];
    for text in files {
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.len();
            for (i, _) in line.char_indices() {
                let src = format!("{}{}\n{}", &text[..start], &line[..i], &text[end..]);
                let (_, diagnostics) = super::parse_recovering(&src);
                for d in diagnostics.iter() {
                    assert!(
                        !d.message.is_empty()
                            && !d.message.contains("something else")
                            && d.primary.span.end <= src.len(),
                        "{src}\n{}",
                        d.message
                    );
                }
            }
            start = end;
        }
    }
}
