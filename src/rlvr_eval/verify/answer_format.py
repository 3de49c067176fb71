"""Where a response's final answer is, by the format its prompt template asks for, before any grader looks at it.

Most templates ask for `\\boxed{}` (or DAPO's `Answer:` line), which the graders find in the whole response. The
R1-style prompt of the paper's VeRL runs (Fig. 27: `verl-r1`, and `deepseek-r1` as the paper's math code has it)
asks for `<think> ... </think> <answer> ... </answer>`: the answer is the content of the response's last
`<answer>` tag, and only that is graded, as a final answer (in `\\boxed{}` unless it has a box of its own). The
tag may be unclosed: the paper's math code stops those responses at "</answer>", so the closing tag is never in
them. A response without
an `<answer>` tag did not give an answer in the asked format: it is graded as an empty response (status
no_answer, not correct), whatever numbers its reasoning holds. The paper does not publish how its VeRL runs graded
these responses; this is this project's rule, stated here and in docs/configuration.md.
"""

from __future__ import annotations

import pandas as pd

OPEN, CLOSE = "<answer>", "</answer>"
# prompt template -> the answer format its responses are graded by ("boxed": the whole response, as before).
TEMPLATE_ANSWER_FORMATS = {"verl-r1": "answer_tag", "deepseek-r1": "answer_tag"}
ANSWER_FORMATS = ("boxed", "answer_tag")


def answer_format(template: str | None) -> str:
    return TEMPLATE_ANSWER_FORMATS.get(template or "", "boxed")


def answer_tag_content(response: str) -> str | None:
    """The content of the response's last <answer> tag (to its </answer>, or to the end where it is unclosed),
    stripped; None when the response has no <answer> tag."""
    start = response.rfind(OPEN)
    if start < 0:
        return None
    rest = response[start + len(OPEN):]
    end = rest.find(CLOSE)
    return (rest if end < 0 else rest[:end]).strip()


_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"))


def as_final_answer(content: str) -> str:
    """The tag's content as the graders read a final answer: inside `\\boxed{}` (both graders take a box's content
    whole; bare LaTeX such as `30(1 + \\sqrt{5})` would otherwise be read as its last number or not at all), its
    own math delimiters ($...$, \\[...\\], \\(...\\)) removed first; a content with a box of its own as it is."""
    content = content.strip()
    if not content or "\\boxed" in content:
        return content
    for left, right in _DELIMITERS:
        if content.startswith(left) and content.endswith(right) and len(content) > len(left) + len(right):
            content = content[len(left):-len(right)].strip()
            break
    return f"\\boxed{{{content}}}"


def graded_text(response: str, fmt: str) -> str:
    """The part of `response` a grader sees under answer format `fmt` ("" where the format's answer is missing)."""
    if fmt == "boxed":
        return response
    if fmt == "answer_tag":
        return as_final_answer(answer_tag_content(response) or "")
    raise ValueError(f"unknown answer format {fmt!r} (known: {', '.join(ANSWER_FORMATS)})")


def with_graded_text(samples: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The samples with each `text` replaced by the part a grader sees (the same frame for "boxed")."""
    if fmt == "boxed":
        return samples
    texts = ["" if t is None or (isinstance(t, float) and pd.isna(t)) else str(t) for t in samples["text"]]
    return samples.assign(text=[graded_text(t, fmt) for t in texts])
