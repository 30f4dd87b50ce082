//! Filter expressions over cases, as typed after `/` in the dashboard (and, later, given to
//! `lightbox export --filter`):
//!
//! ```text
//! class:opacity score>=0.8            both (terms side by side are ANDed)
//! problem or preds>3                  either
//! not class:heart                     negation (also `!class:heart`)
//! (error or gt=0) id:case-00          grouping; `id:` matches part of the case id
//! ```
//!
//! Terms: `class:NAME` (a box or instance of the class in the ground truth or the run),
//! `score OP X` (some prediction of the run), `preds OP N` / `gt OP N` (counts), `problem`,
//! `error`, `warning`, `flag`, `flag:RULE`, `critical`/`major`/`minor` (a flag of at least that
//! severity), `tag:NAME` / `tagged` (the pack's workspace tags), `verdict:accept|reject|unsure`
//! / `reviewed` (the review in progress), `run:NAME` (the run has something on the case),
//! `NAME:flag`, `NAME:flag:RULE`, `NAME:critical|major|minor` (a flag of run NAME itself, not of
//! the input, the ground truth or another run: `candidate:critical`),
//! `id:TEXT` or a bare word (part of the case id). `OP` is one of
//! `> >= < <= =`.

use crate::pack::{Level, Pack};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

impl Cmp {
    fn test(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Eq => (a - b).abs() < 1e-12,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Class(String),
    Score(Cmp, f64),
    Preds(Cmp, f64),
    Gt(Cmp, f64),
    Problem(Option<Level>),
    Id(String),
    /// A flag (of the input, the ground truth or the run), optionally of one rule.
    Flag(Option<String>),
    /// A flag of at least this severity.
    FlagSeverity(crate::rules::Severity),
    /// A tag from the pack's workspace (`tag:hard`); `tagged`: any tag.
    Tag(Option<String>),
    /// A verdict of the review in progress (`verdict:reject`); `reviewed`: any verdict.
    Verdict(Option<crate::review::Verdict>),
    /// Run NAME says something about the case (predictions, a mask, maps or scores).
    Run(usize),
    /// A flag term (`Flag` or `FlagSeverity`) over one run's own flags (`candidate:critical`).
    RunFlag(usize, Box<Term>),
}

impl Term {
    /// The rule a `flag:RULE` term names (also inside `NAME:flag:RULE`).
    pub fn rule(&self) -> Option<&str> {
        match self {
            Term::Flag(Some(r)) => Some(r),
            Term::RunFlag(_, t) => t.rule(),
            _ => None,
        }
    }

    /// Whether the term needs the rules' flags.
    pub fn needs_flags(&self) -> bool {
        matches!(self, Term::Flag(_) | Term::FlagSeverity(_) | Term::RunFlag(..))
    }
}

/// What an expression is evaluated against.
pub struct Ctx<'a> {
    pub pack: &'a Pack,
    pub run: Option<usize>,
    /// Problems to match `problem`/`error`/`warning` against (the pack's, plus validation's).
    pub problems: &'a [crate::pack::Problem],
    /// Flags to match `flag`, `flag:RULE`, `critical`, `major`, `minor` against.
    pub flags: &'a [crate::rules::Flag],
    /// Tags to match `tag:NAME` and `tagged` against.
    pub workspace: Option<&'a crate::workspace::Workspace>,
    /// Verdicts of the review in progress, by case id (`verdict:`, `reviewed`); none outside one.
    pub verdicts: Option<&'a VerdictOf<'a>>,
}

/// A case's verdict in the review in progress, by case id.
pub type VerdictOf<'a> = dyn Fn(&str) -> Option<crate::review::Verdict> + 'a;

impl Ctx<'_> {
    /// Flags that concern a case under the current run: the input's, the ground truth's, the run's.
    pub fn case_flags(&self, case: usize) -> impl Iterator<Item = &crate::rules::Flag> {
        crate::rules::eval::case_flags(self.flags, case, self.run)
    }
}

impl Expr {
    /// Whether any term of the expression satisfies `pred` (what a caller must compute first:
    /// flags for `flag` terms, validation for `problem` terms).
    pub fn any_term(&self, pred: &impl Fn(&Term) -> bool) -> bool {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().any(|e| e.any_term(pred)),
            Expr::Not(e) => e.any_term(pred),
            Expr::Term(t) => pred(t),
        }
    }

    pub fn matches(&self, ctx: &Ctx, case: usize) -> bool {
        match self {
            Expr::And(v) => v.iter().all(|e| e.matches(ctx, case)),
            Expr::Or(v) => v.iter().any(|e| e.matches(ctx, case)),
            Expr::Not(e) => !e.matches(ctx, case),
            Expr::Term(t) => t.matches(ctx, case),
        }
    }
}

