"""Each template renders exactly as the paper's evaluation code does (byte for byte), with its stop strings; questions
are stripped where that code strips them; the stop strings reach the sampling parameters and end generation."""

import pytest

from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.sampling.prompts import lcb_codeqwen_question, render_problem_prompts, render_prompt, stop_strings

Q = "What is $1+1$?"
QWEN_EOT = ["<|im_end|>", "<|endoftext|>"]
# The paper's math code (LeapLabTHU/limit-of-RLVR, math_eval.py): every prompt type, then "*qwen*" and "abel".
MATH_CODE_QWEN = [*QWEN_EOT, "</s>", "assistant", "user", "_end", "_start"]
MATH_CODE_ABEL = ["</s>", "<|im_end|>", "<|endoftext|>", "Question:", "Answer:"]
# evalplus's stops for chat models (provider/utility.py EOS + "\n```\n", provider/vllm.py); lcb_runner's --stop.
EVALPLUS = [*QWEN_EOT, "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(", "\n```\n"]
LCB = [*QWEN_EOT, "###"]
# Code-R1's training system prompt (Fig. 23) as ganler/code-r1 has it now (examples/data_preprocess/coder1.py).
CODE_R1_SYSTEM = (
    "You are a helpful programming assistant. The user will ask you a question and you as the assistant solve it. "
    "The assistant first thinks how to solve the task through reasoning and then provides the user with the final "
    "answer. The reasoning process and answer are enclosed within <think>...</think> and <answer>...</answer> tags, "
    "respectively.")
# The paper's Fig. 25 (HumanEval+/MBPP+), which is evalplus's make_raw_chat_prompt on Qwen's chat markup.
EVALPLUS_USER = ("<|im_start|>user\nPlease provide a self-contained Python script that solves the following problem in a "
                 "markdown code block:\n```\nWhat is $1+1$?\n```\n<|im_end|>\n<|im_start|>assistant\nBelow is a Python "
                 "script with a self-contained function that solves the problem and passes corresponding tests:\n"
                 "```python\n")
# The paper's Fig. 24 (LiveCodeBench), which is lcb_runner's LMStyle.CodeQwenInstruct prompt + "```python".
LCB_USER = ("<|im_start|>user\n\nYou will be given a question (problem specification) and will generate a correct Python "
            "program that matches the specification and passes all tests. You will NOT return anything except for the "
            "program.\n\nQuestion: What is $1+1$?\n\n")
LCB_WITHOUT_STARTER = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample "
    "inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it reads the "
    "inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n<|im_end|>\n"
    "<|im_start|>assistant\n```python\n")


@pytest.mark.parametrize("template, question, expected, end_of_text, official", [
    ("qwen-boxed", Q,
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\nPlease reason step "
     "by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
     QWEN_EOT, MATH_CODE_QWEN),
    ("qwen25-math-cot", Q,
     "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
     "<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n",
     QWEN_EOT, MATH_CODE_QWEN),
    ("dapo", Q,
     "A conversation between user and assistant. The user asks a question, and the assistant solves it. The time limit "
     "is set to 20,480 tokens. If the assistant's response exceeds this limit, a progressively increasing penalty with "
     "the number of tokens exceeded will be applied.\nuser\nSolve the following math problem step by step. The last "
     "line of your response should be of the form Answer: $Answer (without quotes) where $Answer is the answer to the "
     "problem.\nWhat is $1+1$?\nRemember to put your answer on its own line after \"Answer:\".\nassistant",
     QWEN_EOT, [*QWEN_EOT, "</s>", "Question:", "Answer:"]),  # the official code runs it as "abel"
    ("qwen-direct", Q,  # the guessing check's direct-answer variant of qwen-boxed (this project's own)
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\nDo not show any "
     "reasoning or working: reply with only the final answer, within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
     QWEN_EOT, MATH_CODE_QWEN),
    ("simple", Q, "Question:\nWhat is $1+1$?\nAnswer:\nLet's think step by step.\n",
     ["\n\nQuestion:", "<|end_of_text|>", "<|eot_id|>"],
     ["\n\nQuestion:", "<|end_of_text|>", "<|eot_id|>", *MATH_CODE_ABEL]),
    ("evalplus-chat", Q, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + EVALPLUS_USER,
     QWEN_EOT, EVALPLUS),
    ("code-r1-evalplus", Q, f"<|im_start|>system\n{CODE_R1_SYSTEM}<|im_end|>\n" + EVALPLUS_USER, QWEN_EOT, EVALPLUS),
    ("lcb-codeqwen", lcb_codeqwen_question(Q),
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + LCB_USER + LCB_WITHOUT_STARTER, QWEN_EOT, LCB),
    ("code-r1-lcb", lcb_codeqwen_question(Q),
     f"<|im_start|>system\n{CODE_R1_SYSTEM}<|im_end|>\n" + LCB_USER + LCB_WITHOUT_STARTER, QWEN_EOT, LCB),
])
def test_templates_render_byte_for_byte(template, question, expected, end_of_text, official):
    assert render_prompt(template, question) == expected
    assert stop_strings(template, "end_of_text") == end_of_text
    assert stop_strings(template) == stop_strings(template, "official") == official


