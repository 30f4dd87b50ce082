//! Region expressions: class names, named regions, and functions over them:
//! `union(a, b, ...)`, `intersect(a, b, ...)`, `minus(a, b)`, `hull(a)`, `fill_holes(a)`,
//! `largest(a)`, `dilate(a, 10px)`, `erode(a, 2mm)`. For example
//! `dilate(hull(union(right_lung, left_lung)), 10px)`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Length {
    Px(f64),
    Mm(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A class or a named region.
    Name(String),
    Union(Vec<Expr>),
    Intersect(Vec<Expr>),
    Minus(Box<Expr>, Box<Expr>),
    Hull(Box<Expr>),
    FillHoles(Box<Expr>),
    Largest(Box<Expr>),
    Dilate(Box<Expr>, Length),
    Erode(Box<Expr>, Length),
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Length::Px(v) => write!(f, "{v}px"),
            Length::Mm(v) => write!(f, "{v}mm"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[Expr]| v.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
        match self {
            Expr::Name(n) => write!(f, "{n}"),
            Expr::Union(v) => write!(f, "union({})", list(v)),
            Expr::Intersect(v) => write!(f, "intersect({})", list(v)),
            Expr::Minus(a, b) => write!(f, "minus({a}, {b})"),
            Expr::Hull(a) => write!(f, "hull({a})"),
            Expr::FillHoles(a) => write!(f, "fill_holes({a})"),
            Expr::Largest(a) => write!(f, "largest({a})"),
            Expr::Dilate(a, r) => write!(f, "dilate({a}, {r})"),
            Expr::Erode(a, r) => write!(f, "erode({a}, {r})"),
        }
    }
}

impl Expr {
    /// Whether a length is given in millimetres (which needs the pixel spacing).
    pub fn uses_mm(&self) -> bool {
        match self {
            Expr::Name(_) => false,
            Expr::Union(v) | Expr::Intersect(v) => v.iter().any(Expr::uses_mm),
            Expr::Minus(a, b) => a.uses_mm() || b.uses_mm(),
            Expr::Dilate(a, r) | Expr::Erode(a, r) => matches!(r, Length::Mm(_)) || a.uses_mm(),
            Expr::Hull(a) | Expr::FillHoles(a) | Expr::Largest(a) => a.uses_mm(),
        }
    }

    /// Every name the expression refers to.
    pub fn names(&self, out: &mut Vec<String>) {
        match self {
            Expr::Name(n) => out.push(n.clone()),
            Expr::Union(v) | Expr::Intersect(v) => v.iter().for_each(|e| e.names(out)),
            Expr::Minus(a, b) => {
                a.names(out);
                b.names(out);
            }
            Expr::Hull(a) | Expr::FillHoles(a) | Expr::Largest(a) | Expr::Dilate(a, _) | Expr::Erode(a, _) => {
                a.names(out)
            }
        }
    }
}

/// Parse an expression; the error gives the character position and what was expected.
pub fn parse(text: &str) -> Result<Expr, (usize, String)> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.ws();
    if p.i < p.s.len() {
        return Err((p.i, format!("unexpected {:?}", &text[p.i..])));
    }
    Ok(e)
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    /// Functions open around the current position.
    depth: usize,
}

/// Deepest nesting of functions in one expression: 20,000 nested `hull(` overflowed the stack,
/// 5,000 took minutes; no real region needs more than a handful.
pub const MAX_DEPTH: usize = 32;

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'_' | b'-' | b'.'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), (usize, String)> {
        if self.eat(c) {
            Ok(())
        } else {
            Err((self.i, format!("expected '{}'", c as char)))
        }
    }

    fn length(&mut self) -> Result<Length, (usize, String)> {
        let at = self.i;
        let w = self.word();
        let (num, unit) = w.split_at(w.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(w.len()));
        let v: f64 = num
            .parse()
            .map_err(|_| (at, format!("{w:?} is not a length like 10px or 2.5mm")))?;
        if !v.is_finite() {
            return Err((at, format!("{w:?} is not a finite length")));
        }
        if v < 0.0 {
            return Err((at, "a length cannot be negative".into()));
        }
        match unit {
            "px" | "" => Ok(Length::Px(v)),
            "mm" => Ok(Length::Mm(v)),
            u => Err((at, format!("unit {u:?}: use px or mm"))),
        }
    }

    fn expr(&mut self) -> Result<Expr, (usize, String)> {
        let at = self.i;
        let name = self.word();
        if name.is_empty() {
            return Err((at, "expected a class, a region or a function".into()));
        }
        if !self.eat(b'(') {
            return Ok(Expr::Name(name));
        }
        if self.depth >= MAX_DEPTH {
            return Err((at, format!("functions nested more than {MAX_DEPTH} deep")));
        }
        self.depth += 1;
        let e = self.call(at, name);
        self.depth -= 1;
        e
    }

    fn call(&mut self, at: usize, name: String) -> Result<Expr, (usize, String)> {
        let one = |p: &mut Self| -> Result<Box<Expr>, (usize, String)> {
            let e = p.expr()?;
            p.expect(b')')?;
            Ok(Box::new(e))
        };
        let list = |p: &mut Self| -> Result<Vec<Expr>, (usize, String)> {
            let mut v = vec![p.expr()?];
            while p.eat(b',') {
                v.push(p.expr()?);
            }
            p.expect(b')')?;
            Ok(v)
        };
        Ok(match name.as_str() {
            "union" => Expr::Union(list(self)?),
            "intersect" => Expr::Intersect(list(self)?),
            "minus" => {
                let v = list(self)?;
                let [a, b]: [Expr; 2] = v
                    .try_into()
                    .map_err(|_| (at, "minus takes two regions: minus(a, b)".to_string()))?;
                Expr::Minus(Box::new(a), Box::new(b))
            }
            "hull" => Expr::Hull(one(self)?),
            "fill_holes" => Expr::FillHoles(one(self)?),
            "largest" => Expr::Largest(one(self)?),
            "dilate" | "erode" => {
                let a = self.expr()?;
                self.expect(b',')?;
                let r = self.length()?;
                self.expect(b')')?;
                if name == "dilate" {
                    Expr::Dilate(Box::new(a), r)
                } else {
                    Expr::Erode(Box::new(a), r)
                }
            }
            other => {
                return Err((
                    at,
                    format!(
                        "unknown function {other:?} (union, intersect, minus, hull, fill_holes, largest, dilate, erode)"
                    ),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_expressions_and_reports_positions() {
        let e = parse("dilate(hull(union(right_lung, left_lung)), 10px)").unwrap();
        assert_eq!(e.to_string(), "dilate(hull(union(right_lung, left_lung)), 10px)");
        let mut names = vec![];
        e.names(&mut names);
        assert_eq!(names, ["right_lung", "left_lung"]);
        assert_eq!(
            parse("erode(lungs, 2.5mm)").unwrap(),
            Expr::Erode(Box::new(Expr::Name("lungs".into())), Length::Mm(2.5))
        );
        assert!(parse("hull(lungs").unwrap_err().1.contains("expected ')'"));
        assert_eq!(parse("blur(lungs)").unwrap_err().0, 0);
        assert!(parse("dilate(lungs, 3in)").unwrap_err().1.contains("px or mm"));
        assert!(parse("minus(a)").is_err());
    }
}
