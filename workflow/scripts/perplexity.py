"""Perplexity of one model (scored_model) on a seeded subsample of another model's responses (response_model)
to one benchmark (rule perplexity; logic in rlvr_eval.analysis.perplexity)."""

import pandas as pd

from rlvr_eval.analysis.output_hold import OutputHold
from rlvr_eval.analysis.perplexity import score_responses, select_responses
from rlvr_eval.analysis.perplexity_vl import score_responses_vl
from rlvr_eval.io import read_json, read_parquet, write_parquet
from rlvr_eval.provenance.scriptlog import end_process, logged

# The guard: with the vLLM backend the engine starts in a spawned process, which imports this script again.
if __name__ == "__main__":
    # First the claim (an older job still running, an orphan of a killed Snakemake, must not write after this one),
    # then, in the log and before any model loads, the lock (rlvr_eval.sampling.holds).
    hold = OutputHold(snakemake.output[0], snakemake.config["sampling"]["lock"])
    with logged(snakemake, hold=hold) as prov:
        p = snakemake.params
        model = read_json(snakemake.input.model)
        if model.get("source") == "tiny":
            prov.add_input(model["path"])  # weights built by the workflow: hash them (staged models: their revision)
        columns = ["problem_id", "sample_index", "text", "finish_reason"]
        samples = pd.concat([read_parquet(f, columns=columns) for f in snakemake.input.samples], ignore_index=True)
        chosen = select_responses(samples, p.num_problems, p.responses_per_problem, p.seed)
        problems = read_parquet(snakemake.input.problems)
        if "image" in problems:  # a visual benchmark: scored with each problem's image in the prompt
            table = score_responses_vl(model["path"], chosen, problems, p.template, p.scored_model, p.response_model,
                                       backend=p.backend, engine_kwargs=p.engine_kwargs, labels={"benchmark": p.benchmark})
        else:
            table = score_responses(model["path"], chosen, problems, p.template, p.scored_model,
                                    p.response_model, backend=p.backend, batch_size=p.batch_size,
                                    engine_kwargs=p.engine_kwargs, labels={"benchmark": p.benchmark},
                                    strip_questions=p.strip_questions)
        hold.check()  # still this job's output? (an orphan superseded by a newer job writes nothing)
        write_parquet(snakemake.output[0], table, {"scored_model_manifest": model, "template": p.template,
                                                  "num_problems": p.num_problems, "responses_per_problem": p.responses_per_problem,
                                                  "seed": p.seed, "backend": p.backend,
                                                  "status_counts": table["status"].value_counts().to_dict()})
        print(table.groupby("response_model")["perplexity"].describe().to_string())
        print("responses by status (too_long: beyond the scoring model's context, skipped):",
              table["status"].value_counts().to_dict())
    end_process()  # vLLM's CPU build can abort in the interpreter's teardown
