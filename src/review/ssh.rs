//! SSH signatures of sign-off records, in OpenSSH's standard format (`ssh-keygen -Y`), so that
//! anyone can check them with stock tools: signing, checking a signature against the key it
//! carries, verifying it for a named reviewer against an allowed-signers file, and finding the
//! names an allowed-signers file gives a key.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The SSH signature namespace of sign-off records (`ssh-keygen -Y ... -n lightbox-signoff`).
pub const NAMESPACE: &str = "lightbox-signoff";

/// The signature file beside a record: `<record>.sig`.
pub fn signature_path(record: &Path) -> PathBuf {
    let mut p = record.as_os_str().to_owned();
    p.push(".sig");
    PathBuf::from(p)
}

fn ssh_keygen() -> Command {
    Command::new("ssh-keygen")
}

/// Why `ssh-keygen` could not sign or check; `said` is what ssh-keygen printed.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot run ssh-keygen (OpenSSH 8.2 or later is needed for SSH signatures; install openssh-client): {0}")]
    Missing(std::io::Error),
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not an SSH private key: {said}", key.display())]
    NotPrivateKey { key: PathBuf, said: String },
    #[error("{}: no public key in it", key.display())]
    NoPublicKey { key: PathBuf },
    #[error("not a public key: {said}")]
    NotPublicKey { said: String },
    #[error("ssh-keygen could not sign with {}: {said}", key.display())]
    SignFailed { key: PathBuf, said: String },
    #[error(
        "{} is not a valid SSH signature of {} (the record was changed after it was signed, or the signature belongs to another file): {said}",
        signature.display(),
        record.display()
    )]
    Invalid {
        signature: PathBuf,
        record: PathBuf,
        said: String,
    },
    /// ssh-keygen accepted the signature but named no key.
    #[error("ssh-keygen said: {said}")]
    NoFingerprint { said: String },
    #[error("{}: no such allowed-signers file", path.display())]
    NoAllowedSigners { path: PathBuf },
    #[error(
        "the SSH signature of {} does not verify for {principal:?} against {}: {said}",
        record.display(),
        allowed_signers.display()
    )]
    NotVerified {
        record: PathBuf,
        principal: String,
        allowed_signers: PathBuf,
        said: String,
    },
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> SshError + '_ {
    move |source| SshError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn said(out: &std::process::Output) -> String {
    let mut t = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let e = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !e.is_empty() {
        if !t.is_empty() {
            t.push_str("; ");
        }
        t.push_str(&e);
    }
    t
}

