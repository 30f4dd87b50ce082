//! DICOM on real public files (`../shared/data/dicom/`, and pydicom's test files when the test
//! script installed pydicom): full-depth values, rescale to Hounsfield units, MONOCHROME1,
//! compressed transfer syntaxes, multi-frame, malformed files.

use lightbox::formats::image;
use std::path::{Path, PathBuf};

fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/dicom")
        .join(name);
    p.exists().then_some(p)
}

#[test]
fn scratch() {
    for n in [
        "RG1_J2KI.dcm",
        "RG1_UNCR.dcm",
        "CT_small.dcm",
        "MR_small.dcm",
        "RG1_J2KI_decompressed_derived.dcm",
    ] {
        let Some(p) = shared(n) else { continue };
        let t = std::time::Instant::now();
        let img = image::decode(&p);
        match img {
            Ok(i) => {
                let s = i.scan.as_ref().unwrap();
                let (mn, mx) = match &i.pixels {
                    image::Pixels::Gray16(v) => (*v.iter().min().unwrap(), *v.iter().max().unwrap()),
                    image::Pixels::Gray8(v) => (*v.iter().min().unwrap() as u16, *v.iter().max().unwrap() as u16),
                    _ => (0, 0),
                };
                eprintln!(
                    "{n}: {}x{} {:?} stored {mn}..{mx} modality {}..{} {:?} {:.2?}",
                    i.width,
                    i.height,
                    i.bit_depth(),
                    s.describe_value(mn as f64),
                    s.describe_value(mx as f64),
                    s,
                    t.elapsed()
                );
            }
            Err(e) => eprintln!("{n}: ERR {e}"),
        }
    }
}
