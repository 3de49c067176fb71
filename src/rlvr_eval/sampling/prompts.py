"""The paper's zero-shot prompt templates. Both models of a base/RL pair use the same template.

Texts follow the released evaluation code of each RL recipe, byte for byte (tests/test_prompts.py):
SimpleRL-Zoo's `qwen-boxed` (Qwen2.5 base models) and `simple` (Llama-3.1-8B), Qwen2.5-Math's
`qwen25-math-cot` (Oat-Zero), DAPO's plain-text `dapo` prompt, and `chat`, the tokenizer's own chat template
(R1-Distill). Each template lists the strings that end a response besides the tokenizer's EOS.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str  # contains "{question}"
    stop: tuple[str, ...]  # strings that end a response (besides the tokenizer's EOS)
    code_prefix: str = ""  # code templates: the opening fence the prompt pre-fills (rlvr_eval.code.extract)
    images: int = 0  # visual templates: images the prompt holds (IMAGE_PLACEHOLDER each, before the question)


_BOXED = "Please reason step by step, and put your final answer within \\boxed{}."
_DIRECT = "Do not show any reasoning or working: reply with only the final answer, within \\boxed{}."
# DAPO's plain-text prompt for the revision the paper pins (no chat markup). The paper's evaluation code also
# stops generation at the string "Answer:", so the answer line DAPO was trained to write is never produced there;
# this project does not stop there (docs/configuration.md, "Configuration in brief").
_DAPO = (
    "A conversation between user and assistant. The user asks a question, and the assistant solves it. The time "
    "limit is set to 20,480 tokens. If the assistant's response exceeds this limit, a progressively increasing "
    "penalty with the number of tokens exceeded will be applied.\nuser\nSolve the following math problem step by "
    "step. The last line of your response should be of the form Answer: $Answer (without quotes) where $Answer is "
    "the answer to the problem.\n{question}\nRemember to put your answer on its own line after \"Answer:\".\n"
    "assistant"
)
_QWEN_STOP = ("<|im_end|>", "<|endoftext|>")
_LLAMA_STOP = ("<|end_of_text|>", "<|eot_id|>")
# evalplus 0.3.1's instruction and response prefixes for chat models (evalplus/codegen.py).
_EVALPLUS_ASK = "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
_EVALPLUS_ANSWER = ("Below is a Python script with a self-contained function that solves the problem and passes "
                    "corresponding tests:")
# Code-R1's system prompt (ganler/code-r1, examples/data_preprocess/coder1.py, as kept in its fork
# zhewang2001/code-r1: the original repository is not reachable from here). The braces are literal text: Code-R1
# never formats the string, so its models were trained and evaluated with "{language}" and "{code...}" in it.
_CODE_R1_SYSTEM = (
    "You are a helpful programming assistant. The user will ask you a question, and you as the assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think></think> and <answer></answer> tags, respectively. "
    "For example:\n<think>\nLet's think step by step to solve the programming task in high quality...\n"
    "{thinking processing...}\n</think>\n<answer>\nThe code below solves the task and is vulnerability-free...\n"
    "```{language}\n{code...}\n```\n</answer>")
_CODE_ASK = "Write the solution as one self-contained Python program in a ```python code block."

# The paper's prompt for Qwen2.5-VL and its RL version (its Fig. 26), in Qwen2.5-VL's chat markup: the system turn,
# then a user turn with the image first and the question after it.
_VL_THINK_SYSTEM = (
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant. You FIRST think about the reasoning process "
    "as an internal monologue and then provide the final answer. The reasoning process MUST BE enclosed within "
    "<think> </think> tags. The final answer MUST BE put in \\boxed{}.")
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"  # one image; backends expand <|image_pad|>

TEMPLATES: dict[str, PromptTemplate] = {
    t.name: t
    for t in [
        # SimpleRL-Zoo (Qwen2.5 base models): Qwen's chat markup, the question, the boxed instruction.
        PromptTemplate(
            "qwen-boxed",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n{question}\n" + _BOXED + "<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP,
        ),
        # The guessing check's direct-answer variant of qwen-boxed (this project's, not the paper's): the same chat
        # markup, asking for the final answer alone; a small max_new_tokens keeps any reasoning out.
        PromptTemplate(
            "qwen-direct",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n{question}\n" + _DIRECT + "<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP,
        ),
        # Qwen2.5-Math's evaluation prompt (Oat-Zero and the Qwen2.5-Math models).
        PromptTemplate(
            "qwen25-math-cot",
            "<|im_start|>system\n" + _BOXED + "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP,
        ),
        PromptTemplate("dapo", _DAPO, _QWEN_STOP),
        # SimpleRL-Zoo's prompt for weaker base models (Llama-3.1-8B): plain text, no chat markup.
        PromptTemplate("simple", "Question:\n{question}\nAnswer:\nLet's think step by step.\n",
                       ("\n\nQuestion:", *_LLAMA_STOP)),
        PromptTemplate(
            "r1-think",
            "<｜begin▁of▁sentence｜><｜User｜>{question}\n" + _BOXED + "<｜Assistant｜><think>\n",
            ("<｜end▁of▁sentence｜>",),
        ),
        # No wrapping at all: the question is the prompt (base-model completion style).
        PromptTemplate("plain", "Question: {question}\n" + _BOXED + "\nAnswer:", ()),
        # HumanEval+/MBPP+ as evalplus prompts chat models: the assistant turn is pre-filled up to a python fence.
        PromptTemplate(
            "evalplus-chat",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + _EVALPLUS_ASK
            + "\n```\n{question}\n```\n<|im_end|>\n<|im_start|>assistant\n" + _EVALPLUS_ANSWER + "\n```python\n",
            _QWEN_STOP, code_prefix="```python\n"),
        # The CodeR1 pair on HumanEval+/MBPP+: Code-R1's system prompt, evalplus's turns, pre-filled answer.
        PromptTemplate(
            "code-r1-evalplus",
            "<|im_start|>system\n" + _CODE_R1_SYSTEM + "<|im_end|>\n<|im_start|>user\n" + _EVALPLUS_ASK
            + "\n```\n{question}\n```\n<|im_end|>\n<|im_start|>assistant\n" + _EVALPLUS_ANSWER + "\n```python\n",
            _QWEN_STOP, code_prefix="```python\n"),
        # The CodeR1 pair on LiveCodeBench: Code-R1's system prompt, LiveCodeBench's user turn (the question as the
        # loader writes it), the response primed with a bare python fence.
        PromptTemplate(
            "code-r1-lcb",
            "<|im_start|>system\n" + _CODE_R1_SYSTEM + "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            "<|im_start|>assistant\n```python\n",
            _QWEN_STOP, code_prefix="```python\n"),
        PromptTemplate(
            "qwen25-vl-think",
            "<|im_start|>system\n" + _VL_THINK_SYSTEM + "<|im_end|>\n<|im_start|>user\n" + IMAGE_PLACEHOLDER
            + "{question}<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP, images=1),
        # DeepCoder / R1-distilled models on code: the <think> prompt, asked for one python block.
        PromptTemplate(
            "r1-code",
            "<｜begin▁of▁sentence｜><｜User｜>{question}\n" + _CODE_ASK + "<｜Assistant｜><think>\n",
            ("<｜end▁of▁sentence｜>",)),
    ]
}
CHAT_TEMPLATE = "chat"  # the tokenizer's own chat template, user turn = question + boxed instruction


def template_names() -> list[str]:
    return sorted([*TEMPLATES, CHAT_TEMPLATE])


def render_prompt(template: str, question: str, tokenizer=None) -> str:
    if template == CHAT_TEMPLATE:
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("prompt template 'chat' needs a tokenizer with a chat template")
        messages = [{"role": "user", "content": f"{question}\n{_BOXED}"}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; known: {', '.join(template_names())}")
    # str.replace, not str.format: questions and templates contain literal braces.
    return TEMPLATES[template].text.replace("{question}", question)


class VisualPrompt(str):
    """A rendered prompt (the text, with IMAGE_PLACEHOLDER where each image goes) that carries its image files;
    a str, so that the sampling driver handles it like any prompt, and a visual backend reads `.images`."""

    images: tuple[str, ...]

    def __new__(cls, text: str, images: tuple[str, ...]):
        obj = super().__new__(cls, text)
        obj.images = tuple(images)
        return obj


def is_visual(template: str) -> bool:
    return template in TEMPLATES and TEMPLATES[template].images > 0


def render_problem_prompts(template: str, problems, tokenizer=None) -> list[str]:
    """The prompt of each problem of a canonical table; a visual template gets each problem's `image` with it
    (VisualPrompt). A visual template on a table without images, or the reverse, is an error: an image must never
    be dropped silently."""
    has_images = "image" in getattr(problems, "columns", [])
    if is_visual(template) != has_images:
        raise ValueError(f"prompt template {template!r} {'takes' if is_visual(template) else 'takes no'} images, and "
                         f"the benchmark {'has' if has_images else 'has no'} images: pair visual templates "
                         "(qwen25-vl-think) with visual benchmarks (mathvision, mathvista) only")
    texts = [render_prompt(template, q, tokenizer) for q in problems["question"]]
    if not has_images:
        return texts
    return [VisualPrompt(t, (img,)) for t, img in zip(texts, problems["image"])]


def code_prefix(template: str) -> str:
    """The part of a code response that the prompt pre-filled ("" for all other templates)."""
    return TEMPLATES[template].code_prefix if template in TEMPLATES else ""


def stop_strings(template: str) -> list[str]:
    return list(TEMPLATES[template].stop) if template in TEMPLATES else []


def template_fingerprint(template: str) -> str:
    """A digest of the template's text and stop strings ("chat": the tokenizer's, covered by the model revision):
    a sampling parameter, so that editing one template resamples only the models that use it."""
    t = TEMPLATES.get(template)
    payload = {"name": template} if t is None else {"name": t.name, "text": t.text, "stop": list(t.stop)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
