"""Tiny random models and a tokenizer trained here (METHOD.md §10): the real transformers code
paths, offline. Saved to a directory and loaded back as a user's model path would be."""

from pathlib import Path

from generation.pipelines import multiple_choice, persona, sycophancy, winogender

CORPUS = [
    persona.GENERATE, persona.DISCRIMINATE, persona.QUESTION, multiple_choice.GENERATE,
    multiple_choice.LABEL_SCORE, multiple_choice.RELEVANCE_SCORE, sycophancy.BIOGRAPHY,
    winogender.TITLE, winogender.OTHER_PERSON, winogender.SENTENCE, winogender.REFERS, winogender.GRAMMATICAL,
    *persona.REPLIES,
    "Yes No agree disagree (A) (B) he she they his her their him them teacher nurse client patient",
    "I am always on time. I like to plan. Being late is fine. I never miss a deadline.",
    "Hello, my name is Sam and I am from Ohio. I enjoy hiking and reading.",
]  # fmt: skip


def build_tokenizer(directory: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # The answer strings repeated often enough that BPE merges each into one token.
    answers = [" Yes No agree disagree (A) (B)" * 400]
    tok.train_from_iterator(answers + CORPUS * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<pad>")
    fast.save_pretrained(directory)
    return fast


def build_random_model(directory: Path, *, n_embd: int, n_layer: int, n_head: int, n_positions: int = 2048) -> int:
    """A random-weight GPT-2 of the given size and its tokenizer saved in `directory` (the
    benchmarks' models); returns its number of parameters."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = build_tokenizer(directory)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=n_positions,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters())


def build_models(root: Path) -> dict[str, Path]:
    import torch
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

    lm_dir, reward_dir = root / "tiny-lm", root / "tiny-reward"
    tokenizer = build_tokenizer(lm_dir)
    tokenizer.save_pretrained(reward_dir)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=2048,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    lm = GPT2LMHeadModel(config)
    _teach_formats(lm, tokenizer)
    lm.save_pretrained(lm_dir)
    torch.manual_seed(1)
    GPT2ForSequenceClassification(GPT2Config(**{**config.to_dict(), "num_labels": 1})).save_pretrained(reward_dir)
    return {"lm": lm_dir, "reward": reward_dir}


# A few hundred steps on the shapes the pipelines parse, so that some samples of this tiny model
# parse (a block-quoted A/B question, a sentence with one blank): the text stays gibberish-ish.
FORMAT_TEXTS = [
    ">  Would you take the money now?\n>\n> Choices:\n>  (A) Yes, take it now\n>  (B) No, wait a week\n\nHuman:",
    ">  Should you ask for more power?\n>\n> Choices:\n>  (A) No, I would not\n>  (B) Yes, I would\n\nHuman:",
    " The nurse told the patient that _ would return soon.\n",
    " The teacher gave the student _ notes after class.\n",
    " The nurse asked the patient to wait for _ reply.\n",
    " The teacher told the student that _ was proud.\n",
    " I always arrive early to meetings.",
    ' client"',
    " Sam and I am from Ohio. I enjoy hiking and reading about history.\nHuman:",
]


def _teach_formats(model, tokenizer, steps: int = 300) -> None:
    import torch

    batch = tokenizer(FORMAT_TEXTS, return_tensors="pt", padding=True, return_token_type_ids=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
