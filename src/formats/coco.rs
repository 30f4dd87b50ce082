//! COCO instances JSON (ground truth) and COCO results JSON (detections), mirrored exactly.
//!
//! `segmentation` may be a polygon list, an uncompressed RLE (`counts` list) or a compressed
//! RLE (`counts` string); which one is decided by a hand-written visitor, so a million results
//! parse without serde's untagged-enum buffering. `iscrowd` may be 0/1 or a boolean, and ids may
//! be numbers or strings, as they are in the wild. [`convert`] turns one annotation into
//! lightbox's [`Instance`](crate::pack::Instance), with pycocotools' semantics.

pub mod convert;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A COCO instances file: `{images, annotations, categories}` (other keys ignored).
#[derive(Debug, Deserialize, Default)]
pub struct CocoInstances {
    #[serde(default)]
    pub images: Vec<CocoImage>,
    #[serde(default)]
    pub annotations: Vec<CocoAnnotation>,
    #[serde(default)]
    pub categories: Vec<CocoCategory>,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
pub struct CocoImage {
    pub id: CocoId,
    pub file_name: String,
    pub width: u64,
    pub height: u64,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
pub struct CocoCategory {
    pub id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supercategory: Option<String>,
}

/// One annotation (ground truth) or one result (detection; has `score`).
#[derive(Debug, Deserialize, Clone)]
pub struct CocoAnnotation {
    #[serde(default)]
    pub id: Option<CocoId>,
    pub image_id: CocoId,
    pub category_id: i64,
    #[serde(default)]
    pub bbox: Option<Vec<f64>>,
    #[serde(default)]
    pub segmentation: Option<CocoSegmentation>,
    #[serde(default)]
    pub area: Option<f64>,
    #[serde(default, deserialize_with = "crowd_flag")]
    pub iscrowd: bool,
    #[serde(default)]
    pub score: Option<f64>,
}

/// Image and annotation ids: integers in COCO, strings in some exporters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum CocoId {
    Int(i64),
    Str(String),
}

impl fmt::Display for CocoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CocoId::Int(i) => write!(f, "{i}"),
            CocoId::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for CocoId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CocoId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or string id")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CocoId, E> {
                Ok(CocoId::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CocoId, E> {
                i64::try_from(v)
                    .map(CocoId::Int)
                    .map_err(|_| E::custom(format!("id {v} is too large")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CocoId, E> {
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(CocoId::Int(v as i64))
                } else {
                    Err(E::custom(format!("id {v} is not an integer")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CocoId, E> {
                Ok(CocoId::Str(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `segmentation` as found in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum CocoSegmentation {
    /// `[[x0, y0, x1, y1, ...], ...]`: one or more polygon parts.
    Polygons(Vec<Vec<f64>>),
    /// `{"counts": [...], "size": [h, w]}`.
    Uncompressed { counts: Vec<u32>, size: [u64; 2] },
    /// `{"counts": "...", "size": [h, w]}`.
    Compressed { counts: String, size: [u64; 2] },
}

impl<'de> Deserialize<'de> for CocoSegmentation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CocoSegmentation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of polygons [[x, y, ...]] or an RLE object {\"counts\", \"size\"}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CocoSegmentation, A::Error> {
                let mut parts = Vec::new();
                while let Some(p) = seq.next_element::<Vec<f64>>()? {
                    parts.push(p);
                }
                Ok(CocoSegmentation::Polygons(parts))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CocoSegmentation, A::Error> {
                let mut counts: Option<Counts> = None;
                let mut size: Option<[u64; 2]> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "counts" => counts = Some(map.next_value()?),
                        "size" => size = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let size = size.ok_or_else(|| de::Error::missing_field("size"))?;
                match counts.ok_or_else(|| de::Error::missing_field("counts"))? {
                    Counts::List(counts) => Ok(CocoSegmentation::Uncompressed { counts, size }),
                    Counts::Str(counts) => Ok(CocoSegmentation::Compressed { counts, size }),
                }
            }
        }
        d.deserialize_any(V)
    }
}

enum Counts {
    List(Vec<u32>),
    Str(String),
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Counts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("RLE counts: a list of run lengths or a compressed string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Counts, E> {
                Ok(Counts::Str(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counts, A::Error> {
                let mut v = Vec::new();
                while let Some(c) = seq.next_element::<u32>()? {
                    v.push(c);
                }
                Ok(Counts::List(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn crowd_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("0, 1, true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::custom(format!("iscrowd must be 0 or 1, not {v}"))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            self.visit_u64(u64::try_from(v).map_err(|_| E::custom(format!("iscrowd must be 0 or 1, not {v}")))?)
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(V)
}

/// Parse a run's COCO file. A results array is handed to `on_result` one detection at a time,
/// as it is parsed (a million detections never sit in memory twice), and `None` is returned; an
/// instances object is returned whole.
pub fn parse_run_file(
    bytes: &[u8],
    on_result: impl FnMut(usize, CocoAnnotation),
) -> Result<Option<CocoInstances>, crate::formats::json::JsonError> {
    crate::formats::json::parse_seed(bytes, RunFileSeed { on_result })
}

struct RunFileSeed<F> {
    on_result: F,
}

impl<'de, F: FnMut(usize, CocoAnnotation)> de::DeserializeSeed<'de> for RunFileSeed<F> {
    type Value = Option<CocoInstances>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(usize, CocoAnnotation)> Visitor<'de> for RunFileSeed<F> {
    type Value = Option<CocoInstances>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a COCO results array [{image_id, category_id, bbox, score}, ...] or a COCO instances object")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut i = 0;
        while let Some(a) = seq.next_element::<CocoAnnotation>()? {
            (self.on_result)(i, a);
            i += 1;
        }
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        // an object must be an instances file: without `annotations` (a results list wrapped
        // in `{"results": [...]}`, say) it would load as a run with no predictions at all
        let o = RunObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let Some(annotations) = o.annotations else {
            return Err(de::Error::custom(
                "a JSON object without `annotations`: a COCO results file is a JSON array of detections [{image_id, category_id, bbox, score}, ...], an instances file an object with `images` and `annotations`",
            ));
        };
        Ok(Some(CocoInstances {
            images: o.images,
            annotations,
            categories: o.categories,
        }))
    }
}

/// An instances-shaped run file, `annotations` required.
#[derive(Deserialize)]
struct RunObject {
    #[serde(default)]
    images: Vec<CocoImage>,
    annotations: Option<Vec<CocoAnnotation>>,
    #[serde(default)]
    categories: Vec<CocoCategory>,
}

/// A COCO results entry as lightbox writes it (`infer`, `sample`).
#[derive(Debug, Serialize, Clone)]
pub struct CocoResultOut {
    pub image_id: i64,
    pub category_id: i64,
    pub bbox: [f64; 4],
    pub score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<RleOut>,
}

/// A COCO instances annotation as lightbox writes it.
#[derive(Debug, Serialize, Clone)]
pub struct CocoAnnotationOut {
    pub id: i64,
    pub image_id: i64,
    pub category_id: i64,
    pub bbox: [f64; 4],
    pub area: f64,
    pub iscrowd: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, Clone)]
pub struct RleOut {
    pub size: [u32; 2],
    pub counts: String,
}

#[derive(Debug, Serialize, Clone, Default)]
pub struct CocoInstancesOut {
    pub images: Vec<CocoImage>,
    pub annotations: Vec<CocoAnnotationOut>,
    pub categories: Vec<CocoCategory>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::parse;

    #[test]
    fn segmentation_forms_are_told_apart() {
        let a: Vec<CocoAnnotation> = parse(
            br#"[{"image_id":1,"category_id":1,"segmentation":[[0,0,1,0,1,1]]},
                 {"image_id":"a","category_id":1,"segmentation":{"size":[2,2],"counts":[0,4]},"iscrowd":1},
                 {"image_id":1,"category_id":1,"segmentation":{"size":[2,2],"counts":"04"},"iscrowd":true,"score":0.5}]"#,
        )
        .unwrap();
        assert!(matches!(a[0].segmentation, Some(CocoSegmentation::Polygons(_))));
        assert!(matches!(a[1].segmentation, Some(CocoSegmentation::Uncompressed { .. })));
        assert!(matches!(a[2].segmentation, Some(CocoSegmentation::Compressed { .. })));
        assert_eq!(a[1].image_id, CocoId::Str("a".into()));
        assert!(a[1].iscrowd && a[2].iscrowd && !a[0].iscrowd);
    }

    #[test]
    fn run_file_is_streamed_results_or_instances() {
        let mut seen = Vec::new();
        let r = parse_run_file(
            br#"[{"image_id": 3, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#,
            |i, a| seen.push((i, a.image_id)),
        );
        assert!(matches!(r, Ok(None)));
        assert_eq!(seen, vec![(0, CocoId::Int(3))]);
        assert!(matches!(
            parse_run_file(br#"{"annotations": []}"#, |_, _| {}),
            Ok(Some(_))
        ));
        let e = parse_run_file(
            br#"[{"image_id": 1, "category_id": 1}, {"image_id": 1, "category_id": 1, "score": "x"}]"#,
            |_, _| {},
        )
        .unwrap_err();
        assert_eq!(e.path, "[1].score");
    }
}
