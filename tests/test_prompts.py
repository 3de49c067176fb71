"""Each template renders exactly as the paper's evaluation code does (byte for byte), with its stop strings."""

import pytest

from rlvr_eval.sampling.prompts import render_prompt, stop_strings

Q = "What is $1+1$?"


@pytest.mark.parametrize("template, expected, stops", [
    ("qwen-boxed",
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\nPlease reason step "
     "by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
     ["<|im_end|>", "<|endoftext|>"]),
    ("qwen25-math-cot",
     "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
     "<|im_start|>user\nWhat is $1+1$?<|im_end|>\n<|im_start|>assistant\n",
     ["<|im_end|>", "<|endoftext|>"]),
    ("dapo",
     "A conversation between user and assistant. The user asks a question, and the assistant solves it. The time limit "
     "is set to 20,480 tokens. If the assistant's response exceeds this limit, a progressively increasing penalty with "
     "the number of tokens exceeded will be applied.\nuser\nSolve the following math problem step by step. The last "
     "line of your response should be of the form Answer: $Answer (without quotes) where $Answer is the answer to the "
     "problem.\nWhat is $1+1$?\nRemember to put your answer on its own line after \"Answer:\".\nassistant",
     ["<|im_end|>", "<|endoftext|>"]),  # not "Answer:", unlike the paper's code (README)
    ("qwen-direct",  # the guessing check's direct-answer variant of qwen-boxed (this project's own)
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\nDo not show any "
     "reasoning or working: reply with only the final answer, within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
     ["<|im_end|>", "<|endoftext|>"]),
    ("simple", "Question:\nWhat is $1+1$?\nAnswer:\nLet's think step by step.\n",
     ["\n\nQuestion:", "<|end_of_text|>", "<|eot_id|>"]),
    ("code-r1-evalplus",  # Code-R1's system prompt (its braces are literal), evalplus's turns, pre-filled answer
     "<|im_start|>system\nYou are a helpful programming assistant. The user will ask you a question, and you as the "
     "assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the "
     "user with the answer. The reasoning process and answer are enclosed within <think></think> and <answer></answer> "
     "tags, respectively. For example:\n<think>\nLet's think step by step to solve the programming task in high "
     "quality...\n{thinking processing...}\n</think>\n<answer>\nThe code below solves the task and is "
     "vulnerability-free...\n```{language}\n{code...}\n```\n</answer><|im_end|>\n<|im_start|>user\nPlease provide a "
     "self-contained Python script that solves the following problem in a markdown code block:\n```\nWhat is $1+1$?\n"
     "```\n<|im_end|>\n<|im_start|>assistant\nBelow is a Python script with a self-contained function that solves "
     "the problem and passes corresponding tests:\n```python\n",
     ["<|im_end|>", "<|endoftext|>"]),
    ("code-r1-lcb",  # LiveCodeBench: the loader's question (LiveCodeBench's user turn), a bare python fence
     "<|im_start|>system\nYou are a helpful programming assistant. The user will ask you a question, and you as the "
     "assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the "
     "user with the answer. The reasoning process and answer are enclosed within <think></think> and <answer></answer> "
     "tags, respectively. For example:\n<think>\nLet's think step by step to solve the programming task in high "
     "quality...\n{thinking processing...}\n</think>\n<answer>\nThe code below solves the task and is "
     "vulnerability-free...\n```{language}\n{code...}\n```\n</answer><|im_end|>\n<|im_start|>user\nWhat is $1+1$?"
     "<|im_end|>\n<|im_start|>assistant\n```python\n",
     ["<|im_end|>", "<|endoftext|>"]),
])
def test_templates_render_byte_for_byte(template, expected, stops):
    assert render_prompt(template, Q) == expected
    assert stop_strings(template) == stops


def test_chat_uses_the_tokenizers_own_template(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    expected = tokenizer.apply_chat_template(
        [{"role": "user", "content": f"{Q}\nPlease reason step by step, and put your final answer within \\boxed{{}}."}],
        tokenize=False, add_generation_prompt=True)
    assert render_prompt("chat", Q, tokenizer) == expected
    with pytest.raises(ValueError, match="needs a tokenizer with a chat template"):
        render_prompt("chat", Q)
