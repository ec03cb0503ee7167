//! The derived gradients of a network as `explain` writes them, by name: the
//! chain rule of each parameter and the shared products (A, B, …) with what
//! uses each, read back off `explain`'s own text, so that a tool (the
//! language server's hover, the page) says exactly what the explanation says.

/// One network's gradients, by name.
#[derive(Debug, Clone, Default)]
pub struct Derivation {
    /// `∂ℓ/∂W1 = … = xᵀ·B` for each parameter, by name, in the order
    /// `explain` writes them.
    pub params: Vec<(String, String)>,
    /// The shared products, output side first.
    pub shared: Vec<Shared>,
}

/// A chain-rule product that several gradients share.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Its letter (`A`, `B`, … `A1`).
    pub letter: String,
    /// The value whose gradient it is (`z_h` in `∂ℓ/∂z_h`).
    pub node: String,
    /// The whole line: `B = ∂ℓ/∂z_h = (A·W2ᵀ) ⊙ h(1 − h)`.
    pub equation: String,
    /// What uses it (`∂ℓ/∂W1, ∂ℓ/∂b1`).
    pub used_by: String,
}

impl Derivation {
    /// Reads section 2 of `explain`'s text.
    pub fn read(text: &str) -> Derivation {
        let mut derivation = Derivation::default();
        let mut in_backward = false;
        for line in text.lines() {
            if line.starts_with("2. Backward") {
                in_backward = true;
                continue;
            }
            if line.starts_with("3. ") || line.starts_with("Cost per sample") {
                in_backward = false;
            }
            let Some(line) = line.strip_prefix("   ").filter(|_| in_backward) else {
                continue;
            };
            if line.starts_with(' ') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("∂ℓ/∂") {
                if let Some((name, _)) = rest.split_once(" = ") {
                    derivation.params.push((name.to_string(), line.to_string()));
                }
                continue;
            }
            let Some((letter, rest)) = line.split_once(" = ∂ℓ/∂") else {
                continue;
            };
            if !letter.chars().all(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            let (equation, used_by) = match line.split_once("  used by ") {
                Some((e, u)) => (e.trim_end(), u.trim()),
                None => (line, ""),
            };
            let node = rest.split(" = ").next().unwrap_or("").to_string();
            derivation.shared.push(Shared {
                letter: letter.to_string(),
                node,
                equation: equation.to_string(),
                used_by: used_by.to_string(),
            });
        }
        derivation
    }

    /// A parameter's chain-rule line.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.as_str())
    }

    /// The shared products a formula names (`B` in `xᵀ·B`).
    pub fn named_in(&self, formula: &str) -> Vec<&Shared> {
        let words: Vec<&str> = formula
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .collect();
        self.shared
            .iter()
            .filter(|s| words.contains(&s.letter.as_str()))
            .collect()
    }

    /// The shared product that is the gradient of a binding: of the value
    /// itself or of the sum before its activation (`z_h` of `h`).
    pub fn of_binding(&self, name: &str) -> Option<&Shared> {
        let before = format!("z_{name}");
        self.shared
            .iter()
            .find(|s| s.node == name)
            .or_else(|| self.shared.iter().find(|s| s.node == before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_xor_derivation() {
        let text = crate::explain(
            include_str!("../../examples/xor.nn"),
            None,
            super::super::Format::Text,
        )
        .unwrap();
        let d = Derivation::read(&text);
        assert_eq!(d.params.len(), 4);
        assert!(d.param("W1").unwrap().ends_with("= xᵀ·B"), "{:?}", d.params);
        let b = d.of_binding("h").unwrap();
        assert_eq!(b.letter, "B");
        assert_eq!(b.equation, "B = ∂ℓ/∂z_h = (A·W2ᵀ) ⊙ h(1 − h)");
        assert_eq!(b.used_by, "∂ℓ/∂W1, ∂ℓ/∂b1");
        let named: Vec<&str> = d
            .named_in(d.param("W1").unwrap())
            .iter()
            .map(|s| s.letter.as_str())
            .collect();
        assert_eq!(named, ["B"]);
    }
}
