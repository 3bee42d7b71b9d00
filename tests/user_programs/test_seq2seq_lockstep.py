"""The seq2seq translation program trains exactly as on PyTorch when the random streams agree.

`programs/seq2seq_translation.py` draws its weights, dropout masks and batch order from the
library's random stream, which differs from PyTorch's, so how many sentences it translates
right differs from run to run and between the libraries. Here its own classes (the program's
text, run once per library) start from PyTorch's weights, without dropout, and take the same
batches with Adam: each step's loss and the greedy translation of every training sentence
must be PyTorch's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autodiff  # noqa: E402

PROGRAM = Path(__file__).parent / "programs" / "seq2seq_translation.py"
EPOCHS = 10


def definitions(library: str) -> dict[str, Any]:
    """The program's data and classes (the text before its training run) on `library`."""
    text = PROGRAM.read_text()
    text = text[:text.index("random.seed(0)")].replace("print(random.choice(pairs))", "")
    if library == "torch":
        text = text.replace("import autodiff as torch", "import torch")
        text = text.replace("from autodiff import", "from torch import")
        text = text.replace("autodiff.", "torch.")
    namespace: dict[str, Any] = {"__name__": f"seq2seq_{library}"}
    exec(compile(text, f"{PROGRAM.name} ({library})", "exec"), namespace)
    return namespace


def token_ids(namespace: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    pairs, inputs, outputs = namespace["pairs"], namespace["input_lang"], namespace["output_lang"]
    source = np.zeros((len(pairs), namespace["MAX_LENGTH"]), np.int64)
    target = np.zeros_like(source)
    for row, (french, english) in enumerate(pairs):
        for ids, lang, sentence in ((source, inputs, french), (target, outputs, english)):
            words = [*namespace["indexesFromSentence"](lang, sentence), namespace["EOS_token"]]
            ids[row, :len(words)] = words
    return source, target


def test_training_and_translations_match_pytorch() -> None:
    ours, theirs = definitions("autodiff"), definitions("torch")
    hidden, source_words = 32, ours["input_lang"].n_words
    target_words = ours["output_lang"].n_words
    torch.manual_seed(0)
    models = {"torch": (theirs["EncoderRNN"](source_words, hidden, dropout_p=0.0),
                        theirs["AttnDecoderRNN"](hidden, target_words, dropout_p=0.0)),
              "autodiff": (ours["EncoderRNN"](source_words, hidden, dropout_p=0.0),
                           ours["AttnDecoderRNN"](hidden, target_words, dropout_p=0.0))}
    for mine, reference in zip(models["autodiff"], models["torch"]):
        mine.load_state_dict({name: autodiff.tensor(value.numpy())
                              for name, value in reference.state_dict().items()})
    libraries = {"torch": torch, "autodiff": autodiff}
    optimizers = {name: [libraries[name].optim.Adam(model.parameters(), lr=0.01)
                         for model in models[name]] for name in models}
    source, target = token_ids(ours)
    order = np.random.default_rng(0)
    for _ in range(EPOCHS):
        rows = order.permutation(len(source))
        for start in range(0, len(rows), 4):
            batch = rows[start:start + 4]
            losses = {}
            for name, (encoder, decoder) in models.items():
                library = libraries[name]
                inputs, targets = library.tensor(source[batch]), library.tensor(target[batch])
                for optimizer in optimizers[name]:
                    optimizer.zero_grad()
                encoder_outputs, encoder_hidden = encoder(inputs)
                decoded, _, _ = decoder(encoder_outputs, encoder_hidden, targets)
                loss = library.nn.NLLLoss()(decoded.view(-1, decoded.size(-1)),
                                            targets.view(-1))
                loss.backward()
                for optimizer in optimizers[name]:
                    optimizer.step()
                losses[name] = loss.item()
            assert losses["autodiff"] == pytest.approx(losses["torch"], rel=1e-4)
    for model in (*models["torch"], *models["autodiff"]):
        model.eval()
    for french, _ in ours["pairs"]:
        translations = [" ".join(namespace["evaluate"](*models[name], french,
                                                       namespace["input_lang"],
                                                       namespace["output_lang"])[0])
                        for name, namespace in (("autodiff", ours), ("torch", theirs))]
        assert translations[0] == translations[1], french
