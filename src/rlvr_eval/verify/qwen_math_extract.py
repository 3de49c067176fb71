"""Where the Qwen2.5-Math evaluation code finds the answer in a response (step 1 of rlvr_eval.verify.qwen_math_grader),
before any normalization."""

from __future__ import annotations

import re


def _after_last_boxed(text: str) -> str:
    """What follows the last "boxed": its brace group (to the end if unbalanced), or up to a "$"."""
    tail = text.split("boxed")[-1]
    if not tail:
        return ""
    if tail[0] != "{":
        return tail.split("$")[0].strip()
    depth = 0
    for i, ch in enumerate(tail):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return tail[1:i]
    return tail[1:]


def answer_span(response: str) -> str:
    """The raw answer text the original extracts from `response`, before normalization ("" when none).

    Cheap on any length (splits and one regex at most): the verification driver locates answers with it
    before any symbolic work."""
    text = response.replace("\u043a\u0438", "")
    if "final answer is $" in text and "$. I hope" in text:
        answer = text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    elif "boxed" in text:
        answer = _after_last_boxed(text)
        if not answer and not text.split("boxed")[-1]:
            return ""
    elif "he answer is" in text:
        answer = text.split("he answer is")[-1].strip()
    elif "final answer is" in text:
        answer = text.split("final answer is")[-1].strip()
    elif "答案是" in text:
        answer = text.split("答案是")[1].strip().split("\n\n")[0].strip()
    else:
        numbers = re.findall(r"-?\d*\.?\d+", text.replace(",", ""))
        answer = numbers[-1] if numbers else ""
    answer = re.sub(r"\n\s*", "", answer)
    if answer.startswith(":"):
        answer = answer[1:]
    if answer.endswith("."):
        answer = answer[:-1]
    if answer.endswith("/"):
        answer = answer[:-1]
    return answer