impl Term {
    fn matches(&self, ctx: &Ctx, case: usize) -> bool {
        let pack = ctx.pack;
        let preds = ctx
            .run
            .and_then(|r| pack.runs.get(r))
            .map(|r| r.annotations[case].instances.as_slice())
            .unwrap_or(&[]);
        let gts = &pack.ground_truth[case].instances;
        match self {
            Term::Class(name) => match pack.class_by_name(name) {
                Some(c) => gts.iter().chain(preds).any(|i| i.class == c.id),
                None => false,
            },
            Term::Score(op, x) => preds.iter().any(|i| i.score.is_some_and(|s| op.test(s, *x))),
            Term::Preds(op, x) => op.test(preds.len() as f64, *x),
            Term::Gt(op, x) => op.test(gts.len() as f64, *x),
            Term::Problem(sev) => ctx
                .problems
                .iter()
                .any(|p| p.case == Some(case) && sev.is_none_or(|s| p.severity == s)),
            Term::Id(text) => pack.cases[case].id.0.to_lowercase().contains(&text.to_lowercase()),
            Term::Flag(rule) => ctx.case_flags(case).any(|f| rule.as_ref().is_none_or(|r| &f.rule == r)),
            Term::FlagSeverity(s) => ctx.case_flags(case).any(|f| f.severity >= *s),
            Term::Verdict(v) => ctx.verdicts.is_some_and(|f| {
                let got = f(&pack.cases[case].id.0);
                match v {
                    Some(v) => got == Some(*v),
                    None => got.is_some(),
                }
            }),
            Term::Run(r) => pack.runs.get(*r).is_some_and(|run| !run.annotations[case].is_empty()),
            Term::RunFlag(r, t) => {
                let own = ctx
                    .flags
                    .iter()
                    .filter(|f| f.case == case && f.source == Some(crate::pack::Source::Run(*r)));
                match t.as_ref() {
                    Term::Flag(rule) => own.into_iter().any(|f| rule.as_ref().is_none_or(|x| &f.rule == x)),
                    Term::FlagSeverity(s) => own.into_iter().any(|f| f.severity >= *s),
                    _ => false,
                }
            }
            Term::Tag(tag) => ctx.workspace.is_some_and(|w| {
                let id = &pack.cases[case].id.0;
                match tag {
                    Some(t) => w.has(id, t),
                    None => w.tags(id).next().is_some(),
                }
            }),
        }
    }
}

/// Why a filter could not be parsed: where (`at`, the index of the word or parenthesis, from
/// 0) or which term, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("empty filter")]
    Empty,
    #[error("unexpected {token:?}")]
    Unexpected { token: String, at: usize },
    #[error("expected a term")]
    ExpectedTerm { at: usize },
    #[error("missing )")]
    MissingParen { at: usize },
    #[error("no class {name:?} (classes: {})", known.join(", "))]
    NoClass { name: String, known: Vec<String> },
    #[error("{term:?}: a tag is one word (letters, digits, -, _, .)")]
    BadTag { term: String },
    #[error("{term:?}: verdicts are accept, reject and unsure")]
    BadVerdict { term: String },
    /// `run:NAME` names no run of the pack.
    #[error(transparent)]
    NoRun(#[from] crate::pack::LookupError),
    #[error("{term:?}: {number:?} is not a number")]
    NotANumber { term: String, number: String },
    #[error(
        "{term:?}: after a run's name come its flags: {run}:flag, {run}:flag:RULE, {run}:critical, {run}:major, {run}:minor"
    )]
    NotARunFlag { term: String, run: String },
    #[error(
        "unknown term {term:?} (class:NAME, score>X, preds>N, gt>N, problem, error, warning, flag, flag:RULE, critical, major, minor, RUN:critical, RUN:flag:RULE, run:NAME, tag:NAME, tagged, id:TEXT)"
    )]
    UnknownTerm { term: String },
}

