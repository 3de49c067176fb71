"""LiveCodeBench's problem selection: the contest windows of the benchmarks that read it and the hub's release files
(the loader and its normaliser: rlvr_eval.data.benchmarks)."""

PAPER_WINDOW = ("2024-08", "2025-01")  # LiveCodeBench contest months of the paper's 279 problems
# The LiveCodeBench benchmarks: one source (release_v5: the mirror's file, or the hub's release files), each name with
# its own default contest window (benchmarks.<b>.window overrides it). livecodebench: the paper's Figs. 3 and 11 left
# (279 problems); livecodebench_2023_05: its Fig. 11 right and Table 5, the whole of release_v5 (879 problems in the
# mirror, in the release's order: a problem's position in it is the paper's Table 5 index).
LIVECODEBENCH_WINDOWS = {"livecodebench": PAPER_WINDOW, "livecodebench_2023_05": ("2023-05", "2025-01")}


def in_window(contest_date: str, window: tuple[str, str] = PAPER_WINDOW) -> bool:
    return window[0] <= contest_date[:7] <= window[1]


# The hub's LiveCodeBench releases are cumulative JSONL files (its loading script, which datasets >= 4 no longer runs).
LIVECODEBENCH_RELEASE_FILES = {f"release_v{v}": ["test.jsonl"] + [f"test{i}.jsonl" for i in range(2, v + 1)]
                               for v in range(1, 7)}