/// A key's public half, `KEYTYPE BASE64` (from `KEY.pub` when present, else derived from the
/// private key by `ssh-keygen -y`).
pub fn public_key(key: &Path) -> Result<String, SshError> {
    let mut pubfile = key.as_os_str().to_owned();
    pubfile.push(".pub");
    let text = match std::fs::read_to_string(PathBuf::from(&pubfile)) {
        Ok(t) if !key.to_string_lossy().ends_with(".pub") => t,
        _ if key.to_string_lossy().ends_with(".pub") => std::fs::read_to_string(key).map_err(read_error(key))?,
        _ => {
            let out = ssh_keygen()
                .arg("-y")
                .arg("-f")
                .arg(key)
                .output()
                .map_err(SshError::Missing)?;
            if !out.status.success() {
                return Err(SshError::NotPrivateKey {
                    key: key.to_path_buf(),
                    said: said(&out),
                });
            }
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let mut w = text.split_whitespace();
    match (w.next(), w.next()) {
        (Some(t), Some(b)) => Ok(format!("{t} {b}")),
        _ => Err(SshError::NoPublicKey { key: key.to_path_buf() }),
    }
}

/// A public key's SHA-256 fingerprint as OpenSSH prints it (`SHA256:…`).
pub fn fingerprint(public_key: &str) -> Result<String, SshError> {
    use std::io::Write;
    let mut child = ssh_keygen()
        .args(["-l", "-E", "sha256", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(SshError::Missing)?;
    if let Some(mut i) = child.stdin.take() {
        let _ = writeln!(i, "{public_key}");
    }
    let out = child.wait_with_output().map_err(SshError::Missing)?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .map(String::from)
        .ok_or_else(|| SshError::NotPublicKey { said: said(&out) })
}

/// Sign a record with an SSH key, writing `<record>.sig`.
pub fn sign(record: &Path, key: &Path) -> Result<PathBuf, SshError> {
    let sig = signature_path(record);
    let _ = std::fs::remove_file(&sig);
    let out = ssh_keygen()
        .args(["-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(key)
        .arg(record)
        .output()
        .map_err(SshError::Missing)?;
    if !out.status.success() {
        return Err(SshError::SignFailed {
            key: key.to_path_buf(),
            said: said(&out),
        });
    }
    Ok(sig)
}

/// Check that `<record>.sig` is a valid signature of the record's bytes by the key it carries
/// (who that key belongs to is not checked: see [`verify`]). Returns the key's fingerprint.
pub fn check(record: &Path) -> Result<String, SshError> {
    let sig = signature_path(record);
    let input = std::fs::File::open(record).map_err(read_error(record))?;
    let out = ssh_keygen()
        .args(["-Y", "check-novalidate", "-n", NAMESPACE, "-s"])
        .arg(&sig)
        .stdin(input)
        .output()
        .map_err(SshError::Missing)?;
    let text = said(&out);
    if !out.status.success() {
        return Err(SshError::Invalid {
            signature: sig,
            record: record.to_path_buf(),
            said: text,
        });
    }
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .map(String::from)
        .ok_or(SshError::NoFingerprint { said: text })
}

/// Verify `<record>.sig` for `principal` against an allowed-signers file (`ssh-keygen -Y
/// verify`): the signature is valid and made by a key the file gives that name.
pub fn verify(record: &Path, allowed_signers: &Path, principal: &str) -> Result<String, SshError> {
    let sig = signature_path(record);
    if !allowed_signers.is_file() {
        return Err(SshError::NoAllowedSigners {
            path: allowed_signers.to_path_buf(),
        });
    }
    let input = std::fs::File::open(record).map_err(read_error(record))?;
    let out = ssh_keygen()
        .args(["-Y", "verify", "-n", NAMESPACE, "-I", principal, "-f"])
        .arg(allowed_signers)
        .arg("-s")
        .arg(&sig)
        .stdin(input)
        .output()
        .map_err(SshError::Missing)?;
    let text = said(&out);
    if out.status.success() {
        Ok(text)
    } else {
        Err(SshError::NotVerified {
            record: record.to_path_buf(),
            principal: principal.to_string(),
            allowed_signers: allowed_signers.to_path_buf(),
            said: text,
        })
    }
}

/// The first field of an allowed-signers line, the principals, read as OpenSSH reads it: up to
/// the first whitespace outside double quotes (`"Dr Bo Chen" ssh-ed25519 …`, `carol,"Dr Bo
/// Chen" …`), split at commas, quotes removed. Returns the names and the rest of the line.
fn first_field(line: &str) -> Option<(Vec<String>, &str)> {
    let line = line.trim_start();
    let mut quoted = false;
    let mut end = line.len();
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    let names = line[..end].split(',').map(|p| p.trim().replace('"', "")).collect();
    Some((names, &line[end..]))
}

/// The names an allowed-signers file gives a public key (`KEYTYPE BASE64`): the principals of
/// every line whose key is this one. Patterns with wildcards are not names and are skipped.
pub fn principals_for(allowed_signers: &str, public_key: &str) -> Vec<String> {
    let mut want = public_key.split_whitespace();
    let (Some(kt), Some(kb)) = (want.next(), want.next()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in allowed_signers.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((principals, rest)) = first_field(t) else {
            continue;
        };
        // the key is the first `TYPE BASE64` pair after the (optional) options
        let words: Vec<&str> = rest.split_whitespace().collect();
        let found = words.windows(2).any(|w| w[0] == kt && w[1] == kb);
        if found {
            out.extend(
                principals
                    .into_iter()
                    .filter(|p| !p.is_empty() && !p.contains(['*', '?', '!'])),
            );
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_with_spaces_are_quoted() {
        let file = "# reviewers of chest-seg\n\"Dr Bo Chen\" ssh-ed25519 AAAAkeyB bo@lab\nalice,Dr_Alice namespaces=\"lightbox-signoff\" ssh-ed25519 AAAAkeyA\n*@lab ssh-ed25519 AAAAkeyB\n";
        assert_eq!(principals_for(file, "ssh-ed25519 AAAAkeyB"), vec!["Dr Bo Chen"]);
        assert_eq!(
            principals_for(file, "ssh-ed25519 AAAAkeyA comment"),
            vec!["alice", "Dr_Alice"]
        );
        assert!(principals_for(file, "ssh-ed25519 AAAAother").is_empty());
        assert!(principals_for(file, "ssh-rsa AAAAkeyB").is_empty());
        let mixed = "carol,\"Dr Bo Chen\" ssh-ed25519 AAAAkeyC\n";
        assert_eq!(
            principals_for(mixed, "ssh-ed25519 AAAAkeyC"),
            vec!["carol", "Dr Bo Chen"]
        );
    }

    #[test]
    fn a_signature_that_does_not_verify_names_the_record_the_reviewer_and_the_file() {
        let e = SshError::NotVerified {
            record: PathBuf::from("reviews/1.0/alice.record.json"),
            principal: "alice".into(),
            allowed_signers: PathBuf::from("allowed_signers"),
            said: "Could not verify signature.".into(),
        };
        assert_eq!(
            e.to_string(),
            "the SSH signature of reviews/1.0/alice.record.json does not verify for \"alice\" against allowed_signers: Could not verify signature."
        );
    }
}