/// Parse an expression; the error says what was expected where.
pub fn parse(text: &str, pack: &Pack) -> Result<Expr, QueryError> {
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return Err(QueryError::Empty);
    }
    let mut p = Parser { tokens, pos: 0, pack };
    let e = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(QueryError::Unexpected {
            token: p.tokens[p.pos].clone(),
            at: p.pos,
        });
    }
    Ok(e)
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        match ch {
            '(' | ')' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(ch.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Parser<'a> {
    tokens: Vec<String>,
    pos: usize,
    pack: &'a Pack,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    #[allow(clippy::expect_used)] // cannot fail: the branch is taken only with exactly one item
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut v = vec![self.and()?];
        while self.peek() == Some("or") {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().expect("one")
        } else {
            Expr::Or(v)
        })
    }

    #[allow(clippy::expect_used)] // cannot fail: the branch is taken only with exactly one item
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut v = Vec::new();
        while let Some(t) = self.peek() {
            if t == "or" || t == ")" {
                break;
            }
            if t == "and" {
                self.pos += 1;
                continue;
            }
            v.push(self.unary()?);
        }
        match v.len() {
            0 => Err(QueryError::ExpectedTerm { at: self.pos }),
            1 => Ok(v.pop().expect("one")),
            _ => Ok(Expr::And(v)),
        }
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        let t = self
            .peek()
            .ok_or(QueryError::ExpectedTerm { at: self.pos })?
            .to_string();
        if t == "not" {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if let Some(rest) = t.strip_prefix('!').filter(|r| !r.is_empty()) {
            self.tokens[self.pos] = rest.to_string();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if t == "(" {
            self.pos += 1;
            let e = self.or()?;
            if self.peek() != Some(")") {
                return Err(QueryError::MissingParen { at: self.pos });
            }
            self.pos += 1;
            return Ok(e);
        }
        self.pos += 1;
        term(&t, self.pack).map(Expr::Term)
    }
}

