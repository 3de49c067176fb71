"""The paper's zero-shot prompt templates. Both models of a base/RL pair use the same template.

Texts follow the released evaluation code of each RL recipe, byte for byte (tests/test_prompts.py):
SimpleRL-Zoo's `qwen-boxed` (Qwen2.5 base models) and `simple` (Llama-3.1-8B), Qwen2.5-Math's
`qwen25-math-cot` (Oat-Zero), DAPO's plain-text `dapo` prompt, and `chat`, the tokenizer's own chat template
(R1-Distill); on code, each benchmark's default prompt (the paper's Figs. 24 and 25: `evalplus-chat`,
`lcb-codeqwen`); the VeRL runs' R1-style prompt as the paper's Fig. 27 prints it (`verl-r1`, its answer in
<answer> tags) and as the paper's math code has it (`deepseek-r1`). Each template lists the strings that end a response besides the tokenizer's EOS (`stop`), and the
further ones its official evaluation code stops at (`official_stop`: the paper's code for the math templates,
evalplus and LiveCodeBench for the code ones), which `sampling.stop_strings: official` (the default) adds.
Templates whose official code strips each question (`strips_question`) strip it under `sampling.strip_questions`.
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
    official_stop: tuple[str, ...] = ()  # the further strings the template's official evaluation code stops at
    strips_question: bool = False  # its official code strips each question of surrounding whitespace
    question_from: str = "question"  # "lcb-codeqwen": the user turn is built from the problem's LiveCodeBench fields


_BOXED = "Please reason step by step, and put your final answer within \\boxed{}."
_DIRECT = "Do not show any reasoning or working: reply with only the final answer, within \\boxed{}."
# DAPO's plain-text prompt for the revision the paper pins (no chat markup). The paper's evaluation code runs it as
# its prompt type "abel" and so also stops at the string "Answer:": the answer line DAPO was trained to write is
# never produced there (sampling.stop_strings: end_of_text lets DAPO write it; docs/configuration.md).
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
# The paper's math evaluation code (LeapLabTHU/limit-of-RLVR @ fd2cf37f, math/examples/math_eval/math_eval.py):
# every prompt type stops at _MATH_CODE_STOP; those named "*qwen*" (qwen-boxed, qwen25-math-cot) also at
# _MATH_CODE_QWEN_STOP, "abel" (DAPO's prompt there; SimpleRL-Zoo's `simple` prompt in SimpleRL-Zoo's copy of the
# same code, hkust-nlp/simpleRL-reason @ cf1c7858, examples/simplelr_math_eval/utils.py and math_eval.py) also at
# _MATH_CODE_ABEL_STOP. Both copies strip each question (parser.py, parse_question).
_MATH_CODE_STOP = ("</s>", "<|im_end|>", "<|endoftext|>")
_MATH_CODE_QWEN_STOP = (*_MATH_CODE_STOP, "assistant", "user", "_end", "_start")
_MATH_CODE_ABEL_STOP = (*_MATH_CODE_STOP, "Question:", "Answer:")
_MATH_CODE_R1_STOP = (*_MATH_CODE_STOP, "\nProblem", "User:", "Assistant:", "</answer>")
# evalplus's stops for chat models (evalplus/evalplus @ 26d6d00, evalplus/provider/utility.py EOS and
# evalplus/provider/vllm.py: EOS + "\n```\n" when the model has a chat template).
_EVALPLUS_STOP = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(", "\n```\n")
# lcb_runner's default --stop (LiveCodeBench/LiveCodeBench @ 28fef95, lcb_runner/runner/parser.py).
_LCB_STOP = ("###",)
# evalplus 0.3.1's instruction and response prefixes for chat models (evalplus/codegen.py).
_EVALPLUS_ASK = "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
_EVALPLUS_ANSWER = ("Below is a Python script with a self-contained function that solves the problem and passes "
                    "corresponding tests:")
# Code-R1's training system prompt (the paper's Fig. 23), as Code-R1 has it now: ganler/code-r1 @ 443f8da8,
# examples/data_preprocess/coder1.py, SYSTEM_PROMPT (this text since commit 8782a643, "fix: preprocessing
# mapping"; the first version, with "{language}" and "{code...}" examples, was replaced there). The paper evaluates
# Code-R1 with each benchmark's default prompt instead; these templates are an option (code-r1-*).
_CODE_R1_SYSTEM = (
    "You are a helpful programming assistant. The user will ask you a question and you as the assistant solve it. "
    "The assistant first thinks how to solve the task through reasoning and then provides the user with the final "
    "answer. The reasoning process and answer are enclosed within <think>...</think> and <answer>...</answer> tags, "
    "respectively.")
# LiveCodeBench's user turn for LMStyle.CodeQwenInstruct (LiveCodeBench/LiveCodeBench @ 28fef95,
# lcb_runner/prompts/code_generation.py: get_codeqwen_question_template_answer and PromptConstants), the paper's
# Fig. 24; lcb_codeqwen_question builds each problem's turn from them.
_LCB_ASK = ("You will be given a question (problem specification) and will generate a correct Python program that "
            "matches the specification and passes all tests. You will NOT return anything except for the program.")
_LCB_WITH_STARTER = ("You will use the following starter code to write the solution to the problem and enclose your "
                     "code within delimiters.")
_LCB_WITHOUT_STARTER = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
                        "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when "
                        "the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.")
# LiveCodeBench's CodeQwen prompt opens the user turn with "\n\n" and closes it with "\n\n<|im_end|>\n"; the paper
# appends "```python" to the assistant turn (Fig. 24) so that both models answer with code.
_LCB_CODEQWEN = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n\n{question}\n\n"
                 "<|im_end|>\n<|im_start|>assistant\n```python\n")
_CODE_ASK = "Write the solution as one self-contained Python program in a ```python code block."

# The paper's prompt for Qwen2.5-VL and its RL version (its Fig. 26), in Qwen2.5-VL's chat markup: the system turn,
# then a user turn with the image first and the question after it.
_VL_THINK_SYSTEM = (
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant. You FIRST think about the reasoning process "
    "as an internal monologue and then provide the final answer. The reasoning process MUST BE enclosed within "
    "<think> </think> tags. The final answer MUST BE put in \\boxed{}.")
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"  # one image; backends expand <|image_pad|>

# The R1-style prompt of the paper's VeRL runs (its Fig. 27: GRPO steps 150/300/450 and the six RL algorithms, trained
# on Omni-MATH-Rule's train split, evaluated on its test split and MATH500), as the figure prints it: its wrapped
# lines end in a space (one line), and "User: {}" ends the line, so "Assistant:" follows a newline. The answer goes
# in <answer> tags (rlvr_eval.verify.answer_format grades the tag's content).
_R1_INSTRUCTION = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant "
    "first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning "
    "process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., "
    "<think> reasoning process here </think> <answer> answer here </answer>. User: {question}")
# The same prompt in the paper's math evaluation code (LeapLabTHU/limit-of-RLVR @ fd2cf37f, math/examples/math_eval/
# utils.py, prompt type "deepseek-r1"): "User: {input}. Assistant:", a period and a space where the figure has a
# newline; that code stops its responses at _MATH_CODE_R1_STOP (math_eval.py, prompt types named "*deepseek*").

TEMPLATES: dict[str, PromptTemplate] = {
    t.name: t
    for t in [
        # SimpleRL-Zoo (Qwen2.5 base models): Qwen's chat markup, the question, the boxed instruction.
        PromptTemplate(
            "qwen-boxed",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n{question}\n" + _BOXED + "<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP, official_stop=_MATH_CODE_QWEN_STOP, strips_question=True,
        ),
        # The guessing check's direct-answer variant of qwen-boxed (this project's, not the paper's): the same chat
        # markup, asking for the final answer alone; a small max_new_tokens keeps any reasoning out.
        PromptTemplate(
            "qwen-direct",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n{question}\n" + _DIRECT + "<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP, official_stop=_MATH_CODE_QWEN_STOP, strips_question=True,
        ),
        # Qwen2.5-Math's evaluation prompt (Oat-Zero and the Qwen2.5-Math models).
        PromptTemplate(
            "qwen25-math-cot",
            "<|im_start|>system\n" + _BOXED + "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP, official_stop=_MATH_CODE_QWEN_STOP, strips_question=True,
        ),
        PromptTemplate("dapo", _DAPO, _QWEN_STOP, official_stop=_MATH_CODE_ABEL_STOP, strips_question=True),
        # SimpleRL-Zoo's prompt for weaker base models (Llama-3.1-8B): plain text, no chat markup.
        PromptTemplate("simple", "Question:\n{question}\nAnswer:\nLet's think step by step.\n",
                       ("\n\nQuestion:", *_LLAMA_STOP), official_stop=_MATH_CODE_ABEL_STOP, strips_question=True),
        PromptTemplate(
            "r1-think",
            "<｜begin▁of▁sentence｜><｜User｜>{question}\n" + _BOXED + "<｜Assistant｜><think>\n",
            ("<｜end▁of▁sentence｜>",),
        ),
        # No wrapping at all: the question is the prompt (base-model completion style).
        PromptTemplate("plain", "Question: {question}\n" + _BOXED + "\nAnswer:", ()),
        # HumanEval+/MBPP+ as evalplus prompts chat models (the paper's Fig. 25, both models of the Code-R1 pair):
        # the assistant turn is pre-filled up to a python fence.
        PromptTemplate(
            "evalplus-chat",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + _EVALPLUS_ASK
            + "\n```\n{question}\n```\n<|im_end|>\n<|im_start|>assistant\n" + _EVALPLUS_ANSWER + "\n```python\n",
            _QWEN_STOP, code_prefix="```python\n", official_stop=_EVALPLUS_STOP, strips_question=True),
        # LiveCodeBench's CodeQwen prompt with the answer primed with a python fence (the paper's Fig. 24).
        PromptTemplate("lcb-codeqwen", _LCB_CODEQWEN, _QWEN_STOP, code_prefix="```python\n",
                       official_stop=_LCB_STOP, question_from="lcb-codeqwen"),
        # Options, not the paper's evaluation: Code-R1's training system prompt (Fig. 23) with the same user turns.
        PromptTemplate(
            "code-r1-evalplus",
            "<|im_start|>system\n" + _CODE_R1_SYSTEM + "<|im_end|>\n<|im_start|>user\n" + _EVALPLUS_ASK
            + "\n```\n{question}\n```\n<|im_end|>\n<|im_start|>assistant\n" + _EVALPLUS_ANSWER + "\n```python\n",
            _QWEN_STOP, code_prefix="```python\n", official_stop=_EVALPLUS_STOP, strips_question=True),
        PromptTemplate(
            "code-r1-lcb",
            _LCB_CODEQWEN.replace("You are a helpful assistant.", _CODE_R1_SYSTEM),
            _QWEN_STOP, code_prefix="```python\n", official_stop=_LCB_STOP, question_from="lcb-codeqwen"),
        PromptTemplate(
            "qwen25-vl-think",
            "<|im_start|>system\n" + _VL_THINK_SYSTEM + "<|im_end|>\n<|im_start|>user\n" + IMAGE_PLACEHOLDER
            + "{question}<|im_end|>\n<|im_start|>assistant\n",
            _QWEN_STOP, images=1),
        # The paper's Fig. 27 (VeRL's R1-style prompt, Omni-MATH-Rule runs): plain text, no chat markup; VeRL's
        # rollouts end at the tokenizer's end of text only.
        PromptTemplate("verl-r1", _R1_INSTRUCTION + "\nAssistant:", _QWEN_STOP),
        # Fig. 27's prompt as the paper's math evaluation code has it (its prompt type "deepseek-r1"), an option.
        PromptTemplate("deepseek-r1", _R1_INSTRUCTION + ". Assistant:", _QWEN_STOP, official_stop=_MATH_CODE_R1_STOP,
                       strips_question=True),
        # DeepCoder / R1-distilled models on code: the <think> prompt, asked for one python block.
        PromptTemplate(
            "r1-code",
            "<｜begin▁of▁sentence｜><｜User｜>{question}\n" + _CODE_ASK + "<｜Assistant｜><think>\n",
            ("<｜end▁of▁sentence｜>",)),
    ]
}
CHAT_TEMPLATE = "chat"  # the tokenizer's own chat template, user turn = question + boxed instruction
# The paper's math code on a chat template (its --apply_chat_template): the question stripped, its base stops.
_CHAT_OFFICIAL_STOP = _MATH_CODE_STOP
STOP_STRING_MODES = ("official", "end_of_text")  # sampling.stop_strings


def template_names() -> list[str]:
    return sorted([*TEMPLATES, CHAT_TEMPLATE])


def strips_question(template: str) -> bool:
    """Whether the template's official code strips each question (applied under sampling.strip_questions)."""
    return template == CHAT_TEMPLATE or (template in TEMPLATES and TEMPLATES[template].strips_question)


