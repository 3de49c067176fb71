"""Visual benchmarks: MATH-V with its real images, MathVista with generated images of the recorded sizes."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.planning.config import ConfigError, validate_config
from rlvr_eval.planning.grid import Grid
from rlvr_eval.io import sha256_file
from rlvr_eval.planning.preflight import check_visual_benchmarks
from rlvr_eval.data.visual import VisualBenchmarkError, strip_markers


def mathvista_rows(mirror):
    return list(json.loads((mirror / "mathvista/testmini.json").read_text()).values())


def make_images(mirror, out, count, resize=None):
    """The first `count` free-form MathVista images, blank, at the sizes the annotation records."""
    out.mkdir(exist_ok=True)
    rows = [r for r in mathvista_rows(mirror) if r["question_type"] == "free_form"][:count]
    for r in rows:
        size = (r["metadata"]["img_width"], r["metadata"]["img_height"])
        if resize and r["pid"] == resize:
            size = (size[0] + 1, size[1])
        Image.new("RGB", size, "white").save(out / r["image"].split("/")[-1])
    return rows


def test_mathvision_free_form_with_real_images(mirror):
    table, prov = load_benchmark("mathvision", mirror)
    assert len(table) == 114 and prov["source"]["rows"] == 304 and prov["warning"] is None
    assert prov["visual"] == {"free_form_only": True, "strip_image_markers": True, "selected": 114, "images": 114,
                              "images_sha256": prov["visual"]["images_sha256"]}
    first = table.iloc[0]
    assert (first.problem_id, first.question, first.reference) == (
        "4", "How many different digits can you find in this picture?", "6")
    assert first.image_sha256 == sha256_file(first.image) and first.image.endswith("mathvision/images/4.jpg")
    assert not table["question"].str.contains("<image").any()
    assert (table["metadata"].map(lambda m: json.loads(m)["options"]) == "[]").sum() == 0  # all free-form
    everything, prov_all = load_benchmark("mathvision", mirror, visual={"free_form_only": False,
                                                                        "strip_image_markers": False})
    assert len(everything) == 304 and everything["question"].str.contains("<image1>").sum() == 303
    assert prov_all["visual"]["images_sha256"] != prov["visual"]["images_sha256"]


def test_strip_markers_keeps_the_text_around_them():
    assert strip_markers("Max cut a rectangle:\n<image1>\nWhat is the other piece?\n<image2>") == \
        "Max cut a rectangle:\nWhat is the other piece?"


def test_mathvista_with_generated_images(mirror, tmp_path):
    rows = make_images(mirror, tmp_path / "images", 6)
    table, prov = load_benchmark("mathvista", mirror, limit=6, visual={"images_dir": str(tmp_path / "images")})
    assert table["problem_id"].tolist() == [r["pid"] for r in rows]
    assert table["reference"].tolist() == [r["answer"] for r in rows]
    assert table["question"].tolist() == [r["question"] for r in rows]
    assert prov["visual"]["question_field"] == "question" and prov["source"]["images_dir"] == str(tmp_path / "images")
    with pytest.raises(VisualBenchmarkError, match="'query' is not a field of problem 1"):
        load_benchmark("mathvista", mirror, limit=6, visual={"images_dir": str(tmp_path / "images"),
                                                             "question_field": "query"})


def test_mathvista_names_the_first_bad_image(mirror, tmp_path):
    make_images(mirror, tmp_path / "images", 5)
    images = str(tmp_path / "images")
    free = [r for r in mathvista_rows(mirror) if r["question_type"] == "free_form"]
    with pytest.raises(VisualBenchmarkError, match=f"problem {free[5]['pid']}: image .* does not exist"):
        load_benchmark("mathvista", mirror, limit=6, visual={"images_dir": images})
    make_images(mirror, tmp_path / "images", 6, resize=free[2]["pid"])
    w, h = free[2]["metadata"]["img_width"], free[2]["metadata"]["img_height"]
    with pytest.raises(VisualBenchmarkError, match=rf"problem {free[2]['pid']}: .* is {w + 1}x{h}, the annotation says {w}x{h}"):
        load_benchmark("mathvista", mirror, limit=6, visual={"images_dir": images})


def visual_config(mirror, **mathvista):
    return validate_config({
        "benchmark_source": {"mirror_dir": str(mirror)},
        "models": {"m": {"tiny": {}, "role": "base", "prompt_template": "qwen25-vl-think"}},
        "pairs": [{"name": "p", "base": "m", "rl": "m"}],
        "benchmarks": {"mathvision": {"n": 2, "limit": 2}, "mathvista": {"n": 2, "limit": 3, **mathvista}},
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 8, "seed": 0},
    })


def test_preflight_stops_before_any_job(mirror, tmp_path):
    with pytest.raises(ConfigError, match="images_dir: not set"):
        check_visual_benchmarks(Grid(visual_config(mirror)))
    free = make_images(mirror, tmp_path / "images", 2)
    all_free = [r for r in mathvista_rows(mirror) if r["question_type"] == "free_form"]
    with pytest.raises(ConfigError, match=f"problem {all_free[2]['pid']}: image .* does not exist"):
        check_visual_benchmarks(Grid(visual_config(mirror, images_dir=str(tmp_path / "images"))))
    assert len(free) == 2
    make_images(mirror, tmp_path / "images", 3)
    check_visual_benchmarks(Grid(visual_config(mirror, images_dir=str(tmp_path / "images"))))


def test_visual_keys_only_where_they_mean_something(mirror):
    with pytest.raises(ConfigError, match="benchmarks.mathvision.images_dir: only for mathvista"):
        validate_config({**visual_config(mirror), "benchmarks": {"mathvision": {"n": 1, "images_dir": "x"}}})
    with pytest.raises(ConfigError, match="question_field"):
        validate_config({**visual_config(mirror), "benchmarks": {"mathvista": {"n": 1, "question_field": "prompt"}}})


def test_limit_beyond_the_free_form_problems(mirror):
    with pytest.raises(VisualBenchmarkError, match="115 is more than the 114 problems selected"):
        load_benchmark("mathvision", mirror, limit=115)


def test_hub_source_writes_the_published_image_bytes(mirror, tmp_path, monkeypatch):
    """The hub path with MATH-V's real rows and image bytes in the hub's layout (a `decoded_image` Image column),
    served by a datasets.Dataset in place of the unreachable hub."""
    import datasets

    rows = [json.loads(line) for line in (mirror / "mathvision/testmini.jsonl").read_text().splitlines()]
    features = datasets.Features({**{k: datasets.Value("string") for k in ("id", "question", "answer", "image")},
                                  "options": datasets.Sequence(datasets.Value("string")),
                                  "decoded_image": datasets.Image()})
    hub = datasets.Dataset.from_dict(
        {**{k: [r[k] for r in rows] for k in ("id", "question", "answer", "image", "options")},
         "decoded_image": [{"bytes": (mirror / "mathvision" / r["image"]).read_bytes(), "path": None} for r in rows]},
        features=features)
    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: calls.append((a, k)) or hub)
    table, prov = load_benchmark("mathvision", None, hub_revision="abc123", limit=5, hub_images_dir=tmp_path / "images")
    assert calls == [(("MathLLMs/MathVision", None), {"split": "testmini", "revision": "abc123"})]
    assert prov["source"]["kind"] == "hub" and prov["source"]["revision"] == "abc123" and prov["source"]["rows"] == 304
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(f"{i}.jpg" for i in (4, 5, 7, 8, 10))
    mirrored, _ = load_benchmark("mathvision", mirror, limit=5)
    assert table["problem_id"].tolist() == mirrored["problem_id"].tolist()
    assert table["image_sha256"].tolist() == mirrored["image_sha256"].tolist()  # byte for byte, not re-encoded
    assert prov["warning"].startswith("benchmark 'mathvision': hub MathLLMs/MathVision differs")
