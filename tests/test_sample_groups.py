"""Several sampling shards per job (sampling.shards_per_job): one engine start for a group of shards of one model x
benchmark, the same shard files as one job per shard, and nothing resampled when the setting changes."""

import shutil

import pandas as pd
import pytest
import yaml

from rlvr_eval.io import read_json, read_parquet, read_parquet_metadata
from rlvr_eval.planning.config import ConfigError, validate_config
from rlvr_eval.planning.grid import Grid
from workflow_helpers import MIRROR, REPO, demo_config, executed_rules, read_config, snakemake, write_config


def paper_grid(shards_per_job: int) -> Grid:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["benchmark_source"]["mirror_dir"] = str(MIRROR)
    config["sampling"]["shards_per_job"] = shards_per_job
    return Grid(validate_config(config))


def test_the_paper_grid_starts_fewer_sampling_engines_and_no_job_passes_its_runtime_cap():
    alone, grouped = paper_grid(1), paper_grid(8)
    shards = {f for m in alone.sampled_models for b in alone.benchmarks_of(m) for f in alone.sample_files(m, b)}
    assert alone.sample_groups == {}
    members = [grouped.sample_file(g["model"], g["benchmark"], s) for g in grouped.sample_groups.values()
               for s in g["shards"]]
    assert len(members) == len(set(members)) and set(members) <= shards  # each shard in one group at most
    engine_starts = len(grouped.sample_groups) + len(shards) - len(members)  # a group's job, or a shard's own
    assert engine_starts < len(shards)
    print(f"sampling jobs (engine starts): {len(shards)} one per shard, {engine_starts} with shards_per_job: 8")
    for name, group in grouped.sample_groups.items():
        assert 2 <= len(group["shards"]) <= 8
        resources = grouped.sample_group_resources(name)
        cap = grouped.shard_times.resources.sampling(group["model"])["runtime"]
        assert resources["runtime"] <= cap <= 24 * 60
        assert grouped._group_minutes(group["model"], group["benchmark"], len(group["shards"])) <= cap
        assert resources["gpu"] == alone.shard_times.resources.sampling(group["model"])["gpu"]
    # shards estimated at most of the cap each stay alone: e.g. Llama-3.1-8B's OlympiadBench shards (15.6 h each)
    assert not any(g["model"] == "llama-3.1-8b" and g["benchmark"] == "olympiadbench"
                   for g in grouped.sample_groups.values())


def test_engine_seeding_cannot_share_an_engine_between_shards():
    config = demo_config()
    config["sampling"].update(shards_per_job=2, seeding="engine")
    with pytest.raises(ConfigError, match="sampling.shards_per_job: .*sampling.seeding: engine"):
        validate_config(config)


def samples_without_times(path):
    metadata = read_parquet_metadata(path)
    return read_parquet(path), {k: v for k, v in metadata.items() if k not in ("started", "finished")}


def test_a_group_samples_its_shards_with_one_engine_start_as_one_job_per_shard_does(demo_copy):
    """The demo's sampling shards, made one job per shard, then regrouped two per job: the group finds them in the
    archive (no engine); sampled again from scratch by the group (one engine start), they are the same; and back at
    one job per shard, each shard is restored from the archive the group wrote."""
    shard_dir = demo_copy / "results/samples/tiny-base/gsm8k"
    targets = [f"results/samples/tiny-base/gsm8k/shard-{s}.parquet" for s in ("0000", "0001")]
    alone = {t: samples_without_times(demo_copy / t) for t in targets}
    config = read_config(demo_copy)
    config["sampling"]["shards_per_job"] = 2
    write_config(demo_copy, config)
    group_log = demo_copy / "logs/sample/_groups/tiny-base/gsm8k/0000-0001.log"

    ran = executed_rules(snakemake(demo_copy, *targets))
    assert ran == {"sample_group": 1, "sample_from_group": 2}
    assert "2 shards, 2 already archived; engine started 0 time(s)" in group_log.read_text()

    shutil.rmtree(shard_dir / ".archive")
    for path in ("results/samples/_groups/tiny-base/gsm8k/0000-0001.json", *targets):
        (demo_copy / path).unlink()
    ran = executed_rules(snakemake(demo_copy, *targets))
    assert ran == {"sample_group": 1, "sample_from_group": 2}
    assert "2 shards, 0 already archived; engine started 1 time(s)" in group_log.read_text()
    manifest = read_json(demo_copy / "results/samples/_groups/tiny-base/gsm8k/0000-0001.json")
    assert [e["shard"] for e in manifest["shards"]] == ["0000", "0001"] and manifest["engine_starts"] == 1
    for t in targets:
        samples, metadata = samples_without_times(demo_copy / t)
        pd.testing.assert_frame_equal(samples, alone[t][0])
        assert metadata == alone[t][1]
        assert (demo_copy / t).stat().st_ino == (demo_copy / manifest["shards"][targets.index(t)]["archive"]).stat().st_ino

    config["sampling"]["shards_per_job"] = 1
    write_config(demo_copy, config)
    proc = snakemake(demo_copy, *targets)
    assert executed_rules(proc) == {"sample": 2}
    for t in targets:
        log = (demo_copy / t.replace("results/samples", "logs/sample").replace(".parquet", ".log")).read_text()
        assert "restored from" in log  # the group's archive entry: the same key as the shard's own job
        pd.testing.assert_frame_equal(read_parquet(demo_copy / t), alone[t][0])


def test_a_members_lost_archive_entry_is_named_with_the_manifest_to_delete(demo_copy):
    targets = [f"results/samples/tiny-rl/math500/shard-{s}.parquet" for s in ("0000", "0001")]
    config = read_config(demo_copy)
    config["sampling"]["shards_per_job"] = 2
    write_config(demo_copy, config)
    snakemake(demo_copy, *targets)
    manifest = "results/samples/_groups/tiny-rl/math500/0000-0001.json"
    for entry in read_json(demo_copy / manifest)["shards"]:
        (demo_copy / entry["archive"]).unlink()
    (demo_copy / targets[1]).unlink()
    proc = snakemake(demo_copy, targets[1], check=False)
    assert proc.returncode != 0
    log = (demo_copy / "logs/sample/tiny-rl/math500/shard-0001.log").read_text()
    assert f"are missing or changed; delete {manifest} and rerun" in log