def test_livecodebench_prompts_are_built_from_each_problems_own_fields(mirror):
    """The CodeQwen turn of a problem with starter code (LeetCode-style) and of a stdin/stdout one."""
    problems = load_benchmark("livecodebench", mirror)[0].set_index("problem_id", drop=False).loc[["3517", "abc365_b"]]
    leetcode, atcoder = render_problem_prompts("lcb-codeqwen", problems.reset_index(drop=True))
    assert leetcode.endswith(
        "\n\nYou will use the following starter code to write the solution to the problem and enclose your code within "
        "delimiters.\n```python\nclass Solution:\n    def shortestDistanceAfterQueries(self, n: int, queries: "
        "List[List[int]]) -> List[int]:\n        \n```\n\n<|im_end|>\n<|im_start|>assistant\n```python\n")
    assert atcoder.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + LCB_USER[:-len(
        "What is $1+1$?\n\n")] + "You are given an integer sequence A=(A_1,\\ldots,A_N) of length N.")
    assert atcoder.endswith("\n\n" + LCB_WITHOUT_STARTER)
    with pytest.raises(ValueError, match="needs LiveCodeBench problems"):
        render_problem_prompts("lcb-codeqwen", load_benchmark("mbppplus", mirror, limit=1)[0])


@pytest.mark.parametrize("benchmark, problem_id, template", [
    ("olympiadbench", "1612", "qwen-boxed"),  # the paper's file, row 2: a leading newline
    ("amc23", "36", "qwen25-math-cot"),  # row 30: a trailing space
])
def test_math_questions_are_stripped_as_the_papers_code_strips_them(mirror, benchmark, problem_id, template):
    problems = load_benchmark(benchmark, mirror, problem_ids=[problem_id])[0]
    question = problems["question"].iloc[0]
    assert question != question.strip()
    stripped, = render_problem_prompts(template, problems)
    as_is, = render_problem_prompts(template, problems, strip_questions=False)
    assert stripped == render_prompt(template, question.strip()) != as_is == render_prompt(template, question, None, False)


def test_evalplus_task_prompts_are_stripped_as_evalplus_strips_them(mirror):
    """All 542 HumanEval+ and MBPP+ prompts end with a newline (141 HumanEval+ ones also start with whitespace):
    evalplus strips each, so its code block holds the prompt without them."""
    changed = leading = 0
    for benchmark in ("humanevalplus", "mbppplus"):
        problems = load_benchmark(benchmark, mirror)[0]
        for question, stripped, as_is in zip(problems["question"], render_problem_prompts("evalplus-chat", problems),
                                             render_problem_prompts("evalplus-chat", problems, strip_questions=False)):
            assert f"code block:\n```\n{question.strip()}\n```\n<|im_end|>" in stripped
            changed += stripped != as_is
            leading += question != question.lstrip()
    assert (changed, leading) == (542, 141)


def test_templates_whose_code_does_not_strip_keep_the_question_as_it_is():
    assert "<|im_start|>user\n\n x\n\n\n<|im_end|>" in render_prompt("lcb-codeqwen", " x\n")  # lcb_runner's own turn
    assert render_prompt("r1-code", "  x  ").startswith("<｜begin▁of▁sentence｜><｜User｜>  x  \n")
    assert render_prompt("qwen-boxed", "  x  ", strip_questions=False).count("user\n  x  \nPlease") == 1


def test_the_settings_reach_the_sample_jobs_params():
    """sampling.stop_strings and sampling.strip_questions (and a model's own override) in the sample rule's params."""
    from rlvr_eval.planning.config import load_config, validate_config
    from rlvr_eval.planning.grid import Grid
    from workflow_helpers import REPO

    config = load_config(REPO / "config.yaml")
    grid = Grid(config)
    assert list(grid.sampling_params("qwen2.5-7b", "math500").stop) == MATH_CODE_QWEN
    assert list(grid.sampling_params("dapo-qwen-32b", "aime24").stop)[-2:] == ["Question:", "Answer:"]
    assert list(grid.sampling_params("coder1-zero-7b", "humanevalplus").stop) == EVALPLUS
    assert list(grid.sampling_params("coder1-zero-7b", "livecodebench").stop) == LCB
    assert grid.prompt_params("qwen2.5-7b", "olympiadbench")["strip_questions"] is True
    assert grid.prompt_params("coder1-zero-7b", "livecodebench")["strip_questions"] is False  # lcb-codeqwen never strips

    config["models"]["dapo-qwen-32b"]["sampling"] = {"stop_strings": "end_of_text"}  # let DAPO write its Answer: line
    config["sampling"]["strip_questions"] = False
    grid = Grid(validate_config(config))
    assert list(grid.sampling_params("dapo-qwen-32b", "aime24").stop) == QWEN_EOT
    assert list(grid.sampling_params("qwen2.5-32b-dapo-prompt", "aime24").stop)[-1] == "Answer:"
    assert grid.prompt_params("qwen2.5-7b", "olympiadbench")["strip_questions"] is False


