"""The program in a model's response: the last fenced python block, or the whole response without one.

Where the prompt pre-fills the assistant turn with an opening fence (HumanEval+/MBPP+ as evalplus prompts
chat models; LiveCodeBench primed with ```python), that prefix is put back before extraction, so the
response's first block is closed by its first fence.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(response: str, prefix: str = "") -> str:
    text = prefix + response
    blocks = _FENCE.findall(text)
    return blocks[-1] if blocks else response  # (a primed block never closed: the response is the code)
