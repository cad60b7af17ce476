"""The byte-level model, its scoring and its training, in process (CPU, tiny sizes); the `train.py gpt` /
infer.py command lines are in workflow/test_model_cli.py."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from sandbox.io.jsonl import write_jsonl
from sandbox.proxies import gpt_training as train
from sandbox.proxies.gpt_model import (
    BOS,
    ByteGPT,
    ModelConfig,
    count_parameters,
    default_stride,
    document_windows,
    encode,
    load_checkpoint,
    save_checkpoint,
    score_documents,
)

CPU = torch.device("cpu")
TINY_ARGS = ["--d-model", "32", "--n-layers", "1", "--n-heads", "2", "--seq-len", "32", "--batch-size", "8"]
SENTENCES = [
    "The cat sat on the mat. ",
    "A dog ran in the park. ",
    "We hold these truths to be self-evident. ",
    "Numbers: 1, 2, 3, 4, 5. ",
]


def corpus_records(count: int) -> list[dict[str, Any]]:
    """Repetitive English-like documents, tagged clean, and a few junk ones, tagged noise."""
    records = [{"text": SENTENCES[i % 4] * (3 + i % 5), "meta": {"origin": "clean"}} for i in range(count)]
    records += [{"text": "x9$#qZ!" * (5 + i), "meta": {"origin": "noise:junk"}} for i in range(count // 4)]
    return records


def train_in_process(tmp_path: Path, name: str, *args: str) -> tuple[ByteGPT, list[dict[str, Any]]]:
    """Train with the GPT trainer's own functions (no subprocess start-up); return the model and loss rows."""
    train_file = tmp_path / "train.jsonl"
    if not train_file.exists():
        write_jsonl(train_file, corpus_records(40))
    out_dir = tmp_path / name
    parsed = train.parse_args(["--train", str(train_file), "--eval", str(train_file), "--out-dir",
                               str(out_dir), *args])
    out_dir.mkdir(parents=True)
    stream, _, _ = train.token_stream(parsed.train, "text")
    model, _ = train.train(parsed, stream, CPU, train.Tracker(parsed))
    rows = [json.loads(line) for line in (out_dir / "loss.jsonl").read_text().splitlines()]
    return model, rows


def test_default_model_size() -> None:
    # sized for ~30 s of training on one CPU thread: larger models learn less in that budget
    n_params = count_parameters(ByteGPT(ModelConfig()))
    assert 300_000 <= n_params <= 500_000, n_params


@pytest.mark.parametrize("stride", [1, 5, 8, 16])
def test_document_windows_give_bos_only_at_the_start_and_score_every_byte_once(stride: int) -> None:
    ids = encode("héllo wörld, " * 7)
    tokens = [BOS, *ids]
    windows = document_windows(ids, 16, stride)
    assert [t for _, targets, scored_from in windows for t in targets[scored_from:]] == ids
    first_inputs, _, first_scored = windows[0]
    assert first_inputs[0] == BOS and first_scored == 0 and len(first_inputs) == 16
    scored = 16
    for inputs, targets, scored_from in windows[1:]:
        # mid-document windows see the bytes before them, as training windows do, never BOS
        end = min(len(ids), scored + stride)
        assert (BOS not in inputs and inputs == tokens[end - 16 : end]
                and targets == tokens[end - 15 : end + 1])
        # every scored byte has at least seq_len - stride + 1 tokens of context
        assert scored_from == scored - (end - 16) >= 16 - stride
        scored = end
    assert document_windows([], 16) == [] and document_windows([7], 16) == [([BOS], [7], 0)]
    with pytest.raises(ValueError, match="stride"):
        document_windows(ids, 16, 17)


def brute_force_bits(model: ByteGPT, text: str, seq_len: int, context_start) -> float:
    """Bits of every byte of text, each from its own forward pass over tokens[context_start(t) : t]."""
    tokens = [BOS, *encode(text)]
    bits = 0.0
    with torch.no_grad():
        for t in range(1, len(tokens)):
            context = torch.tensor([tokens[context_start(t) : t]])
            assert 1 <= context.shape[1] <= seq_len
            log_probs = torch.log_softmax(model(context)[0, -1].double(), dim=-1)
            bits -= log_probs[tokens[t]].item() / math.log(2)
    return bits


