#!/usr/bin/env python3
"""Make a large pack for the rules benchmark by repeating the sample pack.

    python3 bench/rules_pack.py samples/chest-phantom 250 /tmp/lightbox-rules-10k

writes a pack of 250 × 40 = 10,000 cases: every image and label mask is hard-linked (or copied
when links are not possible) under a new name, the COCO files and score tables are repeated with
new ids. The rules file and manifest are the sample's. Case k of copy r is `r{r:03}-<name>`.
"""

import csv
import json
import os
import shutil
import sys
from pathlib import Path


def link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def repeat_coco(src: Path, dst: Path, copies: int) -> None:
    data = json.loads(src.read_text())
    if isinstance(data, list):  # detections: a results list keyed by image id
        n_images = 1 + max((d["image_id"] for d in data), default=0)
        out = []
        for r in range(copies):
            for d in data:
                d = dict(d)
                d["image_id"] = d["image_id"] + r * n_images
                out.append(d)
        dst.write_text(json.dumps(out))
        return
    n_images = 1 + max(i["id"] for i in data["images"])
    n_ann = 1 + max((a["id"] for a in data["annotations"]), default=0)
    images, anns = [], []
    for r in range(copies):
        for i in data["images"]:
            i = dict(i)
            i["id"] += r * n_images
            i["file_name"] = f"r{r:03}-{i['file_name']}"
            images.append(i)
        for a in data["annotations"]:
            a = dict(a)
            a["id"] += r * n_ann
            a["image_id"] += r * n_images
            anns.append(a)
    data["images"], data["annotations"] = images, anns
    dst.write_text(json.dumps(data))


def repeat_csv(src: Path, dst: Path, copies: int) -> None:
    rows = list(csv.reader(src.open()))
    with dst.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        for r in range(copies):
            for row in rows[1:]:
                w.writerow([f"r{r:03}-{row[0]}"] + row[1:])


def main() -> None:
    src, copies, dst = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.rglob("*"):
        rel = f.relative_to(src)
        if f.is_dir():
            continue
        if f.suffix in (".jpg", ".png") and rel.parts[0] in ("images", "ground_truth", "runs"):
            for r in range(copies):
                link(f, dst / rel.parent / f"r{r:03}-{f.name}")
        elif f.suffix == ".json" and rel.parts[0] in ("ground_truth", "runs"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            repeat_coco(f, dst / rel, copies)
        elif f.suffix == ".csv":
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            repeat_csv(f, dst / rel, copies)
        elif f.name in ("lightbox.toml", "rules.toml"):
            shutil.copyfile(f, dst / rel)
    print(f"{dst}: {copies} copies of {src}")


if __name__ == "__main__":
    main()
