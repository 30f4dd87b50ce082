//! The manifest's sign-off policy applied to a release's verified records: enough distinct
//! approving reviewers, the required roles held by them, the run's author never counting, the
//! known-answer agreement, and SSH signatures where the policy requires them.

use super::record::{Signature, Verification};
use crate::pack::manifest::ReviewPolicy;

/// Names compared as people mean them: case and surrounding or repeated spaces aside.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    norm(a) == norm(b)
}

/// What the policy says of a release.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Why the release is not signed off. Empty: satisfied.
    pub failures: Vec<String>,
    /// Approvals that do not count, and why (the run's author, a reviewer who missed known
    /// answers): said, but not failures while others meet the policy.
    pub notes: Vec<String>,
}

/// Whether a release's records satisfy the policy. `records` are the ones that verified;
/// `allowed_signers` says whether signatures were checked against a file.
pub fn check(
    records: &[Verification],
    policy: &ReviewPolicy,
    author: Option<&str>,
    allowed_signers: bool,
    plan_for: &dyn Fn(&str, &crate::review::plan::Making) -> Result<crate::review::Plan, String>,
) -> Outcome {
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    if records.is_empty() {
        bad.push("no verified record".into());
    }
    let mut runs: Vec<&str> = records.iter().map(|v| v.record.run.as_str()).collect();
    runs.sort();
    runs.dedup();
    if runs.len() > 1 {
        bad.push(format!(
            "the records review different runs ({}): a release signs off one run",
            runs.join(", ")
        ));
    }
    for v in records.iter().filter(|v| !v.record.approves()) {
        bad.push(format!("{} signed \"{}\"", v.record.reviewer, v.record.meaning));
    }
    if policy.require_ssh {
        if !allowed_signers {
            bad.push(
                "the policy requires SSH signatures (require_ssh): give --allowed-signers FILE, the release repository's list of reviewers' keys"
                    .into(),
            );
        }
        for v in records {
            match &v.signature {
                Signature::Good { principal: Some(_), .. } => {}
                Signature::Good { principal: None, .. } => {}
                Signature::None => bad.push(format!(
                    "{}'s record has no SSH signature; the policy requires one (require_ssh)",
                    v.record.reviewer
                )),
                Signature::Bad(e) => bad.push(format!("{}'s SSH signature: {e}", v.record.reviewer)),
            }
        }
    }
    // who counts: approving, not the run's author, one vote per person (and per key)
    let mut counted: Vec<&Verification> = Vec::new();
    for v in records.iter().filter(|v| v.record.approves()) {
        if author.is_some_and(|a| same_name(a, &v.record.reviewer)) {
            notes.push(format!(
                "{} is the run's author: their approval does not count towards the signatures or roles the policy needs",
                v.record.reviewer
            ));
            continue;
        }
        let key = v.record.ssh_key.as_ref().map(|k| k.fingerprint.as_str());
        if let Some(c) = counted.iter().find(|c| {
            same_name(&c.record.reviewer, &v.record.reviewer)
                || (key.is_some() && c.record.ssh_key.as_ref().map(|k| k.fingerprint.as_str()) == key)
        }) {
            notes.push(format!(
                "{}'s approval is counted once: {} approved already (the same name or the same SSH key)",
                v.record.reviewer, c.record.reviewer
            ));
            continue;
        }
        // the plan must be the policy's: not a smaller sample, another seed or another baseline
        let plan = &v.record.plan;
        let mut plan_bad = Vec::new();
        if plan.requested_sample.is_none_or(|n| n < policy.sample_size()) {
            plan_bad.push(format!(
                "a random sample of {} (the policy asks for {})",
                plan.requested_sample
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "unknown size".into()),
                policy.sample_size()
            ));
        }
        if plan.seed != policy.seed {
            plan_bad.push(format!("seed {} (the policy's is {})", plan.seed, policy.seed));
        }
        if policy.baseline.is_some() && plan.baseline != policy.baseline {
            plan_bad.push(format!(
                "baseline {} (the policy's is {})",
                plan.baseline.as_deref().unwrap_or("none"),
                policy.baseline.as_deref().unwrap_or("none")
            ));
        }
        if !plan_bad.is_empty() {
            notes.push(format!(
                "{}'s plan was made with {}: their approval does not count",
                v.record.reviewer,
                plan_bad.join(", ")
            ));
            continue;
        }
        // the plan must be the one these parameters give on the pack as it is: a record whose
        // plan left out required cases (flags, regressions, known answers) does not count
        let making = crate::review::plan::Making {
            sample: plan.requested_sample.unwrap_or(plan.sample),
            seed: plan.seed,
            baseline: plan.baseline.clone(),
        };
        match plan_for(&v.record.run, &making) {
            Ok(expected) if expected.required == plan.required => {}
            Ok(expected) => {
                let has = |p: &crate::review::Plan, c: &str| p.required.iter().any(|r| r.case == c);
                let missing: Vec<String> = expected
                    .required
                    .iter()
                    .filter(|r| !has(plan, &r.case))
                    .map(|r| format!("{} ({})", r.case, r.reasons.join("; ")))
                    .collect();
                let extra: Vec<&str> = plan
                    .required
                    .iter()
                    .filter(|r| !has(&expected, &r.case))
                    .map(|r| r.case.as_str())
                    .collect();
                notes.push(format!(
                    "{}'s plan is not the plan the pack and its parameters give{}{}{}: their approval does not count",
                    v.record.reviewer,
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!("; it lacks {}", missing.join(", "))
                    },
                    if extra.is_empty() {
                        String::new()
                    } else {
                        format!("; it has {} besides", extra.join(", "))
                    },
                    if missing.is_empty() && extra.is_empty() {
                        "; the reasons or the order differ"
                    } else {
                        ""
                    }
                ));
                continue;
            }
            Err(e) => {
                bad.push(format!(
                    "the plan cannot be made again to check {}'s: {e}",
                    v.record.reviewer
                ));
                continue;
            }
        }
        if !v.record.unreviewed.is_empty() && !policy.allow_override {
            notes.push(format!(
                "{} approved with {} required case(s) unreviewed (override: {}): their approval does not count (allow_override = true in [review] lets it)",
                v.record.reviewer,
                v.record.unreviewed.len(),
                v.record.override_reason.as_deref().unwrap_or("")
            ));
            continue;
        }
        // known answers: an approval from a reviewer who missed them does not count
        if let Some((agreed, n)) = v.record.known_score() {
            let need = policy.known_agreement.unwrap_or(1.0);
            if (agreed as f64) < need * n as f64 - 1e-9 {
                notes.push(format!(
                    "{} agreed with {agreed} of {n} known-answer cases; the policy needs {:.0}% (known_agreement)",
                    v.record.reviewer,
                    need * 100.0
                ));
                continue;
            }
        }
        counted.push(v);
    }
    if counted.len() < policy.signatures {
        let names: Vec<&str> = counted.iter().map(|v| v.record.reviewer.as_str()).collect();
        bad.push(format!(
            "{} approving reviewer(s) who count ({}); the policy needs {}",
            counted.len(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            policy.signatures
        ));
    }
    for role in &policy.roles {
        let holders = policy.role_holders.get(role);
        let held = counted.iter().any(|v| {
            v.record.role.as_deref() == Some(role.as_str())
                && holders.is_none_or(|h| h.iter().any(|n| same_name(n, &v.record.reviewer)))
        });
        if !held {
            let claimed: Vec<&str> = counted
                .iter()
                .filter(|v| v.record.role.as_deref() == Some(role.as_str()))
                .map(|v| v.record.reviewer.as_str())
                .collect();
            bad.push(if claimed.is_empty() {
                format!("no approving reviewer who counts has the role {role:?}")
            } else {
                format!(
                    "{} gave the role {role:?} but the policy's role_holders do not list them",
                    claimed.join(", ")
                )
            });
        }
    }
    Outcome { failures: bad, notes }
}
