"""Every score of the run with its interval and settings, in one file (rule summary; rlvr_eval.analysis.summary)."""

from rlvr_eval.analysis.summary import SCHEMA_VERSION, score_entry, to_markdown
from rlvr_eval.io import read_json, read_parquet, write_json, write_text
from rlvr_eval.provenance.environment import package_versions
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake):
    p = snakemake.params
    b = p.bootstrap
    scores = [score_entry({k: v for k, v in e.items() if k != "file"}, read_parquet(e["file"]), b["resamples"], b["seed"],
                          b["confidence"]) for e in p.entries]
    models = {}
    for path in snakemake.input.manifests:
        manifest = read_json(path)
        models[path.rsplit("/", 1)[-1][: -len(".json")]] = {
            k: manifest.get(k) for k in ("revision", "requested_revision", "hf_id", "path", "source") if k in manifest}
    write_json(snakemake.output.json, {"schema": SCHEMA_VERSION, "config": p.config, "packages": package_versions(),
                                       "models": models, "left_out": p.left_out, "scores": scores})
    write_text(snakemake.output.md, to_markdown(scores, p.left_out_note))