def render_prompt(template: str, question: str, tokenizer=None, strip_questions: bool = True) -> str:
    """The prompt of one question; strip_questions: strip it where the template's official code does."""
    if strip_questions and strips_question(template):
        question = question.strip()
    if template == CHAT_TEMPLATE:
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("prompt template 'chat' needs a tokenizer with a chat template")
        messages = [{"role": "user", "content": f"{question}\n{_BOXED}"}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; known: {', '.join(template_names())}")
    # str.replace, not str.format: questions and templates contain literal braces.
    return TEMPLATES[template].text.replace("{question}", question)


def lcb_codeqwen_question(question_content: str, starter_code: str = "") -> str:
    """LiveCodeBench's CodeQwen user turn (between its opening and closing blank lines) for one problem."""
    if starter_code:
        fmt = f"{_LCB_WITH_STARTER}\n```python\n{starter_code}\n```"
    else:
        fmt = f"{_LCB_WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```"
    return f"{_LCB_ASK}\n\nQuestion: {question_content}\n\n{fmt}"


def _template_questions(template: str, problems) -> list[str]:
    """What each problem puts in the template's {question}: the question, or for LiveCodeBench's own turn the
    turn built from the problem's LiveCodeBench fields (question_content, starter_code in its metadata)."""
    if template not in TEMPLATES or TEMPLATES[template].question_from == "question":
        return list(problems["question"])
    questions = []
    for pid, metadata in zip(problems["problem_id"], problems["metadata"]):
        fields = json.loads(metadata)
        if "question_content" not in fields:
            raise ValueError(f"prompt template {template!r} needs LiveCodeBench problems (question_content in their "
                             f"metadata); problem {pid!r} has none: pair it with the livecodebench benchmark only")
        questions.append(lcb_codeqwen_question(fields["question_content"], fields.get("starter_code") or ""))
    return questions


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


def render_problem_prompts(template: str, problems, tokenizer=None, strip_questions: bool = True) -> list[str]:
    """The prompt of each problem of a canonical table; a visual template gets each problem's `image` with it
    (VisualPrompt). strip_questions: as in render_prompt. A visual template on a table without images, or the
    reverse, is an error: an image must never be dropped silently."""
    has_images = "image" in getattr(problems, "columns", [])
    if is_visual(template) != has_images:
        raise ValueError(f"prompt template {template!r} {'takes' if is_visual(template) else 'takes no'} images, and "
                         f"the benchmark {'has' if has_images else 'has no'} images: pair visual templates "
                         "(qwen25-vl-think) with visual benchmarks (mathvision, mathvista) only")
    texts = [render_prompt(template, q, tokenizer, strip_questions) for q in _template_questions(template, problems)]
    if not has_images:
        return texts
    return [VisualPrompt(t, (img,)) for t, img in zip(texts, problems["image"])]


def code_prefix(template: str) -> str:
    """The part of a code response that the prompt pre-filled ("" for all other templates)."""
    return TEMPLATES[template].code_prefix if template in TEMPLATES else ""


def stop_strings(template: str, mode: str = "official") -> list[str]:
    """The strings that end a response under `template`: official (sampling.stop_strings' default) adds those its
    official evaluation code stops at to the end-of-text strings; end_of_text keeps only the latter."""
    if mode not in STOP_STRING_MODES:
        raise ValueError(f"unknown stop-string mode {mode!r} (known: {', '.join(STOP_STRING_MODES)})")
    t = TEMPLATES.get(template)
    own = list(t.stop) if t else []
    if mode == "end_of_text":
        return own
    official = t.official_stop if t else (_CHAT_OFFICIAL_STOP if template == CHAT_TEMPLATE else ())
    return own + [s for s in official if s not in own]


def template_fingerprint(template: str) -> str:
    """A digest of the template's text, stop strings and question handling ("chat": the tokenizer's, covered by the
    model revision): a sampling parameter, so that editing one template resamples only the models that use it."""
    t = TEMPLATES.get(template)
    payload = {"name": template} if t is None else {
        "name": t.name, "text": t.text, "stop": list(t.stop), "official_stop": list(t.official_stop),
        "strips_question": t.strips_question, "question_from": t.question_from}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