def test_a_stop_string_ends_generation_with_the_transformers_backend(tiny_model_dir):
    """A stop string cut from a first, unstopped draw ends the same draw there (same seed: the same tokens)."""
    from rlvr_eval.sampling.backends import SamplingParams, load_backend

    backend = load_backend("transformers", str(tiny_model_dir))
    prompt = render_prompt("qwen-boxed", Q)
    free = backend.generate([prompt], 1, [3], SamplingParams(1.0, 1.0, 24))[0][0]
    stop = free.text[8:11]
    assert len(free.text) > 11 and len(stop.strip()) > 0
    stopped = backend.generate([prompt], 1, [3], SamplingParams(1.0, 1.0, 24, (stop,)))[0][0]
    assert stopped.text == free.text[:free.text.index(stop)] and stopped.finish_reason == "stop"
    assert stopped.num_tokens < free.num_tokens


def test_chat_uses_the_tokenizers_own_template(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    expected = tokenizer.apply_chat_template(
        [{"role": "user", "content": f"{Q}\nPlease reason step by step, and put your final answer within \\boxed{{}}."}],
        tokenize=False, add_generation_prompt=True)
    assert render_prompt("chat", f"  {Q}\n", tokenizer) == expected  # stripped, as the paper's code strips it
    assert stop_strings("chat") == ["</s>", "<|im_end|>", "<|endoftext|>"] and stop_strings("chat", "end_of_text") == []
    with pytest.raises(ValueError, match="needs a tokenizer with a chat template"):
        render_prompt("chat", Q)


# The paper's Fig. 27 (VeRL's R1-style prompt of the Omni-MATH runs), line by line as the PDF's text layer has it
# (LeapLabTHU/limit-of-RLVR @ fd2cf37f, Limit_of_RLVR.pdf, page 30): a line the figure wraps ends in a space; the
# line "... User: {}" does not, so "Assistant:" starts a new line of the prompt.
FIG27_LINES = [
    "A conversation between User and Assistant. The user asks a question, and the ",
    "Assistant solves it. The assistant first thinks about the reasoning process in the mind ",
    "and then provides the user with the answer. The reasoning process and answer are ",
    "enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., ",
    "<think> reasoning process here </think> <answer> answer here </answer>. User: {}",
    "Assistant:",
]
# The same prompt in the paper's math evaluation code (math/examples/math_eval/utils.py, PROMPT_TEMPLATES
# "deepseek-r1", its input template, verbatim) and that code's stop words for it (math_eval.py: the base list, then
# the "deepseek" prompt types' ones, "</s>" again among them).
OFFICIAL_DEEPSEEK_R1 = (
    'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant '
    'first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning '
    'process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> '
    'reasoning process here </think> <answer> answer here </answer>. User: {input}. Assistant:')
OFFICIAL_DEEPSEEK_STOP = ["</s>", "<|im_end|>", "<|endoftext|>", "\nProblem", "User:", "Assistant:", "</answer>", "</s>"]


def _figure_text(lines: list[str]) -> str:
    """A figure's prompt from its text lines: a wrapped line (ending in a space) runs on, any other ends a line."""
    return "".join(line if line.endswith(" ") else line + "\n" for line in lines)[:-1]


def test_fig27_prompt_renders_byte_for_byte_as_the_figure_prints_it():
    expected = _figure_text(FIG27_LINES).replace("{}", Q)
    assert render_prompt("verl-r1", Q) == expected
    assert expected.endswith("<answer> answer here </answer>. User: What is $1+1$?\nAssistant:")
    assert stop_strings("verl-r1") == stop_strings("verl-r1", "end_of_text") == QWEN_EOT  # VeRL: end of text only
    assert render_prompt("verl-r1", " x ").count("User:  x \nAssistant:") == 1  # the question as it is


def test_fig27_prompt_as_the_papers_math_code_has_it():
    assert render_prompt("deepseek-r1", f"  {Q}\n") == OFFICIAL_DEEPSEEK_R1.replace("{input}", Q)  # stripped
    assert stop_strings("deepseek-r1") == QWEN_EOT + [s for s in dict.fromkeys(OFFICIAL_DEEPSEEK_STOP) if s not in QWEN_EOT]
    # The two differ only where the figure breaks the line: "{}\nAssistant:" against "{input}. Assistant:".
    assert render_prompt("deepseek-r1", Q).replace(". Assistant:", "\nAssistant:") == render_prompt("verl-r1", Q)