def test_sliding_window_scores_equal_a_brute_force_per_byte_scoring() -> None:
    torch.manual_seed(0)
    seq_len = 8
    model = ByteGPT(ModelConfig(seq_len=seq_len, d_model=32, n_layers=2, n_heads=2)).eval()
    texts = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "naïve café ☕ " * 2, "the cat sat on the mat " * 2]
    # stride 1: every byte from the full preceding context, up to seq_len tokens (BOS at the start)
    exact = score_documents(model, texts, seq_len, 3, CPU, stride=1)
    for text, (bits, n_bytes) in zip(texts, exact):
        assert n_bytes == len(text.encode("utf-8"))
        assert bits == pytest.approx(brute_force_bits(model, text, seq_len, lambda t: max(0, t - seq_len)),
                                     rel=1e-5, abs=1e-5)
    # the default stride: a byte past the first window is scored by the window ending at most stride later
    stride = default_stride(seq_len)

    def window_start(t: int, n: int) -> int:
        if t <= seq_len:
            return 0
        end = min(n, seq_len + stride * math.ceil((t - seq_len) / stride))
        return end - seq_len

    for text, (bits, _) in zip(texts, score_documents(model, texts, seq_len, 3, CPU)):
        n = len(text.encode("utf-8"))
        assert bits == pytest.approx(brute_force_bits(model, text, seq_len, lambda t: window_start(t, n)),
                                     rel=1e-5, abs=1e-5)


def test_score_documents_predicts_every_byte_exactly_once() -> None:
    torch.manual_seed(0)
    model = ByteGPT(ModelConfig(seq_len=16, d_model=32, n_layers=1, n_heads=2))
    texts = ["", "a", "x" * 16, "y" * 17, "naïve café ☕ " * 9, "z" * 100]
    scores = score_documents(model, texts, 16, 4, CPU)
    assert [n for _, n in scores] == [len(text.encode("utf-8")) for text in texts]
    assert sum(n for _, n in scores) == sum(len(text.encode("utf-8")) for text in texts)
    assert scores[0] == (0.0, 0)
    # batching and padding must not change any document's score
    one_by_one = score_documents(model, texts, 16, 1, CPU)
    for (bits, _), (alone, _) in zip(scores, one_by_one):
        assert bits == pytest.approx(alone, rel=1e-5, abs=1e-4)
    truncated = score_documents(model, texts, 16, 4, CPU, max_bytes=10)
    assert [n for _, n in truncated] == [min(10, len(text.encode("utf-8"))) for text in texts]


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = ByteGPT(ModelConfig(seq_len=16, d_model=32, n_layers=1, n_heads=2))
    save_checkpoint(tmp_path / "model.pt", model, {"seed": 0})
    loaded, checkpoint = load_checkpoint(tmp_path / "model.pt", CPU)
    assert checkpoint["train_config"] == {"seed": 0} and loaded.config == model.config
    assert (score_documents(loaded, ["abc" * 20], 16, 8, CPU)
            == score_documents(model, ["abc" * 20], 16, 8, CPU))


def test_the_training_walk_takes_every_window_once_per_epoch() -> None:
    # BOS "abcdefghij" BOS "klm" BOS "nopqrstu": 24 tokens, 23 targets, windows of at most 5
    stream = torch.tensor([BOS, *b"abcdefghij", BOS, *b"klm", BOS, *b"nopqrstu"], dtype=torch.int16)
    walk = train.WindowWalk(stream, 5, seed=3)
    drawn = torch.cat([walk.next_windows(3) for _ in range(6)])  # 18 windows: 3 epochs and a bit
    epochs, position = [], 0
    for _ in range(3):
        # an epoch: windows that predict every target exactly once, each at most 5 long
        covered: list[int] = []
        first = position
        while sorted(covered) != list(range(1, 24)):
            start, count = drawn[position].tolist()
            assert 1 <= count <= 5 and not set(range(start + 1, start + count + 1)) & set(covered)
            covered += range(start + 1, start + count + 1)
            position += 1
        epochs.append(drawn[first:position, 0].tolist())
    assert position < len(drawn) and len({tuple(starts) for starts in epochs}) > 1  # fresh cuts or order
    # drawn three at a time or all at once, the order is the same
    assert torch.equal(train.WindowWalk(stream, 5, seed=3).next_windows(18), drawn)
    assert (walk.targets_seen == int(drawn[:, 1].sum())
            and walk.epochs == pytest.approx(walk.targets_seen / 23))
    assert walk.distinct_bytes() == 21  # everything: the 21 bytes, BOS not counted
    # part of an epoch: the distinct bytes are those the drawn windows predict
    part = train.WindowWalk(stream, 5, seed=0)
    first = part.next_windows(2).tolist()
    predicted = {position for start, count in first for position in range(start + 1, start + count + 1)}
    assert part.distinct_bytes() == sum(1 for position in predicted if stream[position] != BOS)
    assert part.exposure() == {"train_symbols": sum(count for _, count in first),
                               "distinct_train_bytes": part.distinct_bytes(), "epochs": part.epochs}
    # a batch: inputs are the tokens before the targets; past a window's cut, IGNORE targets
    inputs, targets = train.WindowWalk(stream, 5, seed=0).next_batch(6)
    for row, (start, count) in enumerate(train.WindowWalk(stream, 5, seed=0).next_windows(6).tolist()):
        assert targets[row, :count].tolist() == stream[start + 1 : start + 1 + count].tolist()
        assert inputs[row, :count].tolist() == stream[start : start + count].tolist()
        assert (targets[row, count:] == train.IGNORE).all() and (inputs[row] >= 0).all()


