//! JSON parsing that says where a value is wrong (`annotations[12].bbox[2]`) and what a
//! person should check, instead of serde's bare "invalid type" message.

use serde::de::DeserializeOwned;

/// Parse `bytes` as `T`; the error names the JSON path and explains common mistakes.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Err(JsonError::new(path, inner, bytes))
        }
    }
}

/// Parse `bytes` with a seed (a deserializer that carries state, e.g. one that converts each
/// element of a large array as it is read instead of collecting them); errors as in [`parse`].
pub fn parse_seed<'de, S: serde::de::DeserializeSeed<'de>>(bytes: &'de [u8], seed: S) -> Result<S::Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let result = result.and_then(|v| de.end().map(|_| v));
    result.map_err(|e| JsonError::new(track.path().to_string(), e, bytes))
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    /// JSON path of the offending value (`.` for the top level).
    pub path: String,
    pub message: String,
    pub hint: String,
}

impl JsonError {
    fn new(path: String, e: serde_json::Error, bytes: &[u8]) -> Self {
        use serde_json::error::Category;
        let (line, col) = (e.line(), e.column());
        let raw = e.to_string();
        // serde_json appends " at line L column C"; keep the cause, report the position once
        let cause = raw.split(" at line ").next().unwrap_or(&raw).to_string();
        let near = snippet(bytes, line, col);
        let (message, hint) = match e.classify() {
            Category::Eof => (
                format!("the file ends early, inside a value (line {line}, column {col})"),
                "The file looks truncated: re-export it or wait until the writer has finished".to_string(),
            ),
            Category::Syntax
                if near.starts_with("NaN") || near.starts_with("Infinity") || near.starts_with("-Infinity") =>
            {
                (
                    format!("{near:.8} at line {line}, column {col} is not valid JSON"),
                    "JSON has no NaN or Infinity: the exporter wrote a non-finite number; fix or drop that value"
                        .to_string(),
                )
            }
            Category::Syntax => (
                format!("{cause} at line {line}, column {col}"),
                "The file is not valid JSON; check it with `python -m json.tool`".to_string(),
            ),
            Category::Data => (cause, "Check the field's type against docs/formats.md".to_string()),
            Category::Io => (cause, String::new()),
        };
        JsonError {
            path: if path == "." { String::new() } else { path },
            message,
            hint,
        }
    }
}

fn snippet(bytes: &[u8], line: usize, col: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let start = col.saturating_sub(1).min(l.len());
    l.get(start..).unwrap_or("").chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        a: Vec<U>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct U {
        score: f64,
    }

    #[test]
    fn wrong_type_names_the_path() {
        let e = parse::<T>(br#"{"a": [{"score": 1}, {"score": "high"}]}"#).unwrap_err();
        assert_eq!(e.path, "a[1].score");
        assert!(e.message.contains("invalid type: string"), "{}", e.message);
    }

    #[test]
    fn truncation_and_nan_are_explained() {
        let e = parse::<T>(br#"{"a": [{"score": 1}"#).unwrap_err();
        assert!(e.hint.contains("truncated"), "{e:?}");
        let e = parse::<T>(br#"{"a": [{"score": NaN}]}"#).unwrap_err();
        assert!(e.hint.contains("NaN"), "{e:?}");
    }
}