fn term(t: &str, pack: &Pack) -> Result<Term, QueryError> {
    if let Some(name) = t.strip_prefix("class:").or_else(|| t.strip_prefix("class=")) {
        if pack.class_by_name(name).is_none() {
            return Err(QueryError::NoClass {
                name: name.to_string(),
                known: pack.classes.iter().map(|c| c.name.clone()).collect(),
            });
        }
        return Ok(Term::Class(name.to_string()));
    }
    if let Some(tag) = t.strip_prefix("tag:") {
        if !crate::workspace::valid_tag(tag) {
            return Err(QueryError::BadTag { term: t.to_string() });
        }
        return Ok(Term::Tag(Some(tag.to_string())));
    }
    if t == "tagged" {
        return Ok(Term::Tag(None));
    }
    if let Some(v) = t.strip_prefix("verdict:") {
        use crate::review::Verdict;
        return match v {
            "accept" | "accepted" => Ok(Term::Verdict(Some(Verdict::Accept))),
            "reject" | "rejected" => Ok(Term::Verdict(Some(Verdict::Reject))),
            "unsure" => Ok(Term::Verdict(Some(Verdict::Unsure))),
            _ => Err(QueryError::BadVerdict { term: t.to_string() }),
        };
    }
    if t == "reviewed" {
        return Ok(Term::Verdict(None));
    }
    if let Some(name) = t.strip_prefix("run:") {
        return pack.run_index(name).map(Term::Run).map_err(QueryError::NoRun);
    }
    if let Some(rule) = t.strip_prefix("flag:") {
        return Ok(Term::Flag(Some(rule.to_string())));
    }
    match t {
        "flag" | "flags" | "flagged" => return Ok(Term::Flag(None)),
        "critical" => return Ok(Term::FlagSeverity(crate::rules::Severity::Critical)),
        "major" => return Ok(Term::FlagSeverity(crate::rules::Severity::Major)),
        "minor" => return Ok(Term::FlagSeverity(crate::rules::Severity::Minor)),
        _ => {}
    }
    if let Some(text) = t.strip_prefix("id:") {
        return Ok(Term::Id(text.to_string()));
    }
    match t {
        "problem" | "problems" => return Ok(Term::Problem(None)),
        "error" | "errors" => return Ok(Term::Problem(Some(Level::Error))),
        "warning" | "warnings" => return Ok(Term::Problem(Some(Level::Warning))),
        _ => {}
    }
    for key in ["score", "preds", "gt"] {
        if let Some(rest) = t.strip_prefix(key) {
            let (op, num) = if let Some(n) = rest.strip_prefix(">=") {
                (Cmp::Ge, n)
            } else if let Some(n) = rest.strip_prefix("<=") {
                (Cmp::Le, n)
            } else if let Some(n) = rest.strip_prefix('>') {
                (Cmp::Gt, n)
            } else if let Some(n) = rest.strip_prefix('<') {
                (Cmp::Lt, n)
            } else if let Some(n) = rest.strip_prefix('=') {
                (Cmp::Eq, n)
            } else {
                continue;
            };
            let x: f64 = num.parse().map_err(|_| QueryError::NotANumber {
                term: t.to_string(),
                number: num.to_string(),
            })?;
            return Ok(match key {
                "score" => Term::Score(op, x),
                "preds" => Term::Preds(op, x),
                _ => Term::Gt(op, x),
            });
        }
    }
    // NAME:flag, NAME:flag:RULE, NAME:critical: one run's own flags
    if let Some((name, rest)) = t.split_once(':')
        && let Ok(r) = pack.run_index(name)
    {
        let inner = term(rest, pack)?;
        return match inner {
            Term::Flag(_) | Term::FlagSeverity(_) => Ok(Term::RunFlag(r, Box::new(inner))),
            _ => Err(QueryError::NotARunFlag {
                term: t.to_string(),
                run: name.to_string(),
            }),
        };
    }
    if t.contains(':') || t.contains('>') || t.contains('<') || t.contains('=') {
        return Err(QueryError::UnknownTerm { term: t.to_string() });
    }
    Ok(Term::Id(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_the_sample_pack() {
        let pack = Pack::open(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/chest-phantom"
        )))
        .unwrap();
        let ctx = Ctx {
            pack: &pack,
            run: Some(1),
            problems: &pack.problems,
            flags: &[],
            workspace: None,
            verdicts: None,
        };
        let count = |s: &str| {
            (0..pack.cases.len())
                .filter(|&c| parse(s, &pack).unwrap().matches(&ctx, c))
                .count()
        };
        assert_eq!(count("case-007"), 1);
        assert!(count("score>=0.9") >= 1);
        assert!(count("score>=0.9") <= count("score>=0.5"));
        assert_eq!(count("class:opacity or not class:opacity"), pack.cases.len());
        assert_eq!(count("class:opacity and not class:opacity"), 0);
        // tags from the workspace, combined with other terms
        let mut w = crate::workspace::Workspace::default();
        w.apply("case-007.jpg", "hard outside").unwrap();
        w.apply("case-013.jpg", "hard").unwrap();
        let ctx = Ctx {
            workspace: Some(&w),
            ..ctx
        };
        let count = |s: &str| {
            (0..pack.cases.len())
                .filter(|&c| parse(s, &pack).unwrap().matches(&ctx, c))
                .count()
        };
        assert_eq!(count("tag:hard"), 2);
        assert_eq!(count("tagged and not tag:outside"), 1);
        assert_eq!(count("tag:hard id:013"), 1);
        assert_eq!(count("tag:nothing"), 0);
        // verdicts of a review in progress
        let verdict = |id: &str| match id {
            "case-007.jpg" => Some(crate::review::Verdict::Reject),
            "case-008.jpg" => Some(crate::review::Verdict::Accept),
            _ => None,
        };
        let ctx = Ctx {
            verdicts: Some(&verdict),
            ..ctx
        };
        let count = |s: &str| {
            (0..pack.cases.len())
                .filter(|&c| parse(s, &pack).unwrap().matches(&ctx, c))
                .count()
        };
        assert_eq!(count("verdict:reject"), 1);
        assert_eq!(count("reviewed"), 2);
        assert_eq!(count("not reviewed tag:hard"), 1);
        assert!(parse("verdict:maybe", &pack).is_err());
        // runs: every sample case has predictions from both
        assert_eq!(count("run:baseline"), pack.cases.len());
        assert!(parse("run:nope", &pack).unwrap_err().to_string().contains("candidate"));
        assert!(parse("tag:two/words", &pack).is_err());
        assert_eq!(count("(id:case-00 or id:case-01) !id:case-001"), 18);
        assert!(
            parse("class:tumour", &pack)
                .unwrap_err()
                .to_string()
                .contains("classes: right_lung")
        );
        assert!(parse("score>high", &pack).is_err());
        assert_eq!(parse("(problem", &pack), Err(QueryError::MissingParen { at: 2 }));
        assert!(parse("tig:x", &pack).unwrap_err().to_string().contains("unknown term"));
    }

    #[test]
    fn an_unknown_term_is_named_with_what_is_known() {
        let e = QueryError::NotANumber {
            term: "score>high".into(),
            number: "high".into(),
        };
        assert_eq!(e.to_string(), "\"score>high\": \"high\" is not a number");
        assert_eq!(
            QueryError::Unexpected {
                token: ")".into(),
                at: 3
            }
            .to_string(),
            "unexpected \")\""
        );
    }
}