def test_training_reduces_loss(tmp_path: Path) -> None:
    steps = ["--steps", "80", "--warmup-steps", "8", "--lr", "1e-2"]
    model, rows = train_in_process(tmp_path, "run", *TINY_ARGS, "--d-model", "64", *steps)
    # tokens seen are the targets of the 80 x 8 windows walked: the budget, less the short first
    # and last windows of the stream in each epoch
    walk = train.WindowWalk(train.token_stream(tmp_path / "train.jsonl", "text")[0], 32, seed=0)
    walk.next_windows(80 * 8)
    assert rows[-1]["step"] == 80 and rows[-1]["tokens_seen"] == walk.targets_seen
    assert 80 * 8 * 32 - 2 * 32 * math.ceil(walk.epochs) < walk.targets_seen <= 80 * 8 * 32
    assert rows[-1]["loss"] < 0.5 * rows[0]["loss"], [row["loss"] for row in rows]
    bits, n_bytes = score_documents(model, [SENTENCES[0] * 4], 32, 8, CPU)[0]
    assert bits / n_bytes < 3.5  # uniform guessing over bytes is 8 bits per byte


def test_same_seed_same_model_other_seed_differs(tmp_path: Path) -> None:
    short = [*TINY_ARGS, "--steps", "15", "--warmup-steps", "3", "--log-every", "5"]
    model_a, rows_a = train_in_process(tmp_path, "a", *short, "--seed", "0")
    model_b, rows_b = train_in_process(tmp_path, "b", *short, "--seed", "0")
    model_c, rows_c = train_in_process(tmp_path, "c", *short, "--seed", "1")

    def without_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{key: value for key, value in row.items() if key != "elapsed_s"} for row in rows]

    state_a, state_b, state_c = model_a.state_dict(), model_b.state_dict(), model_c.state_dict()
    assert all(torch.equal(state_a[name], state_b[name]) for name in state_a)
    assert without_time(rows_a) == without_time(rows_b)
    assert not all(torch.equal(state_a[name], state_c[name]) for name in state_a)
    assert without_time(rows_a) != without_time(rows_c)


def set_parameters(model: ByteGPT, value: float) -> None:
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(value)


def test_ema_is_the_bias_corrected_weighted_mean_of_the_steps() -> None:
    model = ByteGPT(ModelConfig(seq_len=16, d_model=32, n_layers=1, n_heads=2))
    decay, values = 0.5, [1.0, 2.0, 3.0]
    average = train.WeightAverage(model, ema_decay=decay)
    for value in values:
        set_parameters(model, value)  # in place, as the optimiser updates them
        average.after_step()
    weights = [(1 - decay) * decay ** (len(values) - 1 - i) for i in range(len(values))]
    expected = sum(w * v for w, v in zip(weights, values)) / sum(weights)  # 2.4286, not the last step's 3
    averaged = ByteGPT(model.config)
    average.load_into(averaged)
    assert all(torch.allclose(p, torch.full_like(p, expected)) for p in averaged.parameters())
    assert all(torch.equal(p, torch.full_like(p, 3.0)) for p in model.parameters())


def test_average_last_is_the_mean_of_the_last_k_log_steps() -> None:
    model = ByteGPT(ModelConfig(seq_len=16, d_model=32, n_layers=1, n_heads=2))
    average = train.WeightAverage(model, average_last=2)
    for value in (1.0, 2.0, 3.0):
        set_parameters(model, value)
        average.after_step()
        average.at_log_step()
    averaged = ByteGPT(model.config)
    average.load_into(averaged)
    assert all(torch.allclose(p, torch.full_like(p, 2.5)) for p in averaged.parameters())


def test_learning_rate_warms_up_then_decays_to_the_floor() -> None:
    assert train.learning_rate(5, 1.0, 10, 100) == pytest.approx(0.5)
    assert train.learning_rate(10, 1.0, 10, 100) == pytest.approx(1.0)
    assert train.learning_rate(100, 1.0, 10, 100) == pytest.approx(0.1)
    assert train.learning_rate(100, 1.0, 10, 100, min_ratio=0.0) == pytest.approx(0.0)
    assert train.learning_rate(1, 1.0, 0, 100, min_ratio=0.0) == pytest.approx(1.0, rel=1e-3)
